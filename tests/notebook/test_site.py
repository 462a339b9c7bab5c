"""The offline site (tools/build_site.py), built into a temporary folder and read without a browser: every
notebook has a page, every link and every loaded file resolves inside the site, nothing is loaded from the
internet, the widgets show their pictures, and the index carries README.md's notebook table.
(tests/notebook/test_browser_site.py opens the pages in Chromium.)
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest

from tools.build_site import (
    INDEX_PAGE,
    README,
    README_PAGE,
    build,
    page_name,
    readme_parts,
    site_target,
)
from tools.offline_html import WEB_MODULES

NOTEBOOK_PATHS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# The attributes that make a browser load a file, per tag (a[href] is only followed when clicked).
LOADING_ATTRIBUTES = {"script": "src", "img": "src", "iframe": "src", "embed": "src", "source": "src",
                      "video": "src", "audio": "src", "track": "src", "object": "data", "link": "href"}
CSS_URL = re.compile(r"""url\(\s*["']?([^"')\s]+)""")
CSS_IMPORT = re.compile(r"""@import\s+["']([^"']+)""")
EXTERNAL = re.compile(r"^(https?:)?//", re.IGNORECASE)


class PageParser(HTMLParser):
    """The ids, links, loaded files and CSS of one page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids, self.links, self.loads, self.css = set(), [], [], []
        self.viewport = False
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("id", "name"):
            if attrs.get(name):
                self.ids.add(attrs[name])
        if tag == "a" and "href" in attrs:
            self.links.append(attrs["href"])
        if tag in LOADING_ATTRIBUTES and attrs.get(LOADING_ATTRIBUTES[tag]):
            self.loads.append((tag, attrs[LOADING_ATTRIBUTES[tag]]))
        if attrs.get("style"):
            self.css.append(attrs["style"])
        if tag == "meta" and attrs.get("name") == "viewport" and "width=device-width" in attrs.get("content", ""):
            self.viewport = True
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.css.append(data)


def parse(path: Path) -> PageParser:
    parser = PageParser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    if not WEB_MODULES.is_dir():
        pytest.fail(f"{WEB_MODULES} is missing: run `make web` (make test does) to install the pinned web assets")
    out = tmp_path_factory.mktemp("site")
    written = build(out)
    return out, {path.name: parse(path) for path in written}


def test_every_notebook_has_a_page_and_the_site_its_index(site):
    out, pages = site
    assert set(pages) == {page_name(path) for path in NOTEBOOK_PATHS} | {INDEX_PAGE, README_PAGE}
    assert len(NOTEBOOK_PATHS) >= 12
    for name in pages:
        assert (out / name).stat().st_size > 1000, name


def test_every_link_resolves_in_the_site(site):
    """An in-page anchor names an id of the page; a relative link names a file of the site (and an id of
    it); plain hyperlinks to other sites (papers in the prose) are allowed, they load nothing."""
    out, pages = site
    checked = 0
    for name, page in pages.items():
        for href in page.links:
            parts = urlsplit(href)
            if parts.scheme in ("http", "https", "mailto"):
                continue
            assert not parts.scheme and not parts.netloc, f"{name}: link {href!r}"
            if parts.path:
                target = (out / name).parent / unquote(parts.path)
                assert target.is_file(), f"{name}: link {href!r} names no file of the site"
                ids = pages[target.name].ids if target.name in pages else None
            else:
                ids = page.ids
            if parts.fragment and ids is not None:
                # as a browser looks it up: the fragment as written, then percent-decoded
                assert {parts.fragment, unquote(parts.fragment)} & ids, f"{name}: link {href!r} names no anchor"
            checked += 1
    assert checked >= 200


def test_nothing_is_loaded_from_outside_the_site(site):
    out, pages = site
    css_files = [out / "_static" / "site.css"]
    for name, page in pages.items():
        assert page.viewport, f"{name} has no viewport meta for phones"
        for tag, url in page.loads:
            assert not EXTERNAL.match(url), f"{name}: <{tag}> loads {url}"
            if url.startswith("data:"):
                continue
            target = (out / name).parent / unquote(urlsplit(url).path)
            assert target.is_file(), f"{name}: <{tag}> loads {url}, not a file of the site"
            if target.suffix == ".css":
                css_files.append(target)
        for css in page.css:
            for url in CSS_URL.findall(css) + CSS_IMPORT.findall(css):
                assert not EXTERNAL.match(url), f"{name}: its CSS loads {url}"
    for path in css_files:
        for url in CSS_URL.findall(path.read_text()) + CSS_IMPORT.findall(path.read_text()):
            assert not EXTERNAL.match(url), f"{path.name} loads {url}"
    assert "site.css" in {Path(url).name for _, url in pages[INDEX_PAGE].loads}


def test_every_widget_shows_its_picture(site):
    out, _ = site
    widgets = 0
    for path in NOTEBOOK_PATHS:
        page_html = (out / page_name(path)).read_text(encoding="utf-8")
        for cell in nbformat.read(path, as_version=4).cells:
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                if WIDGET_VIEW in data:
                    assert "image/png" in data, f"{path.name}: a widget without a PNG fallback"
                    assert data["image/png"][:300].strip() in page_html, f"{path.name}: a widget's picture is missing"
                    widgets += 1
        assert WIDGET_VIEW not in page_html, path.name
    assert widgets >= 10


def test_notebook_links_point_at_pages_with_their_anchors(site):
    out, pages = site
    links = pages[page_name(NOTEBOOK_PATHS[2])].links
    assert page_name(NOTEBOOK_PATHS[3]) in links  # "Next: 03 ..." in notebook 02
    assert not [href for page in pages.values() for href in page.links if ".ipynb" in href]


def test_the_index_carries_the_readmes_notebook_table(site):
    out, pages = site
    index_html = (out / INDEX_PAGE).read_text(encoding="utf-8")
    rows = readme_parts(README.read_text(encoding="utf-8"))["table"][2:]
    assert len(rows) == len(NOTEBOOK_PATHS)
    for row, path in zip(rows, NOTEBOOK_PATHS, strict=True):
        number = row.strip("| ").split("|")[0].strip()
        assert path.name.startswith(number), (row, path.name)
        assert f'href="{page_name(path)}"' in index_html
    assert pages[INDEX_PAGE].links.count(README_PAGE) == 1


def test_links_are_placed_in_the_site():
    pages = {"02_step_decay.html", "03_exponential_decay.html", INDEX_PAGE, README_PAGE}
    assert site_target("03_exponential_decay.ipynb#2.-In-lrlib", "notebooks", pages) == \
        "03_exponential_decay.html#2.-In-lrlib"
    assert site_target("notebooks/02_step_decay.ipynb", "", pages) == "02_step_decay.html"
    assert site_target("../README.md#quickstart", "notebooks", pages) == "readme.html#quickstart"
    assert site_target("../data/README.md", "notebooks", pages) is None
    assert site_target("99_missing.ipynb", "notebooks", pages) is None
    for kept in ("https://arxiv.org/abs/1608.03983", "#section", "mailto:a@b.c", "03_exponential_decay.html"):
        assert site_target(kept, "notebooks", pages) == kept


def test_a_link_to_a_repository_file_becomes_text_with_its_path(site):
    out, _ = site
    readme_html = (out / README_PAGE).read_text(encoding="utf-8")
    assert 'class="not-in-site" title="in the repository: data/README.md"' in readme_html


def test_bad_input_is_refused_with_the_parameter_named(tmp_path):
    with pytest.raises(ValueError, match="notebooks"):
        build(tmp_path, notebooks=[])
    with pytest.raises(ValueError, match="readme_text"):
        readme_parts("no title and no table")
    with pytest.raises(ValueError, match="readme_text"):
        readme_parts("# A title\n\nA paragraph, no table.\n")
