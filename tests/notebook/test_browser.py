"""The schedule explorer in a real browser: JupyterLab + headless Chromium, driven by Playwright.

What it checks, as a learner would: open the notebook, run all cells, see a slider and a plot, move
the slider with the keyboard, see the plot change. It also measures the latency from the key press
to the new picture being loaded in the page and prints it (run with ``-s`` to see it); the only
timing assertion is a generous sanity bound.

Hermetic: JupyterLab runs on a free localhost port with token authentication, with its config,
runtime, settings and workspace folders in a temporary directory, news and update checks off, on a
COPY of the notebook in that directory (JupyterLab saves notebooks; the repository is never
touched). The server and its kernels are shut down at the end, killed if they do not exit.

Needs Debian's Chromium at /usr/bin/chromium and the playwright Python package (Playwright's own
browser download is not used). Without them the test is skipped, except when CI=true: in CI it fails.
"""
from __future__ import annotations

import base64
import itertools
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# The notebook to open, relative to the repository (or absolute); any notebook whose first slider
# drives a schedule_explorer plot will do. LRLIB_BROWSER_NOTEBOOK overrides it.
NOTEBOOK = os.environ.get("LRLIB_BROWSER_NOTEBOOK", "notebooks/02_step_decay.ipynb")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOT = "/tmp/browser_widget.png"
FAILURE_SCREENSHOT = "/tmp/browser_failure.png"
KEY_PRESSES = 10
SERVER_START_TIMEOUT_S = 120
RUN_ALL_TIMEOUT_S = 600      # the whole notebook, training demos included, on a slow CI machine
LATENCY_SANITY_BOUND_S = 2.0

pytestmark = pytest.mark.timeout(RUN_ALL_TIMEOUT_S + 300)


def _skip_or_fail(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the browser test must run in CI)")
    pytest.skip(reason)


try:
    from playwright.sync_api import sync_playwright
except ImportError:  # checked in the fixture, so that CI fails instead of skipping
    sync_playwright = None


# --------------------------------------------------------------------------------------------------
# JupyterLab server

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """Runs in the server process before it starts: on Linux, ask the kernel to send it SIGTERM when
    pytest dies, so that a pytest killed before its teardown (CI timeout) leaves no server behind.
    (Its kernels then exit by themselves: ipykernel watches its parent process.)"""
    try:
        import ctypes
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:  # not Linux/glibc: the fixture's teardown still stops the server
        pass


def _write_lab_settings(settings_dir: Path) -> None:
    """User settings for the test: every cell in the DOM, no autosave, no news pop-up."""
    settings = {
        # JupyterLab 4 may leave off-screen cells out of the DOM; we want to see all of them.
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
        "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
            "fetchNews": "false", "checkForUpdates": False},
    }
    for relative, values in settings.items():
        path = settings_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def _api(base_url: str, token: str, path: str, method: str = "GET"):
    request = urllib.request.Request(f"{base_url}{path}", method=method,
                                     headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return json.loads(body) if body else None


def _processes_mentioning(text: str) -> list[int]:
    """Pids whose command line contains ``text`` (our kernels name a file in our runtime dir)."""
    pids = []
    if not Path("/proc").is_dir():  # not Linux: nothing to look at
        return pids
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if text.encode() in (proc / "cmdline").read_bytes():
                    pids.append(int(proc.name))
            except OSError:
                pass
    return pids


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A running JupyterLab serving a temporary copy of NOTEBOOK; yields (url of the notebook, base_url)."""
    if sync_playwright is None:
        _skip_or_fail("the playwright package is not installed")
    if not os.access(CHROMIUM, os.X_OK):
        _skip_or_fail(f"{CHROMIUM} not found (apt-get install chromium)")
    notebook = REPO / NOTEBOOK  # an absolute NOTEBOOK stays as it is
    assert notebook.exists(), f"{notebook} is missing"

    tmp = tmp_path_factory.mktemp("lab")
    root = tmp / "root"
    copy = Path("notebooks") / notebook.name  # where it is in the repository: notebooks/
    (root / "notebooks").mkdir(parents=True)
    shutil.copy(notebook, root / copy)
    if (REPO / "data").is_dir():  # notebooks may read ../data, as they do in the repository
        (root / "data").symlink_to(REPO / "data")
    _write_lab_settings(tmp / "settings")

    port, token = _free_port(), secrets.token_hex(16)
    runtime_dir = tmp / "runtime"
    env = dict(os.environ,
               JUPYTER_CONFIG_DIR=str(tmp / "config"), JUPYTER_RUNTIME_DIR=str(runtime_dir),
               JUPYTER_DATA_DIR=str(tmp / "data"), JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"), JUPYTER_PLATFORM_DIRS="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
               "--ServerApp.port_retries=0",
               "--LabApp.news_url=None",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               "--LabApp.extension_manager=readonly"]
    if os.geteuid() == 0:  # CI containers run as root; JupyterLab refuses that unless told
        command.append("--allow-root")
    log = open(tmp / "jupyterlab.log", "wb")
    server = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True,  # its own process group, killed as a whole
                              preexec_fn=_die_with_parent)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_server(server, base_url, token, tmp / "jupyterlab.log")
        yield f"{base_url}/lab/tree/{copy.as_posix()}?token={token}", base_url
    finally:
        _stop_server(server, base_url, token, runtime_dir)
        log.close()


def _wait_for_server(server, base_url, token, log_path):
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"JupyterLab exited with {server.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            _api(base_url, token, "/api/status")
            return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"JupyterLab did not start in {SERVER_START_TIMEOUT_S} s:\n{log_path.read_text()[-3000:]}")


def _stop_server(server, base_url, token, runtime_dir):
    """Shut down kernels and server politely, then kill whatever is left of them."""
    try:
        for kernel in _api(base_url, token, "/api/kernels"):
            _api(base_url, token, f"/api/kernels/{kernel['id']}", method="DELETE")
        _api(base_url, token, "/api/shutdown", method="POST")
        server.wait(timeout=20)
    except Exception:  # noqa: BLE001 - whatever failed, fall through to killing
        pass
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
    # Kernels run in their own sessions; find them by their connection file in our runtime dir.
    for pid in _processes_mentioning(str(runtime_dir)):
        os.kill(pid, signal.SIGKILL)


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


def _wait_for_kernel(page, timeout_s: float = 120):
    """Wait until the status bar says the kernel is idle, accepting the "Select Kernel" dialog
    JupyterLab shows when it cannot tell at once which kernel the notebook wants."""
    status = page.locator(".jp-StatusBar-TextItem").filter(has_text=re.compile(r"\| Idle$"))
    dialog = page.locator(".jp-Dialog").filter(has_text="Select Kernel")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if dialog.count() and dialog.is_visible():
            dialog.get_by_role("button", name="Select", exact=True).click()
        elif status.count():
            return
        time.sleep(0.25)
    pytest.fail(f"the kernel did not become idle in {timeout_s} s")


def _menu(page, menu: str, item: str):
    page.get_by_role("menuitem", name=menu, exact=True).click()
    page.get_by_role("menuitem", name=item, exact=True).click()


def _run_all_cells(page):
    # Clearing the outputs also clears the stored execution counts, so "every cell has a count"
    # below means "every cell ran now".
    _menu(page, "Edit", "Clear Outputs of All Cells")
    page.wait_for_function("""() => [...document.querySelectorAll(".jp-CodeCell .jp-InputPrompt")]
                                     .every(p => !/\\d/.test(p.textContent))""", timeout=30_000)
    _menu(page, "Run", "Run All Cells")


def _wait_until_all_cells_ran(page, timeout_s):
    """Wait until every code cell has an execution count ("[3]:"), or a cell shows a traceback
    (JupyterLab then stops running the cells below it)."""
    page.wait_for_function(
        """() => {
            const prompts = [...document.querySelectorAll(".jp-CodeCell .jp-InputPrompt")];
            const allRan = prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
            const failed = [...document.querySelectorAll(
                ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")]
                .some(output => output.textContent.includes("Traceback"));
            return allRan || failed;
        }""", timeout=timeout_s * 1000, polling=500)


def _cell_errors(page) -> list[str]:
    tracebacks = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
                              ).filter(has_text="Traceback").all_inner_texts()
    return [text[-3000:] for text in tracebacks]  # the end of a traceback says what went wrong


def test_slider_redraws_the_plot(lab):
    notebook_url, _ = lab
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("pageerror", lambda error: print(f"page error: {error}"))
        external_requests = _block_external_requests(page)
        try:
            started = time.monotonic()
            page.goto(notebook_url)
            _wait_for_kernel(page)
            _run_all_cells(page)
            _wait_until_all_cells_ran(page, RUN_ALL_TIMEOUT_S)
            run_all_s = time.monotonic() - started
            assert not _cell_errors(page), "a cell raised:\n" + "\n".join(_cell_errors(page))

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
        finally:
            browser.close()

    assert not external_requests, f"the page tried to reach the network: {external_requests}"
    assert all(p.startswith(b"\x89PNG") for p in pictures)
    assert all(a != b for a, b in itertools.pairwise(pictures)), "a key press left the plot unchanged"
    median = statistics.median(latencies_ms)
    print(f"\n{NOTEBOOK}: run all cells {run_all_s:.1f} s; slider key press -> new plot loaded: "
          f"median {median:.0f} ms, min {min(latencies_ms):.0f}, max {max(latencies_ms):.0f} ms "
          f"over {len(latencies_ms)} changes; screenshot {SCREENSHOT}")
    assert median < LATENCY_SANITY_BOUND_S * 1000


def _block_external_requests(page) -> list[str]:
    """Abort every request that leaves 127.0.0.1; returns the (growing) list of their URLs."""
    blocked = []

    def route(request_route):
        url = request_route.request.url
        if url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "blob:", "data:")):
            request_route.continue_()
        else:
            blocked.append(url)
            request_route.abort()
    page.route("**/*", route)
    return blocked


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
