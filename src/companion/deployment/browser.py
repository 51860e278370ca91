"""The exported models in a real browser: run them, compare them with their sources, time them.

:func:`run_in_browser` puts the artifacts and the test images in a scratch
folder, starts ``python -m companion.deployment.browser_session`` (headless
Chromium, every file served from 127.0.0.1) and compares what each runtime
computed with the logits of the model the artifact came from, as the
fresh-process matrix does for the Python runtimes. :func:`browser_markdown`
tabulates the result.

>>> model = BrowserModel(label="PyTorch → ONNX", framework="pytorch",
...                      runtime="onnxruntime-web", path=Path("pytorch.onnx"),
...                      image_shape=(1, 8, 8))
>>> model.runtime, model.image_shape
('onnxruntime-web', (1, 8, 8))
>>> BrowserModel(label="x", framework="pytorch", runtime="webnn", path=Path("m"),
...              image_shape=(1, 8, 8))
Traceback (most recent call last):
    ...
ValueError: runtime must be one of ('onnxruntime-web', 'litert.js'), got 'webnn'
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from companion.deployment.evaluation import (
    FLOAT_TOLERANCE,
    accuracy,
    max_abs_diff,
)
from companion.deployment.formatting import (
    format_bytes,
    format_latency,
    format_seconds,
)
from companion.deployment.web_runtimes import PACKAGES
from companion.frameworks import FRAMEWORKS, LABELS
from companion.processes import check_run, run_python
from companion.timing import TimingResult, summarize
from companion.validation import check_choice, check_images

#: The runtimes :func:`run_in_browser` knows, in the order it runs them.
RUNTIMES = tuple(PACKAGES)


@dataclass(frozen=True, kw_only=True)
class BrowserModel:
    """One artifact to run in the browser, and how its input is shaped."""

    label: str
    framework: str
    runtime: str
    path: Path
    #: One image's shape as the artifact takes it: (1, 8, 8) or (8, 8, 1).
    image_shape: tuple[int, ...]
    #: A second file for a single image, for runtimes that need a fixed batch.
    one_image_path: Path | None = None

    def __post_init__(self):
        check_choice("framework", self.framework, FRAMEWORKS)
        check_choice("runtime", self.runtime, RUNTIMES)


@dataclass
class BrowserResult:
    """What one artifact did in the browser: its outputs against the source model, its times."""

    model: BrowserModel
    error: str | None
    runtime_version: str = ""
    size_bytes: int | None = None
    max_abs_diff: float | None = None
    one_image_diff: float | None = None
    accuracy: float | None = None
    load_s: float | None = None
    latency_one: TimingResult | None = None
    latency_batch: TimingResult | None = None
    batch_size: int = 0

    @property
    def worked(self) -> bool:
        """Ran, and matched the source model within the float tolerance, batch and one image."""
        return (
            self.error is None
            and self.max_abs_diff is not None
            and max(self.max_abs_diff, self.one_image_diff) <= FLOAT_TOLERANCE
        )


@dataclass
class BrowserRun:
    """Every runtime's results, and what the browser saw while they ran."""

    chromium: str
    npm_versions: dict[str, str]
    results: list[BrowserResult]
    #: Bytes each runtime downloaded for itself (its scripts and WebAssembly), by runtime.
    runtime_bytes: dict[str, int]
    #: Console messages by runtime: (type, text) pairs.
    console: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    #: Requests to any other host than the local server (refused): there should be none.
    blocked: list[str] = field(default_factory=list)
    #: Errors that stopped a runtime before it ran any model, by runtime.
    runtime_errors: dict[str, str] = field(default_factory=dict)
    #: Seconds from importing each runtime's module to its first model loaded (empty cache):
    #: fetching and compiling its WebAssembly dominates.
    startup_s: dict[str, float] = field(default_factory=dict)

    def console_summary(self) -> list[str]:
        """One line per runtime: how many console messages of each type, and the first error."""
        lines = []
        for runtime, messages in self.console.items():
            counts = Counter(kind for kind, _ in messages)
            if not counts:
                lines.append(f"{runtime}: nothing on the console")
                continue
            shown = ", ".join(
                f"{n} {kind}" for kind, n in sorted(counts.items())
            )
            errors = [text for kind, text in messages if kind == "error"]
            first = f"; first error: {errors[0][:90]}" if errors else ""
            lines.append(f"{runtime}: {shown}{first}")
        return lines


def _latency(entry: dict) -> TimingResult:
    samples = [ms / 1e3 for ms in entry["samples_ms"]]
    return summarize(samples, number=entry["number"])


def _result(model, entry, reference, labels, version) -> BrowserResult:
    size = model.path.stat().st_size
    if "error" in entry:
        return BrowserResult(model, entry["error"], version, size)
    batch = np.asarray(entry["batch"], np.float32).reshape(reference.shape)
    one = np.asarray(entry["one_image"], np.float32).reshape(1, -1)
    return BrowserResult(
        model=model,
        error=None,
        runtime_version=version,
        size_bytes=size,
        max_abs_diff=max_abs_diff(batch, reference),
        one_image_diff=max_abs_diff(one, reference[:1]),
        accuracy=accuracy(batch, labels),
        load_s=entry["load_ms"] / 1e3,
        latency_one=_latency(entry["latency_one"]),
        latency_batch=_latency(entry["latency_batch"]),
        batch_size=len(reference),
    )


def _spec(models, folder: Path, count: int) -> dict:
    runtimes = []
    for runtime in RUNTIMES:
        mine = []
        for index, model in enumerate(models):
            if model.runtime != runtime:
                continue
            entry = {
                "label": model.label,
                "file": model.path.name,
                "image_shape": list(model.image_shape),
            }
            for key, path in (
                ("url", model.path),
                ("one_image_url", model.one_image_path),
            ):
                if path is not None:
                    name = f"{index}-{Path(path).name}"
                    shutil.copyfile(path, folder / name)
                    entry[key] = f"/models/{name}"
            mine.append(entry)
        if mine:
            runtimes.append(
                {
                    "runtime": runtime,
                    "images": "/models/images.bin",
                    "count": count,
                    "models": mine,
                }
            )
    return {"folder": str(folder), "runtimes": runtimes}


def run_in_browser(
    models: list[BrowserModel],
    images: np.ndarray,
    references: dict[str, np.ndarray],
    labels: np.ndarray,
    *,
    timeout: float = 600,
) -> BrowserRun:
    """Run each model in headless Chromium on ``images``; compare with ``references``.

    ``images`` is the test batch with one channel (its bytes are the same in
    either layout); ``references`` maps a framework id to its source model's
    logits for it. Each runtime runs in a fresh browser context; a model that
    fails to load or run becomes a result with its error.
    """
    images = check_images(images)
    if images.shape[1:] not in ((1, 8, 8), (8, 8, 1)):
        raise ValueError(
            f"images must be 8x8 with one channel, got {images.shape[1:]}"
        )
    if not models:
        raise ValueError("models is empty: nothing to run")
    with tempfile.TemporaryDirectory(prefix="browser-run-") as scratch:
        folder = Path(scratch)
        np.ascontiguousarray(images, np.float32).tofile(folder / "images.bin")
        spec = _spec(models, folder, len(images))
        (folder / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
        arguments = ["-m", "companion.deployment.browser_session"]
        arguments += [folder / "spec.json", folder / "result.json"]
        check_run(
            run_python(arguments, timeout=timeout), "the browser session"
        )
        report = json.loads(
            (folder / "result.json").read_text(encoding="utf-8")
        )
    return _browser_run(models, report, references, labels)


def _browser_run(models, report, references, labels) -> BrowserRun:
    by_label = {m.label: m for m in models}
    run = BrowserRun(report["chromium"], report["npm"], [], {})
    for runtime_spec, record in zip(
        _runtimes_of(models), report["runs"], strict=True
    ):
        run.console[runtime_spec] = [
            (m["type"], m["text"]) for m in record["console"]
        ]
        run.blocked += record["blocked"]
        run.runtime_bytes[runtime_spec] = sum(
            r["bytes"]
            for r in record["requests"]
            if not r["path"].startswith(("/models/", "/harness/"))
        )
        if "error" in record:
            run.runtime_errors[runtime_spec] = record["error"]
            for model in (m for m in models if m.runtime == runtime_spec):
                run.results.append(BrowserResult(model, record["error"]))
            continue
        result = record["result"]
        version = result.get("version") or report["npm"].get(runtime_spec, "")
        if result.get("startup_ms") is not None:
            run.startup_s[runtime_spec] = result["startup_ms"] / 1e3
        for entry in result["models"]:
            model = by_label[entry["label"]]
            reference = np.asarray(references[model.framework])
            run.results.append(
                _result(model, entry, reference, labels, version)
            )
    return run


def _runtimes_of(models) -> list[str]:
    return [r for r in RUNTIMES if any(m.runtime == r for m in models)]


def _cells(result: BrowserResult) -> list[str]:
    head = [
        result.model.runtime,
        result.model.label,
        format_bytes(result.size_bytes),
    ]
    if result.error is not None:
        return [*head, f"**failed**: `{result.error}`", "–", "–", "–", "–"]
    worked = "yes" if result.worked else "**wrong outputs**"
    diff = f"{max(result.max_abs_diff, result.one_image_diff):.1g}"
    return [
        *head,
        worked,
        diff,
        format_seconds(result.load_s),
        format_latency(result.latency_one),
        format_latency(result.latency_batch),
    ]


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += [
        "| " + " | ".join(c.replace("|", "\\|") for c in row) + " |"
        for row in rows
    ]
    return lines


def runtimes_markdown(run: BrowserRun) -> str:
    """Each runtime: its npm version, what a page downloads for it, and its start-up time."""
    rows = []
    for runtime, size in run.runtime_bytes.items():
        start = run.startup_s.get(runtime)
        start_cell = (
            format_seconds(start)
            if start is not None
            else run.runtime_errors.get(runtime, "–")
        )
        rows.append(
            [
                runtime,
                run.npm_versions.get(runtime, "?"),
                format_bytes(size),
                start_cell,
            ]
        )
    header = [
        "Runtime",
        "npm version",
        "Downloaded (scripts, WebAssembly)",
        "Start-up",
    ]
    return "\n".join(_table(header, rows))


def browser_markdown(run: BrowserRun) -> str:
    """One row per artifact run in the browser, grouped by framework.

    *Model load* is the time to create a session (onnxruntime-web) or compile
    the model (LiteRT.js) once the runtime is up; latencies are per call,
    median and interquartile range.
    """
    ran = [r for r in run.results if r.latency_batch is not None]
    batch = ran[0].batch_size if ran else "batch"
    header = [
        "Runtime",
        "Artifact",
        "Size",
        "Worked",
        "Max abs diff",
        "Model load",
        "Latency, 1 image",
        f"Latency, {batch} images",
    ]
    rows = []
    for framework in FRAMEWORKS:
        mine = [r for r in run.results if r.model.framework == framework]
        if mine:
            rows.append(
                [f"**{LABELS[framework]}**", *[""] * (len(header) - 1)]
            )
            rows += [_cells(result) for result in mine]
    return "\n".join(_table(header, rows))


__all__ = [
    "RUNTIMES",
    "BrowserModel",
    "BrowserResult",
    "BrowserRun",
    "browser_markdown",
    "run_in_browser",
    "runtimes_markdown",
]
