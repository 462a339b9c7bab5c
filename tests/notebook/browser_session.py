"""What the real-browser tests share: a hermetic JupyterLab server, headless Chromium, and the page steps
a person takes in JupyterLab (wait for the kernel, run all cells, read the tracebacks).

Hermetic: JupyterLab runs on a free localhost port with token authentication, with its config, runtime,
settings and workspace folders in a temporary directory, news and update checks off, on COPIES of the
notebooks in that directory (JupyterLab saves notebooks; the repository is never touched). The server and
its kernels are shut down at the end, killed if they do not exit.

Needs Debian's Chromium at /usr/bin/chromium and the playwright Python package (Playwright's own browser
download is not used). Without them a test is skipped, except when CI=true: in CI it fails.
"""
from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SERVER_START_TIMEOUT_S = 120

# User settings for a test: every cell in the DOM, no autosave, no news pop-up.
TEST_LAB_SETTINGS = {
    # JupyterLab 4 may leave off-screen cells out of the DOM; a test wants to see all of them.
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False},
}

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # checked by require_browser, so that CI fails instead of skipping
    sync_playwright = None


def skip_or_fail(reason: str):
    """Skip the test, or fail it when CI=true: in CI the browser tests must run."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the browser test must run in CI)")
    pytest.skip(reason)


def require_browser() -> None:
    """Skip (or, in CI, fail) unless playwright and Debian's Chromium are installed."""
    if sync_playwright is None:
        skip_or_fail("the playwright package is not installed")
    if not os.access(CHROMIUM, os.X_OK):
        skip_or_fail(f"{CHROMIUM} not found (apt-get install chromium)")


@contextlib.contextmanager
def chromium_page(viewport=(1280, 900)):
    """A page of a fresh headless Chromium; the browser is closed on exit."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
            page.on("pageerror", lambda error: print(f"page error: {error}"))
            yield page
        finally:
            browser.close()


def block_external_requests(page, allowed=("http://127.0.0.1", "ws://127.0.0.1", "blob:", "data:")
                            ) -> list[str]:
    """Abort every request whose URL starts with none of ``allowed``; returns the (growing) list of the
    URLs aborted."""
    blocked = []

    def route(request_route):
        url = request_route.request.url
        if url.startswith(tuple(allowed)):
            request_route.continue_()
        else:
            blocked.append(url)
            request_route.abort()
    page.route("**/*", route)
    return blocked


# --------------------------------------------------------------------------------------------------
# JupyterLab server

def free_port() -> int:
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
    except OSError:  # not Linux/glibc: the teardown still stops the server
        pass


def write_lab_settings(settings_dir: Path, settings: dict) -> None:
    """Write JupyterLab user settings: {"<plugin path>.jupyterlab-settings": {key: value}}."""
    for relative, values in settings.items():
        path = settings_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def lab_api(base_url: str, token: str, path: str, method: str = "GET"):
    """Call JupyterLab's REST API; returns the decoded JSON (None for an empty body)."""
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


@dataclass
class LabServer:
    """A running JupyterLab: ``url(path)`` opens a file of its root folder in the lab."""
    base_url: str
    token: str
    root: Path
    log_path: Path

    def url(self, path: str) -> str:
        return f"{self.base_url}/lab/tree/{path}?token={self.token}"


@contextlib.contextmanager
def running_lab(tmp: Path, notebooks: list[Path], settings: dict | None = None, extra_args=()):
    """Start JupyterLab in ``tmp`` on copies of ``notebooks`` (placed under notebooks/, as in the
    repository, with ../data linked), with ``settings`` as user settings (default TEST_LAB_SETTINGS);
    yields a LabServer and stops the server and its kernels on exit."""
    root = _copy_notebooks(tmp, notebooks)
    write_lab_settings(tmp / "settings", TEST_LAB_SETTINGS if settings is None else settings)

    port, token = free_port(), secrets.token_hex(16)
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
               "--LabApp.extension_manager=readonly", *extra_args]
    with _serving(command, tmp, root, env, port, token) as server:
        yield server


def _copy_notebooks(tmp: Path, notebooks: list[Path]) -> Path:
    """Copy ``notebooks`` into ``tmp``/root/notebooks, as in the repository, with ../data linked (notebooks
    may read it); returns the root folder."""
    root = tmp / "root"
    (root / "notebooks").mkdir(parents=True)
    for notebook in notebooks:
        assert notebook.exists(), f"{notebook} is missing"
        shutil.copy(notebook, root / "notebooks" / notebook.name)
    if (REPO / "data").is_dir():
        (root / "data").symlink_to(REPO / "data")
    return root


@contextlib.contextmanager
def _serving(command: list[str], tmp: Path, root: Path, env: dict, port: int, token: str):
    """Run the JupyterLab ``command`` in ``root`` with ``env`` (its runtime folder tmp/runtime), log into
    tmp/jupyterlab.log; yield a LabServer once it answers, stop the server and its kernels on exit."""
    if os.geteuid() == 0:  # CI containers run as root; JupyterLab refuses that unless told
        command = [*command, "--allow-root"]
    log_path = tmp / "jupyterlab.log"
    log = open(log_path, "wb")
    server = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True,  # its own process group, killed as a whole
                              preexec_fn=_die_with_parent)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_server(server, base_url, token, log_path)
        yield LabServer(base_url, token, root, log_path)
    finally:
        _stop_server(server, base_url, token, tmp / "runtime")
        log.close()


def _wait_for_server(server, base_url, token, log_path):
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"JupyterLab exited with {server.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            lab_api(base_url, token, "/api/status")
            return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"JupyterLab did not start in {SERVER_START_TIMEOUT_S} s:\n{log_path.read_text()[-3000:]}")


def _stop_server(server, base_url, token, runtime_dir):
    """Shut down kernels and server politely, then kill whatever is left of them."""
    try:
        for kernel in lab_api(base_url, token, "/api/kernels"):
            lab_api(base_url, token, f"/api/kernels/{kernel['id']}", method="DELETE")
        lab_api(base_url, token, "/api/shutdown", method="POST")
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
# Steps in the notebook page

def wait_for_kernel(page, timeout_s: float = 120):
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


def menu(page, menu_name: str, item: str):
    """Click a menu of JupyterLab's menu bar, then one of its items."""
    page.get_by_role("menuitem", name=menu_name, exact=True).click()
    page.get_by_role("menuitem", name=item, exact=True).click()


def run_all_cells(page):
    """Clear every output, then Run > Run All Cells."""
    # Clearing the outputs also clears the stored execution counts, so "every cell has a count"
    # (wait_until_all_cells_ran) means "every cell ran now".
    menu(page, "Edit", "Clear Outputs of All Cells")
    page.wait_for_function("""() => [...document.querySelectorAll(".jp-CodeCell .jp-InputPrompt")]
                                     .every(p => !/\\d/.test(p.textContent))""", timeout=30_000)
    menu(page, "Run", "Run All Cells")


def wait_until_all_cells_ran(page, timeout_s):
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


def cell_errors(page) -> list[str]:
    """The ends of the tracebacks shown in the page (the end says what went wrong)."""
    tracebacks = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
                              ).filter(has_text="Traceback").all_inner_texts()
    return [text[-3000:] for text in tracebacks]


# --------------------------------------------------------------------------------------------------
# JupyterLab as a person launches it

@contextlib.contextmanager
def running_launched_lab(tmp: Path, notebooks: list[Path], launcher: list[str], open_path: str | None = None):
    """Start JupyterLab with ``launcher``, a command that runs ``jupyter lab`` with the arguments it is given
    (the project's tools/lab.sh, or ``[sys.executable, "-m", "jupyterlab"]`` for JupyterLab as installed),
    on copies of ``notebooks`` placed under notebooks/ in ``tmp``, as a first launch by a new user: a fresh
    HOME, no user settings, empty Jupyter folders, all in ``tmp``, and no JUPYTER_CONFIG_PATH of the caller.
    Unlike running_lab it passes no option about news, updates or extensions: only the port, the token, the
    root folder and ``open_path`` (the file to open, as `make lab` names one). Yields a LabServer; the
    server and its kernels are stopped on exit."""
    root = _copy_notebooks(tmp, notebooks)
    (tmp / "home").mkdir()

    port, token = free_port(), secrets.token_hex(16)
    runtime_dir = tmp / "runtime"
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("JUPYTER", "JPY_"))}  # the caller's Jupyter folders and config path
    env.update(HOME=str(tmp / "home"), LAB_PYTHON=sys.executable,
               JUPYTER_CONFIG_DIR=str(tmp / "config"), JUPYTER_RUNTIME_DIR=str(runtime_dir),
               JUPYTER_DATA_DIR=str(tmp / "data"), JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"), JUPYTER_PLATFORM_DIRS="1")
    command = [*launcher, *([open_path] if open_path else []), "--no-browser", f"--port={port}",
               "--ip=127.0.0.1", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
               "--ServerApp.port_retries=0"]
    with _serving(command, tmp, root, env, port, token) as server:
        yield server


@contextlib.contextmanager
def serving_folder(folder: Path):
    """Serve the files of ``folder`` over HTTP on a free localhost port, as a static web server would;
    yields the base URL ("http://127.0.0.1:PORT"). The server runs in a thread and stops on exit."""
    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, message_format, *args):  # the handler logs every request to stderr; not here
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            functools.partial(QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)
