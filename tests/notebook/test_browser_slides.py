"""The slides as a lecturer uses them, in headless Chromium on a 1280x720 screen (a projector).

Static: the deck of notebook 02 that `make slides` writes, built into a temporary folder, served from
127.0.0.1 and opened from file:// (a USB stick), loads every file from its own folder (any other request
fails the test); reveal.js starts, MathJax typesets the formulas, the right arrow moves to the next slide,
and the text is at least 11 pt on the screen.

Live: in JupyterLab with jupyterlab-slideshow, the deck button of the notebook toolbar presents the notebook in
its own panel, starting on the slide of the selected cell; Space moves on to the slide with a slider, an arrow
key on the slider redraws its plot (the widgets are the notebook's own, live) and leaves the deck on that
slide; the text is at least 11 pt, nothing leaves the machine and the page logs no error.
"""
from __future__ import annotations

import base64

import nbformat
import pytest
from browser_session import (
    REPO,
    block_external_requests,
    cell_errors,
    chromium_page,
    require_browser,
    run_all_cells,
    running_lab,
    serving_folder,
    skip_or_fail,
    wait_for_kernel,
    wait_until_all_cells_ran,
)

from tools.build_slides import build_slides
from tools.offline_html import WEB_MODULES

PROJECTOR = (1280, 720)
DECK_NOTEBOOK = REPO / "notebooks" / "02_step_decay.ipynb"   # formulas, plots, widgets, sub-slides
LIVE_NOTEBOOK = REPO / "notebooks" / "00_start_here.ipynb"   # runs in seconds, ends on a widget's slide
MIN_TEXT_PX = 14.6       # 11 pt at 96 pixels per inch
RUN_ALL_TIMEOUT_S = 300
SCREENSHOT_STATIC = "/tmp/shots/static_deck_formula_plot.png"
SCREENSHOT_LIVE = "/tmp/shots/live_deck_widget.png"

pytestmark = pytest.mark.timeout(600)

REVEAL = "_static/reveal.js/dist/reveal.js"   # the module the deck's require.js loaded reveal.js as
# Runs in the deck: true once reveal.js is ready and MathJax has nothing left to typeset.
SETTLED_JS = """() => {
    try {
        return require(%r).isReady() && MathJax.Hub.queue.pending === 0 && MathJax.Hub.queue.running === 0;
    } catch (error) {  // require.js, reveal.js or MathJax not loaded yet
        return false;
    }
}""" % REVEAL
# Runs in the deck: what the current slide shows, its indices, and the size of its text on the screen.
CURRENT_SLIDE_JS = """() => {
    const Reveal = require(%r);
    const slide = Reveal.getCurrentSlide();
    const onScreen = element => element && parseFloat(getComputedStyle(element).fontSize) * Reveal.getScale();
    return {indices: Reveal.getIndices(),
            formulas: slide.querySelectorAll(".MathJax_CHTML").length,
            formulaErrors: slide.querySelectorAll(".MathJax_Error, .mjx-merror").length,
            pictures: [...slide.querySelectorAll(".jp-OutputArea-output img")]
                      .filter(img => img.complete && img.naturalWidth > 0).length,
            textPx: onScreen(slide.querySelector(".jp-RenderedMarkdown p")),
            codePx: onScreen(slide.querySelector(".jp-InputArea-editor pre, .jp-OutputArea-output pre"))};
}""" % REVEAL
# Runs in the deck: the indices of the first (sub-)slide with both a typeset formula and a picture.
FORMULA_AND_PICTURE_JS = """() => {
    for (const [h, stack] of [...document.querySelectorAll(".reveal .slides > section")].entries()) {
        for (const [v, slide] of [...stack.querySelectorAll(":scope > section")].entries()) {
            if (slide.querySelector(".MathJax_CHTML") && slide.querySelector(".jp-OutputArea-output img")) {
                return [h, v];
            }
        }
    }
    return null;
}"""


@pytest.fixture(scope="module")
def deck_folder(tmp_path_factory):
    """A folder with the deck of DECK_NOTEBOOK and its _static assets, as `make slides` writes them."""
    require_browser()
    if not (WEB_MODULES / ".installed").exists():
        skip_or_fail("the web assets are not installed (make web)")
    folder = tmp_path_factory.mktemp("slides")
    build_slides([DECK_NOTEBOOK], folder)
    return folder


def open_deck(page, url: str, allowed: tuple[str, ...]):
    """Open a deck, every request outside ``allowed`` blocked; returns the blocked requests and the failed
    ones (lists that grow), once reveal.js and MathJax are ready."""
    blocked = block_external_requests(page, allowed=(*allowed, "data:", "blob:"))
    failed = []
    page.on("response", lambda response: failed.append(f"{response.status} {response.url}")
            if response.status >= 400 else None)
    page.on("requestfailed", lambda request: failed.append(f"failed {request.url}"))
    page.goto(url)
    page.wait_for_function(SETTLED_JS, timeout=60_000)
    return blocked, failed


def go_to_slide(page, navigate, h: int, v: int = 0) -> dict:
    """Call ``navigate()`` (a key press, say), check that it shows the slide at indices (h, v), and return
    what that slide shows once MathJax has typeset it again (the deck has MathJax do so on each slide
    change; MathJax signals "End Rerender" when done)."""
    page.evaluate("""() => { if (window.rerenders === undefined) {
        window.rerenders = 0;
        MathJax.Hub.Register.MessageHook("End Rerender", () => { window.rerenders += 1; });
    } }""")
    rerenders = page.evaluate("() => window.rerenders")
    navigate()
    page.wait_for_function("([h, v]) => { const at = require(%r).getIndices(); return at.h === h && at.v === v; }"
                           % REVEAL, arg=[h, v], timeout=10_000)
    page.wait_for_function("count => window.rerenders > count", arg=rerenders, timeout=60_000)
    return page.evaluate(CURRENT_SLIDE_JS)


def check_deck(page):
    """The first slide, then the right arrow: the slide of the formulas, typeset and legible."""
    assert page.evaluate("() => require(%r).getIndices().h" % REVEAL) == 0
    formulas = go_to_slide(page, lambda: page.keyboard.press("ArrowRight"), 1)
    assert formulas["formulas"] >= 2 and formulas["formulaErrors"] == 0, formulas
    assert formulas["textPx"] >= MIN_TEXT_PX, f"text of {formulas['textPx']:.1f} px on a 1280x720 screen"
    return formulas


def test_the_static_deck_served_loads_only_its_own_files(deck_folder):
    with serving_folder(deck_folder) as base_url, chromium_page(viewport=PROJECTOR) as page:
        blocked, failed = open_deck(page, f"{base_url}/{DECK_NOTEBOOK.stem}.slides.html", allowed=(base_url,))
        check_deck(page)
        position = page.evaluate(FORMULA_AND_PICTURE_JS)
        assert position, "no slide of the deck shows a formula and a picture"
        slide = go_to_slide(page, lambda: page.evaluate("([h, v]) => require(%r).slide(h, v)" % REVEAL, position),
                            *position)
        assert slide["pictures"] >= 1 and slide["formulas"] >= 1, slide
        assert slide["codePx"] >= MIN_TEXT_PX, f"code of {slide['codePx']:.1f} px on a 1280x720 screen"
        page.screenshot(path=SCREENSHOT_STATIC)
    assert not blocked, f"the deck tried to load files from elsewhere: {blocked}"
    assert not failed, f"files of the deck are missing: {failed}"


def test_the_static_deck_works_from_file_urls(deck_folder):
    deck = deck_folder / f"{DECK_NOTEBOOK.stem}.slides.html"
    assert f'href="{deck.name}"' in (deck_folder / "index.html").read_text(), "the index does not list the deck"
    with chromium_page(viewport=PROJECTOR) as page:
        blocked, failed = open_deck(page, deck.as_uri(), allowed=(deck_folder.as_uri(),))
        check_deck(page)
    assert not blocked, f"the deck tried to load files from elsewhere: {blocked}"
    assert not failed, f"files of the deck are missing: {failed}"


# --------------------------------------------------------------------------------------------------
# The live slideshow

@pytest.fixture(scope="module")
def live_deck(tmp_path_factory):
    """JupyterLab on LIVE_NOTEBOOK, its cells run, its first cell selected and the deck started with the
    notebook toolbar's deck button; yields the page, the requests blocked so far and the errors the page
    logged so far (growing lists)."""
    require_browser()
    with running_lab(tmp_path_factory.mktemp("lab"), [LIVE_NOTEBOOK]) as server, \
            chromium_page(viewport=PROJECTOR) as page:
        errors = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        blocked = block_external_requests(page)
        page.goto(server.url(f"notebooks/{LIVE_NOTEBOOK.name}"))
        wait_for_kernel(page)
        run_all_cells(page)
        wait_until_all_cells_ran(page, RUN_ALL_TIMEOUT_S)
        assert not cell_errors(page), "a cell raised:\n" + "\n".join(cell_errors(page))
        page.locator(".jp-Notebook .jp-Cell").first.click()  # the deck starts on the selected cell's slide
        page.locator(".jp-NotebookPanel-toolbar [data-command='deck:toggle']").click()
        page.wait_for_selector(f"body[data-jp-deck-mode='presenting'] {ON_SCREEN}", timeout=60_000)
        yield page, blocked, errors


ON_SCREEN = ".jp-Notebook .jp-Cell.jp-deck-mod-onscreen"   # the cells the deck shows now
SLIDER = f"{ON_SCREEN} .jupyter-widgets .widget-slider .noUi-handle"


def on_screen_text_px(page) -> float:
    """The font size of the first paragraph of text on the current slide, in pixels."""
    return page.evaluate(f"() => parseFloat(getComputedStyle(document.querySelector("
                         f"'{ON_SCREEN} .jp-RenderedMarkdown p')).fontSize)")


def test_the_deck_starts_on_the_slide_of_the_selected_cell(live_deck):
    page, blocked, errors = live_deck
    title = first_heading(nbformat.read(LIVE_NOTEBOOK, as_version=4).cells[0])
    page.locator(f"{ON_SCREEN} .jp-RenderedMarkdown h1").get_by_text(title).wait_for(timeout=30_000)
    assert page.locator(SLIDER).count() == 0, "the title slide shows a slider"
    assert on_screen_text_px(page) >= MIN_TEXT_PX, f"slide text of {on_screen_text_px(page)} px"
    assert not blocked, f"the deck tried to reach the network: {blocked}"
    assert not errors, f"the page logged errors: {errors}"


def test_a_slider_in_the_deck_redraws_its_plot(live_deck):
    page, blocked, errors = live_deck
    # Space goes to the next step of the deck (fragment, sub-slide or slide), as a lecturer moves on.
    for _ in range(len(nbformat.read(LIVE_NOTEBOOK, as_version=4).cells)):
        if page.locator(SLIDER).count():
            break
        page.keyboard.press("Space")
        page.wait_for_timeout(100)  # the deck moves to the next cell
    handle = page.locator(SLIDER).first
    handle.wait_for(state="visible", timeout=15_000)
    widget = page.locator(f"{ON_SCREEN} .jupyter-widgets.widget-vbox").filter(
        has=page.locator(".widget-slider .noUi-handle")).first
    image = widget.locator("img").first
    image.wait_for(state="visible", timeout=15_000)
    on_screen_before = page.locator(ON_SCREEN).count()
    before, before_src = current_png(image), image.get_attribute("src")
    handle.focus()
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("([img, src]) => img.src !== src", arg=[image.element_handle(), before_src],
                           timeout=10_000)
    assert current_png(image) != before, "the key press left the plot unchanged"
    assert handle.is_visible() and page.locator(ON_SCREEN).count() == on_screen_before, \
        "the arrow key on the slider moved the deck to another slide"
    assert on_screen_text_px(page) >= MIN_TEXT_PX, f"slide text of {on_screen_text_px(page)} px"
    page.screenshot(path=SCREENSHOT_LIVE)
    assert not blocked, f"the deck tried to reach the network: {blocked}"
    assert not errors, f"the page logged errors: {errors}"


def first_heading(cell) -> str:
    """The text of a markdown cell's first line, without its leading '#'s."""
    return cell.source.lstrip("\n").split("\n", 1)[0].lstrip("# ")


def current_png(image) -> bytes:
    """The PNG bytes an <img> shows."""
    return base64.b64decode(image.evaluate("""async img => {
        const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
        let binary = "";
        bytes.forEach(b => { binary += String.fromCharCode(b); });
        return btoa(binary);
    }"""))
