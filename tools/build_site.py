"""The offline site: the collection as static HTML pages, for reading without Python, on a phone included.

``build(out_dir)`` writes into ``out_dir`` (``make site``: build/site):

- ``index.html``: the collection's title and opening paragraph and the notebook table, all three read
  from README.md, each notebook linked to its page;
- one page per notebook, ``NN_name.html``, with the outputs as committed, each widget shown as the
  picture it stored (its ``image/png`` fallback), and a bar linking the previous and next notebook;
- ``readme.html``: README.md itself;
- ``_static/``: the pinned MathJax (and the other web assets of tools/offline_html.py) and ``site.css``.

The pages are made by tools/offline_html.py's "page" exporter, so they load scripts, styles and fonts from
``_static`` only; no request leaves the site. Links between notebooks (``NN_name.ipynb#anchor``) point at
their pages, README.md at readme.html; a link to any other file of the repository (``../data/...``) is
not part of the site, so it is kept as plain text with the file's path in its tooltip.
"""
from __future__ import annotations

import argparse
import html
import posixpath
import re
import shutil
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat

from tools.offline_html import STATIC_DIR_NAME, copy_assets, html_exporter

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
README = REPO / "README.md"
DEFAULT_OUT = REPO / "build" / "site"
SITE_CSS = Path(__file__).resolve().parent / "site.css"
INDEX_PAGE, README_PAGE = "index.html", "readme.html"

TABLE_ROW = re.compile(r"^\s*\|(.*)\|\s*$")
TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
LINK_ATTRIBUTE = re.compile(r"""(<a\b[^>]*?\s)href=(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)


def readme_parts(readme_text: str) -> dict:
    """The parts of README.md the index shows: its title (the first "# " heading), its first paragraph,
    and the notebook table (the first table with a "notebook" column) as a list of markdown lines."""
    lines = readme_text.splitlines()
    titles = [line[2:].strip() for line in lines if line.startswith("# ")]
    if not titles:
        raise ValueError("readme_text has no '# ' title line")
    start = lines.index(f"# {titles[0]}") + 1
    while start < len(lines) and not lines[start].strip():
        start += 1
    end = start
    while end < len(lines) and lines[end].strip():
        end += 1
    table = []
    for index, line in enumerate(lines[:-1]):
        header = TABLE_ROW.match(line)
        if (header and TABLE_RULE.match(lines[index + 1])
                and any(cell.strip().lower() == "notebook" for cell in header.group(1).split("|"))):
            table = [line]
            for row in lines[index + 1:]:
                if not TABLE_ROW.match(row):
                    break
                table.append(row)
            break
    if len(table) < 3:
        raise ValueError("readme_text has no markdown table with a 'notebook' column and at least one row")
    return {"title": titles[0], "opening": "\n".join(lines[start:end]), "table": table}


def page_name(notebook: Path) -> str:
    """The site page of a notebook: ``02_step_decay.ipynb`` -> ``02_step_decay.html``."""
    return Path(notebook).stem + ".html"


def site_target(url: str, source_dir: str, pages: set[str]) -> str | None:
    """Where a link of a page made from a file in ``source_dir`` (a folder of the repository, "" for its
    root) points in the site: the same URL when it is external, in-page or already a page of ``pages``;
    the page of a notebook or of README.md; None for any other file of the repository."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path:  # https:, mailto:, data:, //host, "#anchor"
        return url
    fragment = f"#{parts.fragment}" if parts.fragment else ""
    if parts.path in pages:
        return url
    path = posixpath.normpath(posixpath.join(source_dir, unquote(parts.path)))
    if posixpath.dirname(path) == "notebooks" and path.endswith(".ipynb"):
        page = page_name(Path(path))
        return page + fragment if page in pages else None
    if path == "README.md":
        return README_PAGE + fragment
    return None


def rewrite_links(page_html: str, source_dir: str, pages: set[str]) -> str:
    """Point every ``<a href>`` of a page at its target in the site (see site_target); a link to a file
    that is not in the site loses its href and keeps its text, with the file's path as its tooltip."""
    def rewrite(match):
        opening, quote, url = match[1], match[2], html.unescape(match[3])
        target = site_target(url, source_dir, pages)
        if target is None:
            path = posixpath.normpath(posixpath.join(source_dir, urlsplit(url).path))
            return f'{opening}class="not-in-site" title="{html.escape(f"in the repository: {path}")}"'
        return f"{opening}href={quote}{html.escape(target)}{quote}"
    return LINK_ATTRIBUTE.sub(rewrite, page_html)


def navigation(previous: Path | None, following: Path | None) -> str:
    """The bar at the top and bottom of a page: previous notebook, index, next notebook (each if any)."""
    def link(notebook, text):
        return f'<a href="{page_name(notebook)}">{text}</a>' if notebook else "<span></span>"

    def label(notebook):
        return html.escape(notebook.stem.replace("_", " ")) if notebook else ""
    return (f'<nav class="site-nav">{link(previous, f"&larr; {label(previous)}")}'
            f'<a href="{INDEX_PAGE}">index</a>{link(following, f"{label(following)} &rarr;")}</nav>')


def with_site_chrome(page_html: str, nav: str = "") -> str:
    """Add the site's stylesheet to a page, and ``nav`` after the opening and before the closing body."""
    stylesheet = f'<link rel="stylesheet" href="{STATIC_DIR_NAME}/site.css">\n</head>'
    page_html = page_html.replace("</head>", stylesheet, 1)
    if nav:
        page_html = re.sub(r"(<body\b[^>]*>)", lambda m: m[1] + nav, page_html, count=1)
        page_html = page_html.replace("</body>", nav + "</body>", 1)
    return page_html


def export_markdown(exporter, markdown: str, title: str) -> str:
    """A page of the site's look made of one markdown text."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(markdown)])
    page_html, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": title}})
    return page_html


def index_markdown(parts: dict) -> str:
    return "\n\n".join([
        f"# {parts['title']}",
        parts["opening"],
        "\n".join(parts["table"]),
        "These pages show every notebook with its outputs as they are stored; a slider appears as the "
        "picture it last drew (moving it needs Python: `make lab`, see the [README](README.md)).",
    ])


def build(out_dir: Path = DEFAULT_OUT, notebooks=None, readme: Path = README) -> list[Path]:
    """Write the site into ``out_dir`` (created if needed) for ``notebooks`` (default: every notebook of
    notebooks/); returns the pages written."""
    notebooks = sorted(NOTEBOOKS.glob("*.ipynb")) if notebooks is None else [Path(p) for p in notebooks]
    if not notebooks:
        raise ValueError("notebooks is empty: nothing to build")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    static = copy_assets(out_dir)
    shutil.copy2(SITE_CSS, static / "site.css")
    exporter = html_exporter("page", STATIC_DIR_NAME)
    pages = {page_name(path) for path in notebooks} | {INDEX_PAGE, README_PAGE}
    written = []

    def write(name: str, page_html: str, source_dir: str, nav: str = ""):
        target = out_dir / name
        target.write_text(with_site_chrome(rewrite_links(page_html, source_dir, pages), nav), encoding="utf-8")
        written.append(target)

    readme_text = Path(readme).read_text(encoding="utf-8")
    write(INDEX_PAGE, export_markdown(exporter, index_markdown(readme_parts(readme_text)), "index"), "")
    write(README_PAGE, export_markdown(exporter, readme_text, "README"), "", navigation(None, None))
    for index, path in enumerate(notebooks):
        page_html, _ = exporter.from_filename(str(path))
        previous = notebooks[index - 1] if index > 0 else None
        following = notebooks[index + 1] if index + 1 < len(notebooks) else None
        write(page_name(path), page_html, "notebooks", navigation(previous, following))
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder to write into (default: %(default)s)")
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks (default: notebooks/*.ipynb)")
    args = parser.parse_args(argv)
    written = build(args.out, args.notebooks or None)
    print(f"site: {len(written)} pages in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
