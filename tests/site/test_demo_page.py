"""The draw-a-digit page in headless Chromium: it loads nothing heavy until Start, then
classifies drawings with both models exactly as onnxruntime does in Python.

Like ``test_browser.py``: the built site served on 127.0.0.1, the session's
Chromium of ``conftest.py`` (Debian's or ``BOOK_CHROMIUM``) driven by
Playwright, every request to another host refused and reported. The page's
test hook, ``window.digitsTest``, is documented in
``docs/_static/demo/draw-a-digit.js``.
"""

from __future__ import annotations

import functools
import http.server
import json
import threading
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlparse

import numpy as np
import pytest
from book_html import ARTIFACTS

pytest.importorskip("playwright.sync_api")

PAGE = "browser/draw-a-digit.html"
SITE_FILES = "_static/demo/site"
#: What the page may fetch before Start: itself, the theme's files, its own script and style.
HEAVY = (".wasm", ".onnx", "ort.wasm.min.mjs", "samples.json")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map: ClassVar[dict[str, str]] = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".mjs": "text/javascript",
        ".wasm": "application/wasm",
    }

    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def site(built_html):
    if not (built_html / SITE_FILES / "models" / "pytorch.onnx").is_file():
        pytest.fail(f"no {SITE_FILES} in the built site: the build's demo step did not run")
    handler = functools.partial(QuietHandler, directory=str(built_html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class DemoVisit:
    """The page in a fresh context, with its requests and problems recorded."""

    def __init__(self, browser, site: str, **context_options):
        self.host = urlparse(site).netloc
        self.context = browser.new_context(**context_options)
        self.requests: list[str] = []
        self.problems: list[str] = []
        self.context.route("**/*", self.route)
        self.page = self.context.new_page()
        self.page.on("requestfinished", lambda r: self.requests.append(urlparse(r.url).path))
        self.page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on(
            "console",
            lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"),
        )
        self.page.goto(f"{site}/{PAGE}", wait_until="networkidle")
        self.page.wait_for_function("window.digitsTest !== undefined")

    def route(self, route, request):
        if urlparse(request.url).netloc in {self.host, ""} or request.url.startswith("data:"):
            route.continue_()
        else:
            self.problems.append(f"other host: {request.url}")
            route.abort()

    def start(self) -> None:
        self.page.focus("#digits-start")  # a keyboard reader's way: focus, then Enter
        self.page.keyboard.press("Enter")
        self.page.evaluate("window.digitsTest.ready()")

    def result(self) -> dict:
        return self.page.evaluate("window.digitsTest.lastResult()")

    def stroke(self, points, steps: int = 10) -> None:
        box = self.page.locator("#digits-pad").bounding_box()
        self.page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
        self.page.mouse.down()
        for x, y in points[1:]:
            self.page.mouse.move(box["x"] + x, box["y"] + y, steps=steps)
        self.page.mouse.up()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit_class():
    """``visit(**options)`` (conftest.py) opens the demo page."""
    return DemoVisit


def python_probabilities(built_html: Path, images: np.ndarray) -> dict[str, np.ndarray]:
    """Both models' softmax in Python's onnxruntime, on the files the site serves."""
    import onnxruntime

    models = built_html / SITE_FILES / "models"
    found = {}
    for name, file, shape in (
        ("pytorch", "pytorch.onnx", (1, 8, 8)),
        ("keras", "keras.onnx", (8, 8, 1)),
    ):
        session = onnxruntime.InferenceSession(
            str(models / file), providers=["CPUExecutionProvider"]
        )
        batch = images.reshape(-1, *shape).astype(np.float32)
        logits = session.run(None, {session.get_inputs()[0].name: batch})[0]
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        found[name] = exp / exp.sum(axis=1, keepdims=True)
    return found


def test_nothing_heavy_loads_before_start(visit):
    opened = visit()
    heavy = [path for path in opened.requests if path.endswith(HEAVY)]
    assert heavy == []
    assert opened.page.is_enabled("#digits-start")
    assert opened.problems == []


def test_start_loads_the_runtime_and_models_from_this_site_only(visit):
    opened = visit()
    opened.start()
    fetched = [p for p in opened.requests if p.endswith(HEAVY)]
    assert any(p.endswith("ort-wasm-simd-threaded.wasm") for p in fetched)
    assert any(p.endswith("pytorch.onnx") for p in fetched)
    assert any(p.endswith("keras.onnx") for p in fetched)
    status = opened.page.text_content("#digits-status")
    assert status.startswith("Loaded")
    assert " MB in " in status
    assert opened.problems == []


def test_the_page_gives_what_python_onnxruntime_gives(visit, built_html, digits_split):
    images = digits_split.x_test[:40, 0]
    expected = python_probabilities(built_html, images)
    opened = visit()
    opened.start()
    for index, image in enumerate(images):
        result = opened.page.evaluate(
            "(v) => window.digitsTest.setPixels(v)", (image * 16).ravel().tolist()
        )
        for name in ("pytorch", "keras"):
            probabilities = np.array(result[name]["probs"])
            np.testing.assert_allclose(probabilities, expected[name][index], atol=1e-5)
            assert result[name]["top"] == expected[name][index].argmax()
    assert opened.problems == []


def test_a_drawn_stroke_is_classified_by_both_models(visit):
    opened = visit(viewport={"width": 1280, "height": 1100})
    opened.start()
    opened.stroke([(128, 28), (128, 228)])  # one vertical stroke
    opened.page.wait_for_function("window.digitsTest.lastResult() !== null")
    result = opened.result()
    assert result["pytorch"]["top"] == 1
    assert result["keras"]["top"] == 1
    drawn = np.array(opened.page.evaluate("window.digitsTest.lastInput()")).reshape(8, 8)
    assert drawn[:, 3:5].sum() > drawn.sum() * 0.9  # the ink is in the middle columns
    status = opened.page.text_content("#digits-status")
    assert "PyTorch model: 1" in status
    assert "Keras model: 1" in status
    rows = opened.page.locator("#digits-pytorch tr")
    assert rows.count() == 10
    ARTIFACTS.mkdir(exist_ok=True)
    opened.page.screenshot(path=ARTIFACTS / "draw-a-digit.png", full_page=True)
    assert opened.problems == []


def test_a_keyboard_only_reader_can_classify_a_sample_digit(visit, built_html):
    samples = json.loads((built_html / SITE_FILES / "models" / "samples.json").read_text())
    opened = visit()
    opened.start()
    opened.page.focus("#digits-sample")
    opened.page.keyboard.press("Enter")
    opened.page.wait_for_function("window.digitsTest.lastResult() !== null")
    first = samples["samples"][0]
    assert opened.page.evaluate("window.digitsTest.lastInput()") == [
        v / 16 for v in first["pixels"]
    ]
    assert f"The sample is a {first['label']}" in opened.page.text_content("#digits-status")


def test_the_controls_and_pictures_are_labelled_for_assistive_technology(visit):
    opened = visit()
    page = opened.page
    for button in ("#digits-start", "#digits-sample", "#digits-clear"):
        assert page.locator(button).get_attribute("type") == "button"
        assert page.locator(button).inner_text().strip()
    for canvas in ("#digits-pad", "#digits-preview"):
        assert page.locator(canvas).get_attribute("role") == "img"
        label = page.locator(canvas).get_attribute("aria-labelledby")
        assert page.locator(f"#{label}").inner_text().strip()
    assert page.locator("#digits-status").get_attribute("aria-live") == "polite"
    assert page.locator(".digits-results caption").count() == 2


def contrast(first: str, second: str) -> float:
    def luminance(css: str) -> float:
        channels = [int(v) / 255 for v in css[css.index("(") + 1 : css.index(")")].split(",")[:3]]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_ink_and_buttons_keep_their_contrast_in_both_modes(visit, scheme):
    opened = visit(color_scheme=scheme)
    page = opened.page
    page.evaluate(f"document.documentElement.dataset.theme = '{scheme}'")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    for selector in ("#digits-status", "#digits-pad-help"):
        colour = page.evaluate(f"getComputedStyle(document.querySelector('{selector}')).color")
        assert contrast(colour, background) >= 4.5, (scheme, selector, colour, background)
    button = page.evaluate(
        "(() => { const s = getComputedStyle(document.querySelector('#digits-start'));"
        " return [s.color, s.backgroundColor]; })()"
    )
    assert contrast(*button) >= 4.5, (scheme, button)
    ink = page.evaluate("getComputedStyle(document.querySelector('#digits-pad')).color")
    pad = page.evaluate("getComputedStyle(document.querySelector('#digits-pad')).backgroundColor")
    assert contrast(ink, pad) >= 4.5, (scheme, ink, pad)
