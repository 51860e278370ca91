"""The book in a real browser: headless Chromium (Debian's package) driven by Playwright.

The built site is served from a local HTTP server, as a host would serve it
(a missing path gets the book's 404 page). Checks, on every page the book has:

* it loads with no console error, no page error, no failed request, and no
  request to any host but the local server (other hosts are blocked and
  reported); the total bytes transferred are written to
  ``test-artifacts/page-sizes.json`` and the heaviest page has a budget;
* the framework tabs switch together on a page and keep the choice on the
  next page (sphinx-design keeps it in localStorage);
* the search page finds every chapter by a word of its title;
* the copy button puts on the clipboard exactly what tests/test_copy_button.py
  runs (so that test's Python port of the button is checked here);
* dark mode renders dark, with light text and dark code blocks;
* a missing page shows the book's 404 page, styled, with working links.

A full-page screenshot of every page, light and dark, is kept in
``test-artifacts/screenshots/``.

Chromium: ``/usr/bin/chromium`` (Debian's ``chromium`` package, which
``nox -s tests`` installs when it is missing), or the binary named by
``BOOK_CHROMIUM``. Playwright never downloads a browser here.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import http.server
import json
import os
import re
import socket
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest
from book_html import (
    ARTIFACTS,
    chapter_pages,
    copy_settings,
    executed_pages,
    page_cells,
    read_page,
    source_pages,
)

playwright_sync = pytest.importorskip("playwright.sync_api")

CHROMIUM = os.environ.get("BOOK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PORTS = range(8708, 8719)
SCREENSHOTS = ARTIFACTS / "screenshots"
# Budgets for one page load, uncompressed. About 2.3 MB of every first visit is
# the theme's shared files (fontawesome.js alone is 1.5 MB; 0.6 MB gzipped),
# which the browser caches; the page's own HTML and figures get 1 MB.
PAGE_BUDGET_BYTES = 3_500_000
OWN_BUDGET_BYTES = 1_000_000


def slug(page: str) -> str:
    return page.replace("/", "--")


class BookRequestHandler(http.server.SimpleHTTPRequestHandler):
    """Serve the built site; a missing path gets 404.html, as GitHub Pages and Read the Docs do."""

    def send_error(self, code, message=None, explain=None):
        not_found = Path(self.directory) / "404.html"
        if code == 404 and not_found.is_file():
            body = not_found.read_bytes()
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            return
        super().send_error(code, message, explain)

    def log_message(self, format, *args):  # keep the test output readable
        pass


def free_port() -> int:
    wanted = os.environ.get("BOOK_TEST_PORT")
    for port in [int(wanted)] if wanted else PORTS:
        with contextlib.closing(socket.socket()) as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    pytest.fail(f"no free port for the test server in {list(PORTS)} (set BOOK_TEST_PORT)")


@pytest.fixture(scope="module")
def site(built_html):
    port = free_port()
    handler = functools.partial(BookRequestHandler, directory=str(built_html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"no Chromium at {CHROMIUM}: install Debian's package (apt-get install -y chromium; "
            "`nox -s tests` does this when it can) or point BOOK_CHROMIUM at a Chromium binary"
        )
    with playwright_sync.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


class PageVisit:
    """A page opened in a fresh browser context, with everything that went wrong recorded."""

    def __init__(self, browser, site: str, *, color_scheme: str = "light", permissions=()):
        self.site = site
        self.local_host = urlparse(site).netloc
        self.context = browser.new_context(
            viewport={"width": 1280, "height": 900}, color_scheme=color_scheme
        )
        if permissions:
            self.context.grant_permissions(list(permissions), origin=site)
        self.console_errors: list[str] = []
        self.other_hosts: list[str] = []
        self.failed: list[str] = []
        self.requests = []
        self.context.route("**/*", self.route)
        self.page = self.context.new_page()
        self.page.on("console", self.on_console)
        self.page.on("pageerror", lambda error: self.console_errors.append(f"page error: {error}"))
        self.page.on("requestfailed", lambda r: self.failed.append(f"{r.url} ({r.failure})"))
        self.page.on("requestfinished", self.requests.append)

    def route(self, route, request):
        if urlparse(request.url).netloc in {self.local_host, ""} or request.url.startswith(
            ("data:", "blob:")
        ):
            route.continue_()
        else:
            self.other_hosts.append(request.url)
            route.abort()

    def on_console(self, message):
        if message.type == "error":
            self.console_errors.append(f"{message.text} ({message.location.get('url')})")

    def open(self, path: str, *, expect_status: int = 200):
        response = self.page.goto(f"{self.site}/{path}", wait_until="networkidle")
        assert response is not None, f"{path}: no response"
        assert response.status == expect_status, f"{path}: HTTP {response.status}"
        return response

    def bad_responses(self) -> list[str]:
        found = []
        for request in self.requests:
            response = request.response()
            if response is not None and response.status >= 400:
                found.append(f"{request.url}: HTTP {response.status}")
        return found

    def transferred(self) -> dict[str, int]:
        """Bytes this page load fetched: in total, gzipped (as hosts serve them), page-own.

        The local server sends files uncompressed; GitHub Pages and Read the Docs
        gzip text, so the gzip figure is what a reader's first visit costs.
        "Own" bytes are the page and its figures, without the theme's shared
        ``_static`` files that a reader's browser caches after the first page.
        """
        total = gzipped = own = 0
        for request in self.requests:
            sizes = request.sizes()
            size = sizes["responseBodySize"] + sizes["responseHeadersSize"]
            response = request.response()
            body = response.body() if response is not None else b""
            total += size
            gzipped += sizes["responseHeadersSize"] + min(len(gzip.compress(body)), len(body))
            if "/_static/" not in urlparse(request.url).path:
                own += size
        return {"total": total, "gzip": gzipped, "own": own}

    def close(self):
        self.context.close()


@pytest.fixture
def visit(browser, site):
    visits = []

    def open_visit(**kwargs) -> PageVisit:
        visits.append(PageVisit(browser, site, **kwargs))
        return visits[-1]

    yield open_visit
    for opened in visits:
        opened.close()


def record_size(page: str, size: dict[str, int]) -> None:
    path = ARTIFACTS / "page-sizes.json"
    path.parent.mkdir(exist_ok=True)
    sizes = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    sizes[page] = size
    path.write_text(json.dumps(dict(sorted(sizes.items())), indent=1), encoding="utf-8")


@pytest.mark.parametrize("page", source_pages())
def test_page_loads_cleanly_from_the_local_server_only(page, visit):
    opened = visit()
    opened.open(f"{page}.html")
    assert opened.other_hosts == [], f"{page} asked other hosts: {opened.other_hosts}"
    assert opened.console_errors == [], f"{page}: console errors {opened.console_errors}"
    assert opened.failed == [], f"{page}: failed requests {opened.failed}"
    assert opened.bad_responses() == [], f"{page}: {opened.bad_responses()}"
    size = opened.transferred()
    record_size(page, size)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    opened.page.screenshot(path=SCREENSHOTS / f"{slug(page)}.png", full_page=True)
    assert size["total"] <= PAGE_BUDGET_BYTES, f"{page} transfers {size['total']:,} bytes"
    assert size["own"] <= OWN_BUDGET_BYTES, f"{page}'s HTML and figures weigh {size['own']:,} bytes"


def framework_tab_pages(built_html) -> list[str]:
    """Pages with at least one tab set that offers both frameworks."""
    return [
        page
        for page in source_pages()
        if any(
            tab_set.select(":scope > label[data-sync-id=tensorflow]")
            and tab_set.select(":scope > label[data-sync-id=pytorch]")
            for tab_set in read_page(built_html, page).select("div.framework-tabs")
        )
    ]


BOTH_FRAMEWORKS = (
    "div.framework-tabs:has(> label[data-sync-id=pytorch]):has(> label[data-sync-id=tensorflow])"
)


def selected_frameworks(page) -> list[str]:
    """For every tab set on the page that offers both frameworks, the tab whose content shows."""
    return page.eval_on_selector_all(
        BOTH_FRAMEWORKS,
        """sets => sets.map(set => {
            const checked = set.querySelector(':scope > input:checked');
            const label = checked && checked.nextElementSibling;
            const content = label && label.nextElementSibling;
            const shown = content && getComputedStyle(content).display !== 'none';
            return shown ? label.dataset.syncId : null;
        })""",
    )


def test_framework_tabs_switch_together_and_persist_across_pages(visit, built_html):
    pages = framework_tab_pages(built_html)
    assert pages, "no page has framework tabs"
    first, second = pages[0], pages[-1] if len(pages) > 1 else "index"
    opened = visit()
    tab = opened.open(f"{first}.html") and opened.page
    assert set(selected_frameworks(tab)) == {"pytorch"}, "PyTorch should be the first choice"
    tab.locator("div.framework-tabs > label[data-sync-id=tensorflow]").last.click()
    assert set(selected_frameworks(tab)) == {"tensorflow"}, f"{first}: tabs did not follow"

    opened.open(f"{second}.html")
    if second != "index":
        assert set(selected_frameworks(tab)) == {"tensorflow"}, f"{second}: choice not kept"
        tab.locator("div.framework-tabs > label[data-sync-id=pytorch]").first.click()
        assert set(selected_frameworks(tab)) == {"pytorch"}
        opened.open(f"{first}.html")
        assert set(selected_frameworks(tab)) == {"pytorch"}, f"{first}: choice not kept"
    else:
        opened.open(f"{first}.html")
        assert set(selected_frameworks(tab)) == {"tensorflow"}, f"{first}: choice not kept"
    assert opened.console_errors == []


def title_word(built_html, page: str) -> str:
    title = read_page(built_html, page).select_one("main h1").get_text(" ", strip=True)
    words = re.findall(r"[A-Za-z]{5,}", title)
    assert words, f"{page}: no searchable word in its title {title!r}"
    return max(words, key=len)


@pytest.mark.parametrize("page", chapter_pages())
def test_search_finds_the_chapter_by_a_word_of_its_title(page, visit, built_html):
    word = title_word(built_html, page)
    opened = visit()
    opened.open(f"search.html?q={word}")
    opened.page.wait_for_selector("#search-results ul.search li", timeout=15_000)
    links = opened.page.eval_on_selector_all(
        "#search-results ul.search li a", "links => links.map(a => a.getAttribute('href'))"
    )
    assert any(f"{page}.html" in link for link in links), f"{word!r} did not find {page}: {links}"
    assert opened.console_errors == []


@pytest.mark.parametrize("page", executed_pages())
def test_copy_button_puts_each_cells_code_on_the_clipboard(page, visit, built_html):
    expected = [c.code for c in page_cells(built_html, page, copy_settings(built_html)) if c.code]
    opened = visit(permissions=("clipboard-read", "clipboard-write"))
    opened.open(f"{page}.html")
    buttons = opened.page.locator("div.cell div.cell_input button.copybtn")
    assert buttons.count() == len(expected), f"{page}: one copy button per visible cell"
    copied = []
    for index in range(buttons.count()):
        button = buttons.nth(index)
        if button.is_visible() or index == 0:
            # A reader's click: hover shows the button, then click it.
            button.scroll_into_view_if_needed()
            button.hover()
            button.click()
        else:
            # The cell sits in a tab that is not selected: click it the way a script would.
            button.evaluate("button => button.click()")
        copied.append(opened.page.evaluate("navigator.clipboard.readText()"))
    assert copied == expected
    assert opened.console_errors == []


def luminance(css_colour: str) -> float:
    red, green, blue = (int(v) for v in re.findall(r"\d+", css_colour)[:3])
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


@pytest.mark.parametrize("page", ["index", *chapter_pages()])
def test_dark_mode_renders_dark(page, visit):
    opened = visit(color_scheme="dark")
    opened.open(f"{page}.html")
    tab = opened.page
    for _ in range(3):  # the theme button cycles light, dark and automatic
        if tab.evaluate("document.documentElement.dataset.theme") == "dark":
            break
        tab.locator("button.theme-switch-button").first.click()
    assert tab.evaluate("document.documentElement.dataset.theme") == "dark"
    background = tab.evaluate("getComputedStyle(document.body).backgroundColor")
    text = tab.evaluate("getComputedStyle(document.querySelector('main p')).color")
    assert luminance(background) < 0.25, f"dark mode background is {background}"
    assert luminance(text) > 0.6, f"dark mode text is {text}"
    code = tab.locator("div.highlight pre").first
    if code.count():
        code_background = code.evaluate(
            "pre => getComputedStyle(pre.closest('div.highlight')).backgroundColor"
        )
        assert luminance(code_background) < 0.35, f"code on {code_background} in dark mode"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=SCREENSHOTS / f"{slug(page)}-dark.png", full_page=True)
    assert opened.console_errors == []


def test_missing_page_shows_the_books_404_page(visit):
    opened = visit()
    opened.open("chapters/no-such-chapter.html", expect_status=404)
    tab = opened.page
    assert "Page not found" in tab.title()
    # Styled: the theme's stylesheet loaded from an absolute path.
    assert tab.evaluate("document.styleSheets.length") > 2
    front = tab.locator("article a", has_text="front page")
    front.click()
    tab.wait_for_load_state("networkidle")
    assert tab.url.rstrip("/").endswith("index.html")
    errors = [e for e in opened.console_errors if "no-such-chapter" not in e and "404" not in e]
    assert errors == []
    assert opened.other_hosts == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.goto(f"{opened.site}/chapters/no-such-chapter.html")
    tab.screenshot(path=SCREENSHOTS / "404.png")
