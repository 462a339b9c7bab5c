"""The slide metadata of every notebook: each presents as a deck, live in JupyterLab (jupyterlab-slideshow)
and as the static decks of `make slides` (nbconvert).

A deck is cut into slides by ``cell.metadata.slideshow.slide_type``: "slide" starts a slide (right arrow),
"subslide" a sub-slide below it (down arrow), "fragment" cells join the current one, "skip" cells are left
out and "notes" go to the speaker view. A cell without a slide_type continues the current slide. nbconvert
and RISE read a missing slide_type as "-", which means the same; jupyterlab-slideshow 0.3.4 shows a cell
marked "-" on no slide at all, so no cell is marked "-": a cell that continues its slide has no slide_type.

The rules checked here: the title cell and every "## " section start a slide, every "### " heading a
sub-slide; every solution is a sub-slide of its own, right after its exercise, so a lecturer reveals it
with the down arrow and nothing else ends up behind it; and no (sub-)slide is overfull: at most one
figure or widget, at most MAX_CODE_LINES lines of code, and an estimated height (from the cells' text,
code, printed lines and pictures) within MAX_SLIDE_HEIGHT of the 1280x720 deck. The one exception is a
sub-slide that holds a single code cell and nothing else: no slide metadata can make one cell smaller,
and its slide scrolls.
"""
from __future__ import annotations

import base64
import math
import re
import struct
from pathlib import Path

import nbformat
import pytest

from tools.offline_html import html_exporter

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))

# The slide types a cell may carry; a cell without one continues the current slide ("-").
SLIDE_TYPES = {"slide", "subslide", "fragment", "skip", "notes"}
# Twenty lines of code take about 440 of the deck's 720 pixels: with a heading, a sentence and an output
# beside them a slide is full.
MAX_CODE_LINES = 20
FIGURE_TYPES = ("application/vnd.jupyter.widget-view+json", "image/png", "image/jpeg", "image/svg+xml")
# The deck is 720 px high; estimated_height errs by some tens of pixels, more on tables, formulas, long lines.
MAX_SLIDE_HEIGHT = 820
# The live deck's text sizes: notebook metadata that jupyterlab-fonts turns into CSS for the notebook's panel
# while jupyterlab-slideshow presents it.
DECK_STYLE_KEY = "@deathbeds/jupyterlab-fonts"
PRESENTING = "body[data-jp-deck-mode='presenting'] &"
DECK_TEXT_SIZES = ("--jp-content-font-size1", "--jp-code-font-size", "--jp-widgets-font-size")
MIN_TEXT_PX = 16


def slide_type(cell) -> str:
    """The cell's slide type; "-" (continue the current slide) when it has none."""
    return cell.metadata.get("slideshow", {}).get("slide_type", "-")


def invalid_slide_types(notebook) -> list[int]:
    """The indices of the cells whose slideshow metadata holds a slide_type outside SLIDE_TYPES ("-" too)."""
    return [index for index, cell in enumerate(notebook.cells)
            if "slide_type" in cell.metadata.get("slideshow", {})
            and cell.metadata.slideshow.slide_type not in SLIDE_TYPES]


def first_line(cell) -> str:
    return cell.source.lstrip("\n").split("\n", 1)[0]


def is_solution(cell) -> bool:
    """Tagged "solution", or written as one (a folded <details> solution, a "# Solution to exercise" cell)."""
    return ("solution" in cell.metadata.get("tags", []) or "<summary>Solution</summary>" in cell.source
            or cell.source.startswith("# Solution to exercise"))


def figure_outputs(cell) -> int:
    return sum(1 for output in cell.get("outputs", [])
               if any(mime in output.get("data", {}) for mime in FIGURE_TYPES))


def code_lines(cell) -> int:
    return len(cell.source.splitlines()) if cell.cell_type == "code" else 0


def estimated_height(cell) -> float:
    """The pixels a cell takes on a slide of the 1280x720 deck (make slides), estimated from its source and
    outputs: a cell's margins, then a height per line of text (wrapped at the characters a line holds), per
    line of code, per printed line, and each picture's own height. The constants are fitted to the heights
    of the cells as the built decks show them."""
    def wrapped(text: str, width: int, blank: float = 1.0) -> float:
        return sum(math.ceil(len(line.strip()) / width) if line.strip() else blank for line in text.split("\n"))

    if cell.cell_type == "markdown":
        return 48 + 26 * wrapped(cell.source, 125, blank=0.6)
    height = 48 + 20 * wrapped(cell.source, 100)
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        if "image/png" in data:
            width, picture_height = struct.unpack(">II", base64.b64decode(data["image/png"])[16:24])
            height += 1.17 * picture_height * min(1.0, 1000 / width)  # wider pictures are scaled down
        else:
            height += 22 * wrapped(output.get("text", "") or data.get("text/plain", ""), 82)
    return height


def slides(notebook) -> list[list[int]]:
    """The (sub-)slides of the deck, each as the indices of the cells shown on it."""
    groups = []
    for index, cell in enumerate(notebook.cells):
        kind = slide_type(cell)
        if kind in ("skip", "notes"):
            continue
        if kind in ("slide", "subslide") or not groups:
            groups.append([index])
        else:
            groups[-1].append(index)
    return groups


def overfull_slides(notebook) -> list[str]:
    """A description of each (sub-)slide with more than one figure or widget, more than MAX_CODE_LINES
    lines of code or an estimated height above MAX_SLIDE_HEIGHT, leaving out sub-slides made of one code
    cell alone."""
    problems = []
    for group in slides(notebook):
        cells = [notebook.cells[index] for index in group]
        if len(cells) == 1 and cells[0].cell_type == "code" and slide_type(cells[0]) == "subslide":
            continue
        figures = sum(figure_outputs(cell) for cell in cells)
        lines = sum(code_lines(cell) for cell in cells)
        height = sum(estimated_height(cell) for cell in cells)
        if figures > 1 or lines > MAX_CODE_LINES or height > MAX_SLIDE_HEIGHT:
            problems.append(f"cells {group}: {figures} figures or widgets, {lines} lines of code, "
                            f"about {height:.0f} px high")
    return problems


@pytest.fixture(params=NOTEBOOKS, ids=[path.name for path in NOTEBOOKS], scope="module")
def notebook(request):
    return nbformat.read(request.param, as_version=4)


def test_every_notebook_is_checked():
    assert len(NOTEBOOKS) == 12


def test_every_slide_type_is_valid_and_none_is_a_dash(notebook):
    invalid = invalid_slide_types(notebook)
    assert not invalid, f"cells with an invalid slideshow.slide_type (a cell that continues its slide has none): " \
                        f"{invalid}"


def test_the_title_cell_starts_the_deck(notebook):
    assert slide_type(notebook.cells[0]) == "slide"
    assert notebook.cells[0].cell_type == "markdown" and first_line(notebook.cells[0]).startswith("# ")


def test_sections_start_slides_and_subsections_subslides(notebook):
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "markdown":
            continue
        if first_line(cell).startswith("## "):
            assert slide_type(cell) == "slide", f"cell {index} ({first_line(cell)!r}) must start a slide"
        if first_line(cell).startswith("### "):
            assert slide_type(cell) == "subslide", f"cell {index} ({first_line(cell)!r}) must start a sub-slide"


def test_solutions_are_subslides_after_their_exercise(notebook):
    cells = notebook.cells
    solutions = [index for index, cell in enumerate(cells) if is_solution(cell)]
    for index in solutions:
        assert slide_type(cells[index]) == "subslide", f"solution cell {index} must be a sub-slide"
        previous = cells[index - 1]  # the exercise (markdown), or the solution's first part
        assert is_solution(previous) or previous.cell_type == "markdown", \
            f"solution cell {index} does not follow an exercise"
        following = next((cell for cell in cells[index + 1:] if slide_type(cell) not in ("skip", "notes")), None)
        if following is not None and not is_solution(following):
            assert slide_type(following) in ("slide", "subslide"), \
                f"the cell after solution {index} would be shown on the solution's sub-slide"


def test_no_slide_is_overfull(notebook):
    assert not overfull_slides(notebook)


def test_the_live_deck_text_is_projector_sized(notebook):
    sizes = notebook.metadata.get(DECK_STYLE_KEY, {}).get("styles", {}).get("", {}).get(PRESENTING, {})
    for name in DECK_TEXT_SIZES:
        assert re.fullmatch(r"\d+px", sizes.get(name, "")) and int(sizes[name][:-2]) >= MIN_TEXT_PX, \
            f"the notebook metadata sets no {name} of at least {MIN_TEXT_PX}px for the live deck: {sizes}"


# --------------------------------------------------------------------------------------------------
# The checks themselves catch what they are for

def make_notebook(*cells):
    notebook = nbformat.v4.new_notebook()
    for source, kind, outputs in cells:
        if outputs is None:
            cell = nbformat.v4.new_markdown_cell(source)
        else:
            cell = nbformat.v4.new_code_cell(source, outputs=outputs)
        if kind != "-":  # a cell that continues its slide has no slide_type
            cell.metadata["slideshow"] = {"slide_type": kind}
        notebook.cells.append(cell)
    return notebook


def png_header(width: int, height: int) -> str:
    """The start of a PNG file of that size (all estimated_height reads of a picture), base64-encoded."""
    return base64.b64encode(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + struct.pack(">II", width, height)).decode()


FIGURE = nbformat.v4.new_output("display_data", data={"image/png": png_header(800, 300), "text/plain": "<Figure>"})
TALL_FIGURE = nbformat.v4.new_output("display_data", data={"image/png": png_header(800, 600), "text/plain": "<Figure>"})


def test_an_overfull_slide_is_caught():
    two_figures = make_notebook(("# Title", "slide", None), ("plot(a)", "-", [FIGURE]), ("plot(b)", "-", [FIGURE]))
    assert overfull_slides(two_figures)[0].startswith("cells [0, 1, 2]: 2 figures or widgets, 2 lines of code")
    long_code = "\n".join(f"x{i} = {i}" for i in range(MAX_CODE_LINES))
    too_much_code = make_notebook(("# Title", "slide", None), ("## Section", "slide", None),
                                  (long_code, "-", []), ("y = 1", "-", []))
    assert overfull_slides(too_much_code)[0].startswith(f"cells [1, 2, 3]: 0 figures or widgets, "
                                                        f"{MAX_CODE_LINES + 1} lines of code")
    ten_lines = "\n".join(f"x{i} = {i}" for i in range(10))
    too_tall = make_notebook(("# Title", "slide", None), ("## Section\n\n" + "A sentence. " * 40, "slide", None),
                             (ten_lines, "-", [TALL_FIGURE]))
    [problem] = overfull_slides(too_tall)
    assert problem.startswith("cells [1, 2]: 1 figures or widgets, 10 lines of code, about")
    assert estimated_height(too_tall.cells[2]) > 700  # the picture and its code fill the slide by themselves
    # the same code split over two sub-slides, and a long cell alone on its sub-slide, are fine
    split = make_notebook(("# Title", "slide", None), ("## Section", "slide", None),
                          (long_code, "subslide", []), ("y = 1", "subslide", []), (long_code * 2, "subslide", []))
    assert overfull_slides(split) == []


def test_a_skipped_cell_is_not_on_any_slide():
    notebook = make_notebook(("# Title", "slide", None), ("import x", "skip", []), ("plot(a)", "-", [FIGURE]))
    assert slides(notebook) == [[0, 2]]


def test_a_dash_slide_type_is_caught():
    notebook = make_notebook(("# Title", "slide", None), ("x = 1", "-", []), ("y = 2", "-", []))
    assert "slideshow" not in notebook.cells[1].metadata and invalid_slide_types(notebook) == []
    notebook.cells[2].metadata["slideshow"] = {"slide_type": "-"}
    assert invalid_slide_types(notebook) == [2]


# --------------------------------------------------------------------------------------------------
# The deck's HTML (tools/offline_html.py's "slides" exporter, as `make slides` uses it)

def test_a_deck_loads_its_assets_from_static_only_and_shows_widgets_as_pictures():
    path = REPO / "notebooks" / "02_step_decay.ipynb"
    notebook = nbformat.read(path, as_version=4)
    html, _ = html_exporter("slides", "_static").from_notebook_node(notebook,
                                                                     resources={"metadata": {"name": path.stem}})
    loaded = re.findall(r"""<(?:script|link|img)\b[^>]*?\b(?:src|href)=["']([^"']+)""", html)
    assert loaded and all(url.startswith(("_static/", "data:")) for url in loaded), loaded
    assert "import mermaid" not in html and "unpkg.com" not in html and "cdnjs" not in html
    widget_pictures = [output.data["image/png"] for cell in notebook.cells for output in cell.get("outputs", [])
                       if "application/vnd.jupyter.widget-view+json" in output.get("data", {})]
    assert widget_pictures and all(picture[:200] in html for picture in widget_pictures)
    assert "application/vnd.jupyter.widget-view+json" not in html
    assert 'href="03_exponential_decay.slides.html"' in html   # links between notebooks lead to decks
    assert html.count("<section") > 20                         # cut into slides by the metadata


@pytest.mark.parametrize("kind, static_url, parameter", [("deck", "_static", "kind"), ("slides", "", "static_url")])
def test_the_exporter_names_a_wrong_argument(kind, static_url, parameter):
    with pytest.raises(ValueError, match=parameter):
        html_exporter(kind, static_url)
