"""The schedule explorer in a real browser: JupyterLab + headless Chromium, driven by Playwright.

What it checks, as a learner would: open the notebook, run all cells, see a slider and a plot, move
the slider with the keyboard, see the plot change. It also measures the latency from the key press
to the new picture being loaded in the page and prints it (run with ``-s`` to see it); the only
timing assertion is a generous sanity bound. The server is hermetic (browser_session.py says how).
"""
from __future__ import annotations

import base64
import itertools
import os
import statistics
import time

import pytest
from browser_session import (
    REPO,
    block_external_requests,
    cell_errors,
    chromium_page,
    require_browser,
    run_all_cells,
    running_lab,
    wait_for_kernel,
    wait_until_all_cells_ran,
)

# The notebook to open, relative to the repository (or absolute); any notebook whose first slider
# drives a schedule_explorer plot will do. LRLIB_BROWSER_NOTEBOOK overrides it.
NOTEBOOK = os.environ.get("LRLIB_BROWSER_NOTEBOOK", "notebooks/02_step_decay.ipynb")
SCREENSHOT = "/tmp/browser_widget.png"
FAILURE_SCREENSHOT = "/tmp/browser_failure.png"
KEY_PRESSES = 10
RUN_ALL_TIMEOUT_S = 600      # the whole notebook, training demos included, on a slow CI machine
LATENCY_SANITY_BOUND_S = 2.0

pytestmark = pytest.mark.timeout(RUN_ALL_TIMEOUT_S + 300)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A running JupyterLab serving a temporary copy of NOTEBOOK; yields the notebook's url."""
    require_browser()
    notebook = REPO / NOTEBOOK  # an absolute NOTEBOOK stays as it is
    with running_lab(tmp_path_factory.mktemp("lab"), [notebook]) as server:
        yield server.url(f"notebooks/{notebook.name}")


# --------------------------------------------------------------------------------------------------
# The page

# Runs in the page: start watching for the image's src to change after the next keydown on the slider
# handle, then for the new picture to be decoded. window.__nextChange resolves to the latency in ms
# (keydown -> new picture decoded) and the new PNG bytes. (Not returned: Playwright would wait for it.)
_WATCH_NEXT_CHANGE_JS = """
([handle, img]) => { window.__nextChange = new Promise((resolve, reject) => {
    let pressedAt = null;
    const oldSrc = img.src;
    handle.addEventListener("keydown", () => { pressedAt = performance.now(); },
                            {once: true, capture: true});
    const observer = new MutationObserver(async () => {
        if (img.src === oldSrc || pressedAt === null) return;
        observer.disconnect();
        await img.decode();
        const latency = performance.now() - pressedAt;
        const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
        let binary = "";
        bytes.forEach(b => { binary += String.fromCharCode(b); });
        resolve({latency, png: btoa(binary)});
    });
    observer.observe(img, {attributes: true, attributeFilter: ["src"]});
    setTimeout(() => { observer.disconnect(); reject(new Error("the plot did not change in 10 s")); },
               10000);
}); }
"""


def test_slider_redraws_the_plot(lab):
    with chromium_page() as page:
        external_requests = block_external_requests(page)
        try:
            started = time.monotonic()
            page.goto(lab)
            wait_for_kernel(page)
            run_all_cells(page)
            wait_until_all_cells_ran(page, RUN_ALL_TIMEOUT_S)
            run_all_s = time.monotonic() - started
            assert not cell_errors(page), "a cell raised:\n" + "\n".join(cell_errors(page))

            # The first slider of the page, and the picture in the same widget.
            handle = page.locator(".jupyter-widgets .widget-slider .noUi-handle").first
            widget = page.locator(".jupyter-widgets.widget-vbox").filter(has=handle).first
            image = widget.locator("img").first
            image.wait_for(state="visible", timeout=30_000)
            handle.scroll_into_view_if_needed()
            handle.focus()

            key = _direction_with_more_room(handle)
            latencies_ms, pictures = [], [_current_png(image)]
            for _ in range(KEY_PRESSES):
                page.evaluate(_WATCH_NEXT_CHANGE_JS, [handle.element_handle(), image.element_handle()])
                page.keyboard.press(key)
                result = page.evaluate("() => window.__nextChange")
                latencies_ms.append(result["latency"])
                pictures.append(base64.b64decode(result["png"]))
            page.screenshot(path=SCREENSHOT)
        except Exception:
            page.screenshot(path=FAILURE_SCREENSHOT)
            print(f"screenshot of the failure: {FAILURE_SCREENSHOT}")
            raise

    assert not external_requests, f"the page tried to reach the network: {external_requests}"
    assert all(p.startswith(b"\x89PNG") for p in pictures)
    assert all(a != b for a, b in itertools.pairwise(pictures)), "a key press left the plot unchanged"
    median = statistics.median(latencies_ms)
    print(f"\n{NOTEBOOK}: run all cells {run_all_s:.1f} s; slider key press -> new plot loaded: "
          f"median {median:.0f} ms, min {min(latencies_ms):.0f}, max {max(latencies_ms):.0f} ms "
          f"over {len(latencies_ms)} changes; screenshot {SCREENSHOT}")
    assert median < LATENCY_SANITY_BOUND_S * 1000


def _direction_with_more_room(handle) -> str:
    """The arrow key that moves the slider towards its farther end, so that every press changes it."""
    value, low, high = (float(handle.get_attribute(name))
                        for name in ("aria-valuenow", "aria-valuemin", "aria-valuemax"))
    return "ArrowLeft" if value - low > high - value else "ArrowRight"


def _current_png(image) -> bytes:
    encoded = image.evaluate("""async img => {
        const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
        let binary = "";
        bytes.forEach(b => { binary += String.fromCharCode(b); });
        return btoa(binary);
    }""")
    return base64.b64decode(encoded)
