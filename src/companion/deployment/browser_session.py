"""Run browser runtimes in headless Chromium on files served from this machine only.

The browser half of the deployment chapter's browser runs, in a process of
its own (Playwright's synchronous API cannot run inside a Jupyter kernel's
event loop, and a crashed browser should not take the kernel down)::

    python -m companion.deployment.browser_session spec.json result.json

``spec.json`` names a folder of models and images and, per runtime, the
models to run (see :func:`companion.deployment.browser.run_in_browser`). The
process serves that folder, the runtimes' files from ``node_modules`` and the
harness page (:mod:`companion.deployment.harness`) on 127.0.0.1, opens the page in a fresh
browser context for each runtime (an empty cache, so load times include the
download), calls ``window.runRuntime`` and writes what came back to
``result.json``, with every request, console message and blocked request to
another host. Requests to other hosts are refused, and there are none.

Chromium: ``$BOOK_CHROMIUM``, else Debian's ``/usr/bin/chromium``, else the
browser Playwright installed for itself (``playwright install chromium``,
which some hosts such as Read the Docs need).
"""

from __future__ import annotations

import argparse
import contextlib
import http.server
import json
import os
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

from companion.deployment import harness, web_runtimes

#: What the harness URLs serve.
HARNESS = {
    "harness.html": harness.HTML.encode(),
    "harness.js": harness.SCRIPT.encode(),
}

#: Chromium's flags for a closed network: no background requests, no GPU.
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
DEBIAN_CHROMIUM = "/usr/bin/chromium"

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".wasm": "application/wasm",
    ".json": "application/json",
}


def chromium_executable() -> str | None:
    """The Chromium to drive: ``$BOOK_CHROMIUM``, Debian's, or None for Playwright's own."""
    named = os.environ.get("BOOK_CHROMIUM")
    if named:
        if not Path(named).is_file():
            raise FileNotFoundError(
                f"BOOK_CHROMIUM names {named}, but there is no such file"
            )
        return named
    return DEBIAN_CHROMIUM if Path(DEBIAN_CHROMIUM).is_file() else None


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves the harness, the runtimes (from node_modules) and one folder of models."""

    models: Path
    modules: Path

    def _file(self) -> Path | None:
        path = urlparse(self.path).path
        if path.startswith("/models/"):
            name = path.removeprefix("/models/")
            found = self.models / name
            return found if "/" not in name and found.is_file() else None
        return web_runtimes.resolve(path, self.modules)

    def _body(self) -> tuple[bytes, str] | None:
        """The bytes to send and their file suffix, or None for a 404."""
        path = urlparse(self.path).path
        if path.startswith("/harness/"):
            name = path.removeprefix("/harness/")
            return (
                (HARNESS[name], Path(name).suffix) if name in HARNESS else None
            )
        found = self._file()
        if found is None:
            return None
        data = found.read_bytes()
        if found.suffix in {".js", ".mjs"}:
            data = web_runtimes.without_source_map(data)
        return data, found.suffix

    def do_GET(self):
        body = self._body()
        if body is None:
            self.send_error(404)
            return
        data, suffix = body
        self.send_response(200)
        self.send_header(
            "Content-Type", _TYPES.get(suffix, "application/octet-stream")
        )
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        pass


@contextlib.contextmanager
def serve(models: Path, modules: Path):
    """An HTTP server on 127.0.0.1 (a free port) for the duration; yields its base URL."""
    handler = type(
        "Handler",
        (_Handler,),
        {"models": Path(models), "modules": Path(modules)},
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _run_one(browser, base: str, spec: dict) -> dict:
    host = urlparse(base).netloc
    context = browser.new_context()
    page = context.new_page()
    record = {"requests": [], "console": [], "blocked": [], "page_errors": []}

    def route(request_route):
        if urlparse(request_route.request.url).netloc == host:
            request_route.continue_()
        else:
            record["blocked"].append(request_route.request.url)
            request_route.abort()

    def finished(request):
        sizes = request.sizes()
        path = urlparse(request.url).path
        record["requests"].append(
            {"path": path, "bytes": sizes["responseBodySize"]}
        )

    page.route("**/*", route)
    page.on(
        "console",
        lambda m: record["console"].append({"type": m.type, "text": m.text}),
    )
    page.on("pageerror", lambda e: record["page_errors"].append(str(e)))
    page.on("requestfinished", finished)
    try:
        page.goto(f"{base}/harness/harness.html")
        page.wait_for_function("window.harnessReady === true")
        started = time.perf_counter()
        record["result"] = page.evaluate(
            "(spec) => window.runRuntime(spec)", spec
        )
        record["seconds"] = time.perf_counter() - started
    except (
        Exception
    ) as error:  # a runtime that cannot start is a result, like a failed route
        record["error"] = (
            f"{type(error).__name__}: {str(error).strip().splitlines()[0]}"
        )
    finally:
        context.close()
    return record


def run(spec: dict) -> dict:
    """Serve ``spec["folder"]``, run each of ``spec["runtimes"]`` in Chromium, return the records."""
    from playwright.sync_api import sync_playwright

    modules = web_runtimes.node_modules()
    report = {"npm": web_runtimes.versions(modules), "runs": []}
    with (
        serve(Path(spec["folder"]), modules) as base,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(
            executable_path=chromium_executable(), args=CHROMIUM_FLAGS
        )
        report["chromium"] = browser.version
        try:
            for runtime_spec in spec["runtimes"]:
                report["runs"].append(_run_one(browser, base, runtime_spec))
        finally:
            browser.close()
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m companion.deployment.browser_session",
        description="Run browser runtimes on local models in headless Chromium; write JSON.",
    )
    parser.add_argument("spec", type=Path, help="what to run (JSON)")
    parser.add_argument(
        "result", type=Path, help="where to write what happened (JSON)"
    )
    args = parser.parse_args(argv)
    spec = json.loads(args.spec.read_text(encoding="utf-8"))
    args.result.write_text(json.dumps(run(spec)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
