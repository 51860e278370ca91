"""The browser runs: the runtimes' files, the local server, headless Chromium, the tables."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from companion.deployment import browser, browser_session, harness, web_runtimes
from companion.deployment.browser import (
    BrowserModel,
    browser_markdown,
    run_in_browser,
    runtimes_markdown,
)

ROOT = Path(__file__).resolve().parents[2]


def test_the_pinned_npm_versions_match_package_json_and_the_lock():
    package = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    for runtime, name in web_runtimes.PACKAGES.items():
        assert package["dependencies"][name] == web_runtimes.VERSIONS[runtime]
        assert lock["packages"][f"node_modules/{name}"]["version"] == web_runtimes.VERSIONS[runtime]


def test_node_modules_holds_the_pinned_versions():
    assert web_runtimes.versions(web_runtimes.node_modules()) == web_runtimes.VERSIONS


def test_a_missing_node_modules_says_to_run_npm_ci(monkeypatch, tmp_path):
    monkeypatch.setenv(web_runtimes.NODE_MODULES_VARIABLE, str(tmp_path))
    with pytest.raises(FileNotFoundError, match="npm ci"):
        web_runtimes.node_modules()


@pytest.mark.parametrize(
    ("url", "served"),
    [
        ("/ort/ort.wasm.min.mjs", True),
        ("/litert/wasm/litert_wasm_internal.wasm", True),
        ("/ort/../../package.json", False),
        ("/ort/", False),
        ("/ort/.hidden", False),
        ("/elsewhere/ort.wasm.min.mjs", False),
    ],
)
def test_only_files_directly_in_a_mapped_folder_are_served(url, served):
    assert (web_runtimes.resolve(url) is not None) is served


def test_copying_onnxruntime_web_drops_the_source_map_comments(tmp_path):
    copies = web_runtimes.copy_onnxruntime_web(tmp_path)
    assert [p.name for p in copies] == list(web_runtimes.ORT_FILES)
    for path in copies:
        if path.suffix == ".mjs":
            assert b"sourceMappingURL" not in path.read_bytes()


def test_the_local_server_serves_the_harness_models_and_runtimes_only(tmp_path):
    (tmp_path / "model.onnx").write_bytes(b"model")
    with browser_session.serve(tmp_path, web_runtimes.node_modules()) as base:

        def get(path):
            with urllib.request.urlopen(base + path) as response:
                return response.headers["Content-Type"], response.read()

        kind, body = get("/harness/harness.js")
        assert kind == "text/javascript"
        assert body == harness.SCRIPT.encode()
        assert get("/models/model.onnx")[1] == b"model"
        assert get("/ort/ort-wasm-simd-threaded.wasm")[0] == "application/wasm"
        for missing in ("/models/../model.onnx", "/harness/other.js", "/secret"):
            with pytest.raises(urllib.error.HTTPError, match="404"):
                get(missing)


def test_browser_models_check_their_framework_and_runtime():
    with pytest.raises(ValueError, match="framework must be one of"):
        BrowserModel(label="x", framework="jax", runtime="litert.js", path=Path("m"),
                     image_shape=(8, 8, 1))  # fmt: skip


def test_run_in_browser_checks_its_images(tmp_path):
    model = BrowserModel(label="x", framework="pytorch", runtime="onnxruntime-web",
                         path=tmp_path / "m.onnx", image_shape=(1, 8, 8))  # fmt: skip
    with pytest.raises(ValueError, match="8x8 with one channel"):
        run_in_browser([model], np.zeros((2, 3, 8, 8), np.float32), {}, np.zeros(2))
    with pytest.raises(ValueError, match="nothing to run"):
        run_in_browser([], np.zeros((2, 1, 8, 8), np.float32), {}, np.zeros(2))


def test_a_report_becomes_results_and_tables(tmp_path):
    path = tmp_path / "m.onnx"
    path.write_bytes(b"12345")
    model = BrowserModel(label="linear", framework="pytorch", runtime="onnxruntime-web",
                         path=path, image_shape=(1, 8, 8))  # fmt: skip
    broken = BrowserModel(label="broken", framework="tensorflow", runtime="litert.js",
                          path=path, image_shape=(8, 8, 1))  # fmt: skip
    reference = np.eye(2, 10, dtype=np.float32)
    timing = {"samples_ms": [1.0, 2.0, 3.0], "number": 4}
    report = {
        "chromium": "1.0",
        "npm": {"onnxruntime-web": "9.9", "litert.js": "8.8"},
        "runs": [
            {"requests": [{"path": "/ort/a.wasm", "bytes": 100}, {"path": "/models/m", "bytes": 5}],
             "console": [], "blocked": [],
             "result": {"version": "9.9", "startup_ms": 500.0, "models": [
                 {"label": "linear", "batch": reference.ravel().tolist(),
                  "one_image": reference[0].tolist(), "load_ms": 2.0,
                  "latency_batch": timing, "latency_one": timing}]}},
            {"requests": [], "console": [{"type": "error", "text": "INFO: noise"}], "blocked": [],
             "result": {"startup_ms": 100.0, "models": [{"label": "broken", "error": "no"}]}},
        ],
    }  # fmt: skip
    run = browser._browser_run(
        [model, broken], report, {"pytorch": reference, "tensorflow": reference}, np.array([0, 1])
    )
    good, bad = run.results
    assert good.worked
    assert good.max_abs_diff == 0
    assert good.latency_batch.median_s == 0.002
    assert not bad.worked
    assert bad.error == "no"
    assert run.runtime_bytes == {"onnxruntime-web": 100, "litert.js": 0}
    assert run.startup_s == {"onnxruntime-web": 0.5, "litert.js": 0.1}
    assert "| onnxruntime-web | 9.9 | 0.1 kB | 500 ms |" in runtimes_markdown(run)
    table = browser_markdown(run)
    assert "| onnxruntime-web | linear | 0.0 kB | yes | 0 |" in table
    assert "**failed**: `no`" in table
    assert run.console_summary() == [
        "onnxruntime-web: nothing on the console",
        "litert.js: 1 error; first error: INFO: noise",
    ]


@pytest.fixture(scope="module")
def browser_run(tmp_path_factory, keras_cnn, split, linear_onnx):
    """Both runtimes in Chromium on small models: two ONNX layouts, three .tflite files."""
    from companion.export_tensorflow import export_keras, write_litert_fixed_batch
    from companion.logits import keras_logits

    if browser_session.chromium_executable() is None:
        pytest.fail("no Chromium: install Debian's chromium or set BOOK_CHROMIUM")
    folder = tmp_path_factory.mktemp("browser")
    weight = np.random.default_rng(0).standard_normal((64, 10)).astype(np.float32)
    images = split.x_test[:20]
    linear = images.reshape(len(images), 64) @ weight
    count = len(images)
    dynamic = export_keras(keras_cnn, "keras-litert", folder).path
    models = [
        BrowserModel(label="channels first", framework="pytorch", runtime="onnxruntime-web",
                     path=linear_onnx(folder / "first.onnx", weight, (1, 8, 8)),
                     image_shape=(1, 8, 8)),
        BrowserModel(label="channels last", framework="pytorch", runtime="onnxruntime-web",
                     path=linear_onnx(folder / "last.onnx", weight, (8, 8, 1)),
                     image_shape=(8, 8, 1)),
        BrowserModel(label="dynamic", framework="tensorflow", runtime="litert.js",
                     path=dynamic, image_shape=(8, 8, 1)),
        BrowserModel(label="fixed", framework="tensorflow", runtime="litert.js",
                     path=write_litert_fixed_batch(keras_cnn, folder / "fixed.tflite", count),
                     one_image_path=write_litert_fixed_batch(keras_cnn, folder / "one.tflite", 1),
                     image_shape=(8, 8, 1)),
    ]  # fmt: skip
    references = {"pytorch": linear, "tensorflow": keras_logits(keras_cnn, images)}
    return run_in_browser(models, images, references, split.y_test[:count])


def test_both_runtimes_reproduce_the_source_models_in_chromium(browser_run):
    by_label = {r.model.label: r for r in browser_run.results}
    for label in ("channels first", "channels last", "fixed"):
        result = by_label[label]
        assert result.worked, (label, result.error, result.max_abs_diff)
        assert result.latency_one.median_s > 0
        assert result.load_s > 0
    assert browser_run.blocked == []
    assert set(browser_run.startup_s) == {"onnxruntime-web", "litert.js"}
    assert browser_run.runtime_bytes["onnxruntime-web"] > 10_000_000  # the .wasm


def test_litert_js_refuses_a_dynamic_batch(browser_run):
    (dynamic,) = [r for r in browser_run.results if r.model.label == "dynamic"]
    # If LiteRT.js learns to resize inputs, the chapter's account is out of date.
    assert not dynamic.worked
    assert "does not match expected ranked tensor type Float32[-1, 8, 8, 1]" in dynamic.error
