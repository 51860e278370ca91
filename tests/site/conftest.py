"""The browser the site tests share, and the local server it reads the book from.

One Chromium (Debian's ``chromium``, or ``BOOK_CHROMIUM``) and one server serve
every browser test of the session, so opening a page costs a new browser
context only.

The server serves ``docs/_build/html`` the way GitHub Pages and Read the
Docs do: text files gzip-compressed when the browser accepts it,
``Cache-Control: max-age=600`` and ``Last-Modified`` (so a second page of a
visit takes the shared files from the browser's cache, and a revalidation
gets ``304 Not Modified``), and the book's 404 page for a missing path.

``PageVisit`` opens pages in a fresh context and records what went wrong
(console errors, failed requests, requests to other hosts) and, through the
DevTools protocol, what the browser really fetched over the network.
"""

from __future__ import annotations

import contextlib
import email.utils
import functools
import gzip
import http.server
import io
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest

from companion.deployment.browser_session import CHROMIUM_FLAGS

CHROMIUM = os.environ.get("BOOK_CHROMIUM", "/usr/bin/chromium")
PORTS = range(8708, 8719)
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

# What hosts compress: text, not images that are compressed already.
COMPRESSIBLE = {".html", ".css", ".js", ".svg", ".json", ".xml", ".txt", ".map", ".ico", ".md"}
CACHE_CONTROL = "max-age=600"  # what GitHub Pages sends


class BookRequestHandler(http.server.SimpleHTTPRequestHandler):
    """Serve the built site as a static host does: gzip, cache headers, the book's 404 page."""

    compressed: dict[tuple[str, int], bytes] = {}  # noqa: RUF012 (shared by the server's threads)

    def end_headers(self):
        self.send_header("Cache-Control", CACHE_CONTROL)
        super().end_headers()

    def send_head(self):
        path = Path(self.translate_path(self.path))
        accepts_gzip = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (path.is_file() and path.suffix in COMPRESSIBLE and accepts_gzip):
            return super().send_head()
        stat = path.stat()
        since = self.headers.get("If-Modified-Since")
        if since:
            with contextlib.suppress(TypeError, ValueError):
                if int(stat.st_mtime) <= email.utils.parsedate_to_datetime(since).timestamp():
                    self.send_response(304)
                    self.end_headers()
                    return None
        key = (str(path), stat.st_mtime_ns)
        body = self.compressed.get(key)
        if body is None:
            body = self.compressed[key] = gzip.compress(path.read_bytes(), 6, mtime=0)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Vary", "Accept-Encoding")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Last-Modified", self.date_time_string(int(stat.st_mtime)))
        self.end_headers()
        return io.BytesIO(body)

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


def book_server(handler) -> http.server.ThreadingHTTPServer:
    """A server on the first port of ``PORTS`` (or BOOK_TEST_PORT) that it can bind.

    Binding is the test: side-by-side test workers each get their own port.
    """
    wanted = os.environ.get("BOOK_TEST_PORT")
    for port in [int(wanted)] if wanted else PORTS:
        with contextlib.suppress(OSError):
            return http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    pytest.fail(f"no free port for the test server in {list(PORTS)} (set BOOK_TEST_PORT)")


@pytest.fixture(scope="session")
def site(built_html):
    handler = functools.partial(BookRequestHandler, directory=str(built_html))
    server = book_server(handler)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    playwright_sync = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"no Chromium at {CHROMIUM}: install Debian's package (apt-get install -y chromium; "
            "`nox -s tests` does this when it can) or point BOOK_CHROMIUM at a Chromium binary"
        )
    with playwright_sync.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@dataclass
class Fetch:
    """One request as the DevTools protocol saw it."""

    url: str
    status: int = 0
    from_cache: bool = False
    body_bytes: int = 0  # decoded (uncompressed) bytes of the body
    wire_bytes: int = 0  # bytes on the wire, headers included, compressed as sent
    finished: bool = False


@dataclass
class NetworkLog:
    """Everything the page fetched, keyed by the DevTools request id."""

    fetches: dict[str, Fetch] = field(default_factory=dict)

    def attach(self, cdp) -> None:
        cdp.send("Network.enable")
        cdp.on("Network.requestWillBeSent", self.on_request)
        cdp.on("Network.requestServedFromCache", self.on_cached)
        cdp.on("Network.responseReceived", self.on_response)
        cdp.on("Network.dataReceived", self.on_data)
        cdp.on("Network.loadingFinished", self.on_finished)

    def on_request(self, event):
        self.fetches[event["requestId"]] = Fetch(event["request"]["url"])

    def fetch(self, event) -> Fetch:
        return self.fetches.setdefault(event["requestId"], Fetch(""))

    def on_cached(self, event):
        self.fetch(event).from_cache = True

    def on_response(self, event):
        fetch, response = self.fetch(event), event["response"]
        fetch.status = response["status"]
        if response.get("fromDiskCache") or response.get("fromPrefetchCache"):
            fetch.from_cache = True

    def on_data(self, event):
        self.fetch(event).body_bytes += event["dataLength"]

    def on_finished(self, event):
        fetch = self.fetch(event)
        fetch.wire_bytes = int(event["encodedDataLength"])
        fetch.finished = True

    def network_fetches(self) -> list[Fetch]:
        """What came over the network (cache hits left out), data: URLs aside."""
        return [
            f
            for f in self.fetches.values()
            if not f.from_cache and f.url.startswith("http") and f.finished
        ]

    def totals(self) -> dict[str, int]:
        fetched = self.network_fetches()
        return {
            "uncompressed": sum(f.body_bytes for f in fetched),
            "wire": sum(f.wire_bytes for f in fetched),
            "requests": len(fetched),
        }

    def clear(self) -> None:
        self.fetches.clear()


class PageVisit:
    """A page opened in a fresh browser context, with everything that went wrong recorded.

    ``block_other_hosts`` routes every request through Playwright to abort
    those to other hosts; routing turns the browser's HTTP cache off, so a
    visit that measures what the cache saves only watches for other hosts.
    """

    def __init__(
        self,
        browser,
        site: str,
        *,
        color_scheme: str = "light",
        permissions=(),
        viewport=None,
        block_other_hosts: bool = True,
    ):
        self.site = site
        self.local_host = urlparse(site).netloc
        self.context = browser.new_context(viewport=viewport or DESKTOP, color_scheme=color_scheme)
        if permissions:
            self.context.grant_permissions(list(permissions), origin=site)
        self.console_errors: list[str] = []
        self.other_hosts: list[str] = []
        self.failed: list[str] = []
        self.requests = []
        if block_other_hosts:
            self.context.route("**/*", self.route)
        self.page = self.context.new_page()
        self.page.on("console", self.on_console)
        self.page.on("pageerror", lambda error: self.console_errors.append(f"page error: {error}"))
        self.page.on("request", self.on_request)
        self.page.on("requestfailed", lambda r: self.failed.append(f"{r.url} ({r.failure})"))
        # Playwright wraps handlers by their Python attributes: a bound builtin such
        # as list.append fails, so a method of our own.
        self.page.on("requestfinished", self.on_request_finished)
        self.cdp = self.context.new_cdp_session(self.page)
        self.network = NetworkLog()
        self.network.attach(self.cdp)

    def is_local(self, url: str) -> bool:
        return urlparse(url).netloc in {self.local_host, ""} or url.startswith(("data:", "blob:"))

    def on_request_finished(self, request) -> None:
        self.requests.append(request)

    def on_request(self, request):
        if not self.is_local(request.url) and request.url not in self.other_hosts:
            self.other_hosts.append(request.url)

    def route(self, route, request):
        if self.is_local(request.url):
            route.continue_()
        else:
            route.abort()

    def on_console(self, message):
        if message.type == "error":
            self.console_errors.append(f"{message.text} ({message.location.get('url')})")

    def open(self, path: str, *, expect_status: int = 200, wait_until: str = "networkidle"):
        response = self.page.goto(f"{self.site}/{path}", wait_until=wait_until)
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

    def close(self):
        self.context.close()


@pytest.fixture
def visit_class():
    """What ``visit`` opens; a test module overrides it with a visit of its own kind."""
    return PageVisit


@pytest.fixture
def visit(browser, site, visit_class):
    """``visit(**options)`` opens a visit of ``visit_class``; each is closed after the test."""
    visits = []

    def open_visit(**kwargs):
        visits.append(visit_class(browser, site, **kwargs))
        return visits[-1]

    yield open_visit
    for opened in visits:
        opened.close()
