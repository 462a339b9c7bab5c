"""What a reader and a student meet, in a real browser (headless Chromium driven by Playwright):

- the quiet first launch: JupyterLab started as `make lab` starts it (tools/lab.sh, the project's settings
  in jupyter/) on a new user's empty home opens notebook 00 and asks nothing, no news pop-up, no dialog;
  and, so that this check can fail, JupyterLab as installed, without the project's settings, does ask.
"""
from __future__ import annotations

import re
import sys
import time

import pytest
from browser_session import (
    REPO,
    block_external_requests,
    chromium_page,
    lab_api,
    require_browser,
    running_launched_lab,
)

SHOTS = "/tmp/shots"
FIRST_NOTEBOOK = "notebooks/00_start_here.ipynb"
PROJECT_LAUNCHER = [str(REPO / "tools" / "lab.sh")]
INSTALLED_LAUNCHER = [sys.executable, "-m", "jupyterlab"]
NEWS_QUESTION = "Would you like to get notified about official Jupyter news?"
QUIET_WAIT_S = 10          # how long after the notebook opened a pop-up is waited for
OPEN_TIMEOUT_S = 180       # JupyterLab's page and the kernel, on a slow CI machine

pytestmark = pytest.mark.timeout(600)


def open_first_notebook(page, server):
    """Open notebook 00 as `make lab` does and wait until it is shown with its kernel idle."""
    page.goto(server.url(FIRST_NOTEBOOK))
    page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=OPEN_TIMEOUT_S * 1000)
    page.locator(".jp-StatusBar-TextItem").filter(has_text=re.compile(r"\| Idle$")).first.wait_for(
        timeout=OPEN_TIMEOUT_S * 1000)


def notification_defaults(server) -> dict:
    """The defaults the server gives the notification settings (schema defaults after overrides)."""
    answer = lab_api(server.base_url, server.token, "/lab/api/settings/@jupyterlab/apputils-extension:notification")
    return {key: spec.get("default") for key, spec in answer["schema"]["properties"].items()}


def notification_count(page) -> str:
    """The number of notifications on the status bar's bell (shown or not as toasts)."""
    return page.locator(".jp-Notification-Status-Text").inner_text().strip()


def toasts(page) -> list[str]:
    return page.locator(".Toastify__toast").all_inner_texts()


def dialogs(page) -> list[str]:
    return page.locator(".jp-Dialog").all_inner_texts()


def test_make_lab_opens_the_first_notebook_without_any_question(tmp_path):
    require_browser()
    with running_launched_lab(tmp_path, [REPO / FIRST_NOTEBOOK], PROJECT_LAUNCHER, open_path=FIRST_NOTEBOOK
                              ) as server, chromium_page() as page:
        blocked = block_external_requests(page)
        open_first_notebook(page, server)
        time.sleep(QUIET_WAIT_S)
        page.screenshot(path=f"{SHOTS}/quiet_first_launch.png")
        assert toasts(page) == [], "a notification was shown on the first launch"
        assert dialogs(page) == [], "a dialog was shown on the first launch"
        assert notification_count(page) == "0"
        assert blocked == [], f"the page asked the internet for {blocked}"
        # The quiet comes from the project's overrides, not from a user setting (there is none).
        defaults = notification_defaults(server)
        assert defaults["fetchNews"] == "false" and defaults["checkForUpdates"] is False, defaults
        assert not any((tmp_path / "settings").rglob("*.jupyterlab-settings"))


def test_without_the_projects_settings_jupyterlab_asks_about_news(tmp_path):
    """The control: the same first launch with JupyterLab as installed (no project settings) shows the news
    question, so the test above sees a pop-up when there is one."""
    require_browser()
    with running_launched_lab(tmp_path, [REPO / FIRST_NOTEBOOK], INSTALLED_LAUNCHER, open_path=FIRST_NOTEBOOK
                              ) as server, chromium_page() as page:
        block_external_requests(page)
        open_first_notebook(page, server)
        question = page.locator(".Toastify__toast").filter(has_text=NEWS_QUESTION)
        question.wait_for(timeout=QUIET_WAIT_S * 1000 * 3)
        page.screenshot(path=f"{SHOTS}/first_launch_without_project_settings.png")
        assert any(NEWS_QUESTION in text for text in toasts(page))
        assert notification_count(page) == "1"
        assert notification_defaults(server)["fetchNews"] == "none"  # JupyterLab's own default: ask
