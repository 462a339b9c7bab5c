"""What a reader and a student meet, in a real browser (headless Chromium driven by Playwright):

- the offline site (make site), served from a local folder as any static web server would: the index and
  notebook 02 load with every request answered by the site's own files (any other request is blocked and
  fails the test), their pictures decoded, MathJax's formulas rendered, the link to the next notebook
  working, and at a phone's width (390 x 844) nothing wider than the screen;
- the student edition (make student): notebook 08 opens in JupyterLab with its exercises and no solution;
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
    running_lab,
    running_launched_lab,
    serving_folder,
    wait_for_kernel,
)

from tools import build_site, build_student

SHOTS = "/tmp/shots"
FIRST_NOTEBOOK = "notebooks/00_start_here.ipynb"
PROJECT_LAUNCHER = [str(REPO / "tools" / "lab.sh")]
INSTALLED_LAUNCHER = [sys.executable, "-m", "jupyterlab"]
NEWS_QUESTION = "Would you like to get notified about official Jupyter news?"
QUIET_WAIT_S = 10          # how long after the notebook opened a pop-up is waited for
OPEN_TIMEOUT_S = 180       # JupyterLab's page and the kernel, on a slow CI machine

PHONE = (390, 844)
SITE_PAGE = "02_step_decay.html"       # formulas, plots, widgets and a "Next:" link
NEXT_PAGE = "03_exponential_decay.html"
STUDENT_NOTEBOOK = "08_cyclical_and_one_cycle.ipynb"   # markdown and code solutions
MATHJAX_TIMEOUT_S = 60

pytestmark = pytest.mark.timeout(600)


# --------------------------------------------------------------------------------------------------
# The offline site

@pytest.fixture(scope="module")
def site_url(tmp_path_factory):
    """The base URL of a freshly built site, served from 127.0.0.1."""
    require_browser()
    out = tmp_path_factory.mktemp("site")
    build_site.build(out)
    with serving_folder(out) as url:
        yield url


def open_site_page(page, url):
    """Open a page of the site; returns the lists of blocked requests and failed responses, which grow."""
    blocked = block_external_requests(page, allowed=("http://127.0.0.1", "data:", "blob:"))
    failed = []
    page.on("response", lambda response: failed.append(f"{response.status} {response.url}")
            if response.status >= 400 else None)
    page.on("requestfailed", lambda request: failed.append(f"failed {request.url}"))
    page.goto(url)
    page.wait_for_load_state("networkidle")
    return blocked, failed


def wait_for_mathjax(page):
    """Wait until MathJax has typeset the page; returns the number of formulas it rendered."""
    page.wait_for_function("() => window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0 "
                           "&& MathJax.Hub.queue.running === 0", timeout=MATHJAX_TIMEOUT_S * 1000)
    return page.evaluate("() => document.querySelectorAll('.MathJax_CHTML').length")


def undecoded_images(page) -> list[str]:
    return page.evaluate("""() => [...document.images]
        .filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.src.slice(0, 80))""")


def overflowing(page) -> dict:
    """How far the page and its text and pictures reach beyond the window's width."""
    return page.evaluate("""() => {
        const width = window.innerWidth;
        const beyond = selector => [...document.querySelectorAll(selector)]
            .filter(e => e.getBoundingClientRect().right > width + 1).length;
        return {window: width, page: document.documentElement.scrollWidth,
                paragraphs: beyond(".jp-RenderedMarkdown p, .jp-RenderedMarkdown li, h1, h2, h3"),
                images: beyond("img")};
    }""")


def test_the_site_index_loads_from_its_own_files(site_url):
    with chromium_page() as page:
        blocked, failed = open_site_page(page, f"{site_url}/index.html")
        page.screenshot(path=f"{SHOTS}/site_index_desktop.png")
        links = page.locator("table a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
        assert len(links) >= 12 and all(re.fullmatch(r"\d\d_\w+\.html", href) for href in links), links
        assert blocked == [] and failed == [], (blocked, failed)


def test_a_site_page_loads_offline_renders_and_links_on(site_url):
    with chromium_page() as page:
        blocked, failed = open_site_page(page, f"{site_url}/{SITE_PAGE}")
        formulas = wait_for_mathjax(page)
        assert formulas >= 5, f"MathJax rendered {formulas} formulas"
        assert page.locator(".MathJax_Error, .merror").count() == 0
        assert page.locator("img").count() >= 5
        assert undecoded_images(page) == []
        page.screenshot(path=f"{SHOTS}/site_page_desktop.png")
        page.locator(f".jp-RenderedMarkdown a[href='{NEXT_PAGE}']").last.click()
        page.wait_for_url(f"**/{NEXT_PAGE}")
        page.wait_for_load_state("networkidle")
        assert "03" in page.locator("h1").first.inner_text()
        assert blocked == [] and failed == [], (blocked, failed)


def test_a_site_page_fits_a_phone(site_url):
    with chromium_page(viewport=PHONE) as page:
        blocked, failed = open_site_page(page, f"{site_url}/{SITE_PAGE}")
        wait_for_mathjax(page)
        sizes = overflowing(page)
        assert sizes["page"] <= sizes["window"], sizes
        assert sizes["paragraphs"] == 0 and sizes["images"] == 0, sizes
        page.screenshot(path=f"{SHOTS}/site_page_phone.png")
        page.locator(".jp-OutputArea-output img").first.scroll_into_view_if_needed()
        page.screenshot(path=f"{SHOTS}/site_page_phone_plot.png")
        assert blocked == [] and failed == [], (blocked, failed)


# --------------------------------------------------------------------------------------------------
# The student edition in JupyterLab

def test_the_student_notebook_opens_with_its_exercises_and_no_solution(tmp_path):
    require_browser()
    student = build_student.build(tmp_path / "student", [REPO / "notebooks" / STUDENT_NOTEBOOK])[0]
    with running_lab(tmp_path / "lab", [student]) as server, chromium_page() as page:
        block_external_requests(page)
        page.goto(server.url(f"notebooks/{STUDENT_NOTEBOOK}"))
        wait_for_kernel(page)
        notebook = page.locator(".jp-NotebookPanel .jp-Notebook")
        notebook.locator(".jp-Cell").last.wait_for()
        text = notebook.inner_text()
        for number in range(1, 5):  # the statements open with "**N.**", rendered bold
            assert notebook.locator(".jp-RenderedMarkdown strong", has_text=f"{number}.").count() >= 1, number
        assert "Exercises" in text
        assert notebook.locator("details, summary").count() == 0
        assert "Solution to exercise" not in text
        placeholder = notebook.locator(".jp-CodeCell", has_text="# Your solution to exercise 3")
        assert placeholder.count() == 1
        assert placeholder.locator(".jp-OutputArea-output").count() == 0
        placeholder.scroll_into_view_if_needed()
        page.screenshot(path=f"{SHOTS}/student_notebook_in_lab.png")


# --------------------------------------------------------------------------------------------------
# The quiet first launch


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
