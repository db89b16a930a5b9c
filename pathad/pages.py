"""Self-contained web pages that step through a computation: the page, its file, its picture, its Jupyter view.

A :class:`Page` is what :func:`pathad.animate` and
:func:`pathad.animate_elimination` return.  Its subclass gives ``steps``,
``title``, ``legend`` (HTML), ``svg`` (the first drawing) and :meth:`Page.data`
(what the page's script reads); this module turns them into one HTML file
(``pathad/data/animation.html``: the drawing inline, plain JavaScript, nothing
fetched), writes it atomically, shows it in Jupyter and photographs it.
"""

import html
import json
import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import MissingDependencyError
from .files import replacing
from .types import FilePath

__all__ = ["Page", "find_chromium"]


class Page:
    """The page-making half of an animation (see the module docstring for what a subclass provides)."""

    legend = ""
    # set by every subclass
    steps: list
    title: str
    svg: str

    def __len__(self) -> int:
        return len(self.steps)

    def data(self) -> dict[str, Any]:  # pragma: no cover - every subclass has its own
        raise NotImplementedError

    def html(self) -> str:
        """The page: one HTML document with the drawing, the steps and the player; nothing to fetch."""
        page = resources.files("pathad").joinpath("data/animation.html").read_text(encoding="utf-8")
        data = json.dumps(self.data(), ensure_ascii=False).replace("</", "<\\/")  # no "</script>" inside
        return (
            page.replace("{{title}}", html.escape(self.title))
            .replace("{{legend}}", self.legend)
            .replace("{{svg}}", inline_svg(self.svg))
            .replace("{{data}}", data)
        )

    def save(self, path: FilePath) -> FilePath:
        """Write the page to ``path`` (complete or not at all); return the path."""
        text = self.html()
        with replacing(path) as file:
            file.write(text)
        return path

    def screenshot(self, path: FilePath, step: int = -1, *, browser: str | None = None, width: int = 980) -> FilePath:
        """Write a PNG of the page at ``step`` (default: the last), taken in headless Chromium.

        Needs the ``playwright`` package and a Chromium: ``browser`` is its
        executable (default: ``$PATHAD_CHROMIUM``, else ``chromium`` on the PATH).
        The file appears complete or not at all; returns the path.
        """
        executable = browser or os.environ.get("PATHAD_CHROMIUM") or find_chromium()
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            raise MissingDependencyError("screenshots need playwright: pip install playwright") from None
        if executable is None:
            raise MissingDependencyError("screenshots need Chromium: apt-get install chromium, or pass browser=")
        position = step if step >= 0 else len(self.steps) + step
        if not 0 <= position < len(self.steps):
            raise IndexError(f"step {step}: there are {len(self.steps)} steps")
        with tempfile.TemporaryDirectory() as folder:
            page_file = Path(folder) / "page.html"
            page_file.write_text(self.html(), encoding="utf-8")
            with sync_playwright() as p:
                chromium = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
                try:
                    page = chromium.new_page(viewport={"width": width, "height": 600}, device_scale_factor=2)
                    page.goto(page_file.as_uri())
                    page.evaluate(f"show({position})")
                    image = page.screenshot(full_page=True)
                finally:
                    chromium.close()
        with replacing(path, "wb") as file:
            file.write(image)
        return path

    def _repr_html_(self):
        """Jupyter: the page in an iframe of its own (its script runs there, apart from the notebook's)."""
        page = html.escape(self.html(), quote=True)
        height = max(420, min(900, svg_height(self.svg) + 190))
        return (
            f'<iframe srcdoc="{page}" style="width: 100%; height: {height}px; border: 1px solid #d0d7de" '
            'title="pathad animation"></iframe>'
        )


def find_chromium():
    """The path of a Chromium (or Chrome) on the PATH, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def swatch(colour, text):
    """One legend line: a short line in ``colour``, then ``text``."""
    return f'<div><span class="swatch" style="border-color: {colour}"></span>{html.escape(text)}</div>'


def inline_svg(svg):
    """The rendered SVG without its XML prolog and DOCTYPE, ready to sit inside HTML."""
    text = svg.decode("utf-8") if isinstance(svg, bytes) else svg
    start = text.find("<svg")
    return text[start:] if start >= 0 else text


def svg_height(svg):
    """The SVG's height in CSS pixels (400 when it does not say)."""
    text = svg.decode("utf-8") if isinstance(svg, bytes) else svg
    marker = text.find('height="')
    if marker < 0:
        return 400
    number = text[marker + 8 : text.find('"', marker + 8)].rstrip("pt")
    try:
        return int(float(number) * 4 / 3)
    except ValueError:
        return 400
