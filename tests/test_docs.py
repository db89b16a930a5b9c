"""The documentation site (docs/) builds with Sphinx without a single warning.

The test builds a copy of docs/ into a temporary folder, with the notebooks rendered
unrun and the API reference cut to a few modules, so that it takes seconds; CI
(.ci/run) builds the whole site, notebooks run, with ``sphinx-build -W``.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytest.importorskip("sphinx", reason='the docs extra: pip install -e ".[docs]"')
pytest.importorskip("myst_nb", reason='the docs extra: pip install -e ".[docs]"')


def readme_sections():
    text = re.sub(r"```.*?```", "", (ROOT / "README.md").read_text(), flags=re.S)
    return re.findall(r"^## (.+)$", text, re.M)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("docs")
    source = tmp / "docs"
    shutil.copytree(ROOT / "docs", source, ignore=shutil.ignore_patterns("_build", "_generated"))
    env = {
        **os.environ,
        "PATHAD_DOCS_REPO": str(ROOT),
        "PATHAD_DOCS_NOTEBOOKS": "off",
        "PATHAD_DOCS_API": "pathad.solver,pathad.semirings,pathad.elimination",
    }
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-j", "1", "-q", "-b", "html"]
    result = subprocess.run([*command, str(source), str(tmp / "html")], env=env, capture_output=True, text=True)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
    return tmp / "html"


def test_every_readme_section_is_a_page(site):
    sections = readme_sections()
    pages = sorted((site / "_generated").glob("[0-9][0-9]-*.html"))
    assert len(sections) > 5 and len(pages) == len(sections)
    for title, page in zip(sections, pages):
        assert title.split(":")[0].replace("&", "&amp;") in page.read_text()


def test_the_readme_links_lead_to_pages_of_the_site(site):
    notebooks = (site / "_generated" / "04-notebooks.html").read_text()
    assert 'href="notebooks/01_computation_graphs.html"' in notebooks
    assert 'href="notebooks/index.html"' in notebooks


def test_every_notebook_and_figure_is_on_the_site(site):
    for notebook in (ROOT / "notebooks").glob("*.ipynb"):
        assert (site / "_generated" / "notebooks" / f"{notebook.stem}.html").exists()
    gallery = (site / "_generated" / "figures" / "index.html").read_text()
    for png in (ROOT / "figures").glob("*.png"):
        assert png.name in gallery


def test_api_pages_come_from_the_docstrings(site):
    solver = (site / "_generated" / "api" / "generated" / "pathad.solver.html").read_text()
    assert 'id="pathad.solver.solve"' in solver
    top = (site / "_generated" / "api" / "pathad.html").read_text()
    # pathad.solve, listed on pathad's page, links to where pathad.solver documents it.
    assert 'href="generated/pathad.solver.html#pathad.solver.solve"' in top
