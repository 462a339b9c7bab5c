"""Write a reveal.js slide deck for each notebook, for a lecture hall without network (make slides).

    python -m tools.build_slides [NOTEBOOK ...] [--out build/slides]

Each notebook becomes OUT/<name>.slides.html, laid out for a 1280x720 projector, from the slide
metadata of its cells (slide, subslide, fragment, skip: see README.md, "Slides"); widgets show their
PNG fallback. OUT/index.html lists the decks, and OUT/_static holds reveal.js, MathJax, require.js and
jQuery, so the folder works served or opened from file://, also when copied elsewhere.
"""
from __future__ import annotations

import argparse
import html
import sys
from pathlib import Path

import nbformat

from tools.offline_html import REPO, STATIC_DIR_NAME, copy_assets, html_exporter

DEFAULT_OUT = REPO / "build" / "slides"
SUFFIX = ".slides.html"

INDEX_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Learning-rate decay: slide decks</title>
<style>
body {{ font-family: sans-serif; font-size: 20px; max-width: 48em; margin: 2em auto; padding: 0 1em; }}
ul {{ list-style: none; padding: 0; }}
li {{ margin: 0.4em 0; }}
</style>
</head>
<body>
<h1>Learning-rate decay: slide decks</h1>
<p>Arrow keys move between slides (down: a sub-slide, such as a solution), Esc shows an overview,
F goes full screen.</p>
<ul>
{items}
</ul>
</body>
</html>
"""


def deck_title(notebook: nbformat.NotebookNode, fallback: str) -> str:
    """The text of the notebook's first markdown heading, or ``fallback``."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return fallback


def build_slides(notebooks: list[Path], out: Path) -> list[Path]:
    """Write one deck per notebook into ``out``, the assets into ``out/_static`` and the index page;
    returns the decks' paths."""
    missing = [str(path) for path in notebooks if not path.is_file()]
    if missing:
        raise FileNotFoundError(f"notebooks not found: {', '.join(missing)}")
    out.mkdir(parents=True, exist_ok=True)
    copy_assets(out)
    exporter = html_exporter("slides", STATIC_DIR_NAME)
    decks, items = [], []
    for path in notebooks:
        notebook = nbformat.read(path, as_version=4)
        body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": path.stem}})
        deck = out / f"{path.stem}{SUFFIX}"
        deck.write_text(body, encoding="utf-8")
        decks.append(deck)
        title = deck_title(notebook, path.stem)
        number = path.stem.split("_", 1)[0]
        if not title.startswith(number):  # "Analysing the CIFAR-10 study" -> "11 · Analysing the CIFAR-10 study"
            title = f"{number} · {title}"
        title = html.escape(title)
        items.append(f'<li><a href="{html.escape(deck.name)}">{title}</a></li>')
    (out / "index.html").write_text(INDEX_PAGE.format(items="\n".join(items)), encoding="utf-8")
    return decks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to convert (default: every notebooks/*.ipynb)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((REPO / "notebooks").glob("*.ipynb"))
    decks = build_slides(notebooks, args.out)
    print(f"{len(decks)} decks in {args.out} (open {args.out / 'index.html'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
