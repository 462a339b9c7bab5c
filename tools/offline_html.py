"""HTML from the notebooks that works offline: reveal.js slide decks and plain pages.

Everything a page needs is a file next to it: ``copy_assets(dest)`` copies the pinned JavaScript that
``make web`` installs into web/node_modules (reveal.js, MathJax 2, require.js, jQuery) into
``dest/_static/``, and ``html_exporter(kind, static_url)`` returns an nbconvert exporter whose pages load
their scripts, styles and fonts from ``static_url`` only. So a folder of pages plus its ``_static`` can
be served by any web server, or copied to a USB stick and opened from file://, with no network at all.

The exporters use the templates in tools/templates, which extend nbconvert's reveal and lab templates
and leave out their two ways to reach a CDN: the mermaid diagram loader and the widget manager. Live
widgets need a kernel; in a static page each widget shows the picture it stored as an ``image/png``
fallback (``WidgetPngFallback``).
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

from nbconvert.exporters import HTMLExporter, SlidesExporter, TemplateExporter
from nbconvert.preprocessors import Preprocessor

__all__ = ["REPO", "WEB_MODULES", "TEMPLATES", "ASSETS", "STATIC_DIR_NAME", "EXPORTER_KINDS",
           "WidgetPngFallback", "NotebookLinks", "copy_assets", "asset_urls", "html_exporter"]

REPO = Path(__file__).resolve().parents[1]
WEB_MODULES = REPO / "web" / "node_modules"
TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC_DIR_NAME = "_static"

# The files of each npm package that the pages load, relative to the package's folder (a folder is
# copied whole), with the package's licence.
ASSETS = {
    "reveal.js": ["LICENSE", "dist/reveal.css", "dist/reveal.js", "dist/theme/white.css",
                  "dist/theme/fonts/source-sans-pro", "plugin/notes/notes.js"],
    "mathjax": ["LICENSE", "MathJax.js", "config/TeX-AMS_CHTML-full.js", "config/Safe.js", "extensions",
                "jax/input/TeX", "jax/element", "jax/output/CommonHTML", "fonts/HTML-CSS/TeX/woff",
                "fonts/HTML-CSS/TeX/otf", "localization/en"],
    "requirejs": ["require.js"],  # its licence is the header of require.js
    "jquery": ["LICENSE.txt", "dist/jquery.min.js"],
}

# kind -> (exporter class, template folder in TEMPLATES, file name suffix of its pages)
EXPORTER_KINDS = {
    "slides": (SlidesExporter, "offline_slides", ".slides.html"),
    "page": (HTMLExporter, "offline_page", ".html"),
}

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


class WidgetPngFallback(Preprocessor):
    """Replace every widget view in the outputs by the widget's ``image/png`` fallback.

    A widget view can only be drawn by a running kernel (or from widget state, which the notebooks do
    not store); the widgets of lrlib put a PNG of their current picture next to the view, and that
    picture is what a static page shows. A widget without a PNG keeps its ``text/plain`` description.
    """

    def preprocess_cell(self, cell, resources, index):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            data.pop(WIDGET_VIEW, None)
        return cell, resources


class NotebookLinks(Preprocessor):
    """Point the markdown links to other notebooks of the collection (``02_step_decay.ipynb``,
    ``02_step_decay.ipynb#section``) at their pages: ``02_step_decay`` + ``suffix``. Links with a scheme
    (https:, mailto:) or a folder are left as they are."""

    LINK = re.compile(r"(\]\(|href=[\"'])([\w.-]+)\.ipynb(?=[)#\"'])")

    def __init__(self, suffix: str, **kwargs):
        super().__init__(**kwargs)
        self.suffix = suffix

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "markdown":
            cell.source = self.LINK.sub(lambda match: f"{match[1]}{match[2]}{self.suffix}", cell.source)
        return cell, resources


def copy_assets(dest: Path, node_modules: Path = WEB_MODULES) -> Path:
    """Copy the JavaScript, styles and fonts the pages load (the ASSETS of ``node_modules``) into
    ``dest/_static/``; returns that folder. Files already there are overwritten."""
    dest = Path(dest)
    missing = [f"{package}/{relative}" for package, files in ASSETS.items() for relative in files
               if not (node_modules / package / relative).exists()]
    if missing:
        raise FileNotFoundError(f"node_modules={node_modules} lacks {', '.join(missing)}: run `make web` "
                                "to install the pinned web assets")
    static = dest / STATIC_DIR_NAME
    for package, files in ASSETS.items():
        for relative in files:
            source, target = node_modules / package / relative, static / package / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, target, dirs_exist_ok=True)
            else:
                shutil.copy2(source, target)
    return static


def asset_urls(static_url: str) -> dict[str, str]:
    """The URL of each script the pages load, under ``static_url`` (the URL of the copied _static)."""
    if not isinstance(static_url, str) or not static_url.strip("/"):
        raise ValueError(f"static_url must be a non-empty URL such as '_static', got {static_url!r}")
    base = static_url.rstrip("/")
    return {
        "reveal_url_prefix": f"{base}/reveal.js",
        "require_js_url": f"{base}/requirejs/require.js",
        "jquery_url": f"{base}/jquery/dist/jquery.min.js",
        "mathjax_url": f"{base}/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe",
    }


def html_exporter(kind: str, static_url: str, link_suffix: str | None = None) -> TemplateExporter:
    """An nbconvert exporter for ``kind`` "slides" (a reveal.js deck) or "page" (JupyterLab's HTML
    look), whose pages load every asset from ``static_url`` (relative to the page, e.g. "_static" for
    pages next to the folder copy_assets made, "../_static" for pages one folder down), and show widgets
    as their PNG fallback. Links to other notebooks point at their pages in the same folder, named
    notebook stem + ``link_suffix`` (default ".slides.html" for slides, ".html" for pages).
    ``exporter.from_filename(path)`` returns the HTML and its resources."""
    if kind not in EXPORTER_KINDS:
        raise ValueError(f"kind must be one of {sorted(EXPORTER_KINDS)}, got {kind!r}")
    exporter_class, template_name, page_suffix = EXPORTER_KINDS[kind]
    urls = asset_urls(static_url)
    settings = dict(template_name=template_name, extra_template_basedirs=[str(TEMPLATES)],
                    require_js_url=urls["require_js_url"], mathjax_url=urls["mathjax_url"],
                    jquery_url=urls["jquery_url"])
    if kind == "slides":
        settings.update(reveal_url_prefix=urls["reveal_url_prefix"], reveal_theme="white",
                        reveal_width="1280", reveal_height="720", reveal_number="c/t",
                        reveal_scroll=True)
    exporter = exporter_class(**settings)
    exporter.register_preprocessor(WidgetPngFallback(), enabled=True)
    exporter.register_preprocessor(NotebookLinks(page_suffix if link_suffix is None else link_suffix),
                                   enabled=True)
    return exporter
