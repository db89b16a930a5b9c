"""Sphinx configuration for pathad's documentation site.

Build it (``pip install -e ".[docs]"`` first) with

    sphinx-build -W --keep-going -b html docs docs/_build/html

The guide pages, the notebooks, the figures gallery and the examples are not kept
in docs/: each build writes them into docs/_generated/ from the repository's own
README.md, notebooks/, figures/ and examples/, so the site never drifts from them.
docs/_generated/ mirrors the repository's layout, so the README's relative links
(``notebooks/01_computation_graphs.ipynb``, ``figures/fig3a.png``, ...) resolve
as they do on the repository.

Three environment variables serve tests/test_docs.py, which builds a copy of docs/
in a temporary folder: ``PATHAD_DOCS_REPO`` names the repository the copy reads,
``PATHAD_DOCS_NOTEBOOKS=off`` renders the notebooks without running them, and
``PATHAD_DOCS_API=MOD,MOD`` limits the API reference to pathad and those modules.
"""

import ast
import importlib
import os
import re
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = Path(os.environ.get("PATHAD_DOCS_REPO", DOCS.parent))  # a copy of docs/ elsewhere reads this repository
GENERATED = DOCS / "_generated"
sys.path.insert(0, str(ROOT))

import pathad  # noqa: E402

project = "pathad"
author = "pathad authors"
copyright = "2026, pathad authors"
release = version = pathad.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "myst_nb",  # markdown pages (it brings myst-parser) and the notebooks
]
templates_path = ["_templates"]
exclude_patterns = [
    "_generated/guide-toc.md",
    "_generated/index-intro.md",
    "_build",
    "**.ipynb_checkpoints",
    "_generated/**/jupyter_execute",
]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
html_theme = "alabaster"
html_title = f"pathad {release}"
html_theme_options = {"description": "Automatic differentiation as a path problem", "page_width": "1100px"}

# The public modules, in the order the API reference lists them (pathad itself first).
API_MODULES = [
    "pathad",
    "pathad.tracing",
    "pathad.derivatives",
    "pathad.second",
    "pathad.transform",
    "pathad.source",
    "pathad.solver",
    "pathad.semirings",
    "pathad.enumeration",
    "pathad.cost",
    "pathad.planner",
    "pathad.coloring",
    "pathad.elimination",
    "pathad.regions",
    "pathad.compiled",
    "pathad.symbolic",
    "pathad.dual",
    "pathad.functions",
    "pathad.primitives",
    "pathad.operators",
    "pathad.draw",
    "pathad.animate",
    "pathad.pages",
    "pathad.io",
    "pathad.nn",
    "pathad.training",
    "pathad.datasets",
    "pathad.expressions",
    "pathad.figures",
    "pathad.errors",
    "pathad.cli",
]
if os.environ.get("PATHAD_DOCS_API"):
    API_MODULES = ["pathad", *(m for m in os.environ["PATHAD_DOCS_API"].split(",") if m and m != "pathad")]

# Docstrings are numpy style, with reST roles in the prose.
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_use_param = False  # types as written ("node or list of nodes"), not guessed cross-references
autosummary_generate = True
autosummary_ignore_module_all = False  # a module's members are its __all__
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"


def _bars():
    """``|L|``, ``|partial|``, ...: the docstrings' absolute values and sizes, kept as written.

    reST reads ``|x|`` as a substitution; each one the sources use is defined as itself.
    """
    found = set()
    for source in (ROOT / "pathad").rglob("*.py"):
        found.update(re.findall(r"(?<![|\w`])\|(\w[\w ]{0,30}(?<! ))\|(?![|\w])", source.read_text()))
    return "\n".join(f".. |{name}| replace:: \\|{name}\\|" for name in sorted(found))


rst_prolog = _bars()

# Notebooks: committed without outputs, so the build runs them (each in a fresh kernel).
nb_execution_mode = os.environ.get("PATHAD_DOCS_NOTEBOOKS", "force")
nb_execution_timeout = 300
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True
myst_enable_extensions = ["dollarmath"]
# The pages are the repository's own files: a header level that skips one is theirs to keep.
suppress_warnings = ["myst.header"]


# --- pages written from the repository's files --------------------------------------------------


def _slug(title):
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def _sections(markdown):
    """The README cut at its ``## `` headings (outside code fences): (title, text) pairs, intro first."""
    sections, title, lines, fence = [], None, [], False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fence = not fence
        if not fence and line.startswith("## "):
            sections.append((title, lines))
            title, lines = line[3:].strip(), []
        elif not fence and line.startswith("# ") and title is None and not lines:
            continue  # the README's own title: the index page has it
        else:
            lines.append(line)
    sections.append((title, lines))
    return sections


def _page(title, lines):
    """One README section as a page: its ``##`` heading made the page title, its subheadings raised."""
    body, fence = [], False
    for line in lines:
        if line.startswith("```"):
            fence = not fence
        if not fence and line.startswith("###"):
            line = line[1:]
        # A link to a folder goes to that folder's page.
        line = re.sub(r"\]\((figures|notebooks|examples)/\)", r"](\1/index.md)", line)
        body.append(line)
    return f"# {title}\n\n" + "\n".join(body).strip() + "\n"


def _first_line(doc):
    return (doc or "").strip().split("\n")[0].rstrip(".")


def _figure_captions():
    """Each figure's caption: the first line of the docstring of the function that draws it."""
    from pathad import figures

    captions = {name: _first_line(fn.__doc__) for name, fn in figures.FIGURES.items()}
    captions.update({f"waist{i}": f"Elimination of the waist in Markowitz order, after step {i}" for i in range(6)})
    return captions


def _gallery(figures):
    captions = _figure_captions()
    out = [
        "# Figures",
        "",
        "Every figure in the repository's `figures/` folder.",
        "`pathad figures --out figures/` redraws the drawings, `python examples/animate_h.py figures` the sweeps.",
        "",
    ]
    for png in sorted(figures.glob("*.png")):
        name = png.stem
        caption = captions.get(name) or name
        links = [
            f"[{p.suffix[1:]}]({p.name})" for p in (png.with_suffix(".svg"), png.with_suffix(".html")) if p.exists()
        ]
        if name.startswith("sweep"):
            caption = f"The sweep of Fig. {name[-2:]} at its last step (the page steps through it)"
        out += [
            f"## {name}",
            "",
            f"```{{figure}} {png.name}",
            f":alt: {caption}",
            ":width: 90%",
            "",
            caption + ("; also as " + ", ".join(links) if links else "") + ".",
            "```",
            "",
        ]
    return "\n".join(out)


def _examples(examples):
    out = [
        "# Worked examples",
        "",
        "Each script redoes a worked example of the source texts, prints it and checks its numbers "
        "(run it from a clone: `python examples/NAME.py`).",
        "",
    ]
    for script in sorted(examples.glob("*.py")):
        doc = ast.get_docstring(ast.parse(script.read_text()))
        out += [f"## {script.name}", "", (doc or "").strip(), "", f"```{{literalinclude}} {script.name}", "```", ""]
    return "\n".join(out)


def _notebooks_index(notebooks):
    names = "\n".join(p.stem for p in sorted(notebooks.glob("*.ipynb")))
    return (
        "# Notebooks\n\n"
        "A short course that follows the lecture, one notebook per topic. The repository keeps them "
        "without outputs; this site shows each one as it ran for this build.\n\n"
        f"```{{toctree}}\n:maxdepth: 1\n\n{names}\n```\n"
    )


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:  # unchanged files keep Sphinx's cache valid
        path.write_text(text)


def _copy_tree(source, target, patterns):
    target.mkdir(parents=True, exist_ok=True)
    wanted = {p.name for pattern in patterns for p in source.glob(pattern)}
    for stale in target.iterdir():
        if stale.is_file() and stale.name not in wanted and stale.name != "index.md":
            stale.unlink()
    for name in sorted(wanted):
        if not (target / name).exists() or (target / name).read_bytes() != (source / name).read_bytes():
            shutil.copyfile(source / name, target / name)


def _api(modules):
    """The API reference: a page for pathad itself (its docstring and names), then one per public module."""
    top = [name for name in pathad.__all__ if not isinstance(getattr(pathad, name), type(pathad))]
    # Functions and classes with their summary lines; the data (semirings, tables) by name, since
    # a summary line would be their type's docstring.
    listed = "\n".join(f"   {name}" for name in top if callable(getattr(pathad, name)))
    data = ", ".join(f":data:`{name}`" for name in top if not callable(getattr(pathad, name)))
    pages = "\n".join(f"   {m}" for m in modules if m != "pathad")
    index = f"""API reference
=============

Generated from the docstrings: ``pathad`` itself, then each public module.

.. toctree::
   :maxdepth: 1

   pathad

.. autosummary::
   :toctree: generated
   :template: pathad-module.rst

{pages}
"""
    toplevel = f"""pathad
======

.. automodule:: pathad
   :no-members:

Every name below is importable from ``pathad`` itself and documented in the module
that defines it.

.. autosummary::
   :nosignatures:

{listed}

And the data: {data}.
"""
    return index, toplevel


def generate():
    sections = _sections((ROOT / "README.md").read_text())
    intro, guide = sections[0][1], sections[1:]
    slugs = [f"{i:02d}-{_slug(title)}" for i, (title, _) in enumerate(guide, 1)]
    for slug, (title, lines) in zip(slugs, guide):
        _write(GENERATED / f"{slug}.md", _page(title, lines))
    for stale in GENERATED.glob("[0-9][0-9]-*.md"):
        if stale.stem not in slugs:
            stale.unlink()
    toc = "\n".join(f"/_generated/{slug}" for slug in slugs)
    _write(
        GENERATED / "index-intro.md",
        "\n".join(intro).strip() + "\n",
    )
    _write(
        GENERATED / "guide-toc.md",
        f"```{{toctree}}\n:caption: Guide (the README)\n:maxdepth: 1\n\n{toc}\n```\n",
    )
    _copy_tree(ROOT / "figures", GENERATED / "figures", ["*.png", "*.svg", "*.html"])
    _write(GENERATED / "figures" / "index.md", _gallery(ROOT / "figures"))
    _copy_tree(ROOT / "notebooks", GENERATED / "notebooks", ["*.ipynb"])
    _write(GENERATED / "notebooks" / "index.md", _notebooks_index(ROOT / "notebooks"))
    _copy_tree(ROOT / "examples", GENERATED / "examples", ["*.py"])
    _write(GENERATED / "examples" / "index.md", _examples(ROOT / "examples"))
    index, toplevel = _api(API_MODULES)
    _write(GENERATED / "api" / "index.rst", index)
    _write(GENERATED / "api" / "pathad.rst", toplevel)


generate()


# --- cross-references to pathad's top-level names ------------------------------------------------

_defined_in = {}  # id(object) -> "pathad.module.name", where its module's page documents it
for _module in API_MODULES[1:]:
    _mod = importlib.import_module(_module)
    for _name in getattr(_mod, "__all__", []):
        _defined_in.setdefault(id(getattr(_mod, _name)), f"{_module}.{_name}")


def _resolve_toplevel(app, env, node, contnode):
    """``pathad.gradient`` (and ``pathad.tracing.Trace`` re-exported elsewhere) link to the page that documents it."""
    target = node.get("reftarget", "")
    if node.get("refdomain") != "py" or not target.startswith("pathad."):
        return None
    try:
        obj = _getattr_path(pathad, target[len("pathad.") :])
    except AttributeError:
        return None
    canonical = _defined_in.get(id(obj))
    if canonical is None or canonical == target:
        return None
    domain = env.get_domain("py")
    return domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"], canonical, node, contnode)


def _getattr_path(obj, dotted):
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def _plain_type_words(app, doctree):
    """A type written as a word ("tail, head : node", "value : array") is prose, not a link.

    The Python domain looks such a word up as a name anywhere, finds attributes called ``node`` or
    ``value`` on unrelated classes, and links to one of them; the word stays plain text instead.
    """
    from sphinx.addnodes import pending_xref

    for ref in list(doctree.findall(pending_xref)):
        target = ref.get("reftarget", "")
        if (
            ref.get("refdomain") == "py"
            and ref.hasattr("refspecific")
            and re.fullmatch(r"[a-z_]+", target)
            and not hasattr(pathad, target)
            and not hasattr(__import__("builtins"), target)
        ):
            ref.replace_self(ref.children)


def setup(app):
    app.connect("missing-reference", _resolve_toplevel)
    app.connect("doctree-read", _plain_type_words)
