"""Export routes, reloads in a fresh process, and the deployment matrix built from them.

A *route* is one way of getting a trained model out of Python: a function
that writes an artifact (a file or a directory) and a runtime that loads it.
:mod:`companion.export_pytorch` and :mod:`companion.export_tensorflow` define
the routes of each framework; this module holds what they share:

* :func:`attempt_export` runs an exporter, keeps the warnings it raised and
  whatever it printed, and records a failure with its real error instead of
  raising, so one broken route does not hide the others;
* :func:`run_in_fresh_process` starts ``python -m companion.run_artifact``,
  a process that never imports the model's Python code, and reads back its
  outputs and timings;
* :func:`evaluate_route` adds the comparison with the source model (maximum
  absolute difference, accuracy) and the artifact's size on disk;
* :func:`matrix_markdown` and :func:`plot_matrix` turn a list of results into
  the book's deployment matrix.

>>> format_bytes(18_052)
'17.6 kB'
>>> format_seconds(0.000123)
'123 µs'
>>> max_abs_diff(np.zeros((2, 3)), np.full((2, 3), 0.5))
0.5
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from companion.timing import TimingResult

FRAMEWORKS = ("pytorch", "tensorflow")

#: Largest elementwise difference in the logits a float32 route may show and
#: still count as computing the same function (float round-off is ~1e-6 here).
FLOAT_TOLERANCE = 1e-4
#: Largest drop in test accuracy, in fractions, a lossy (quantized) route may show.
LOSSY_ACCURACY_DROP = 0.01

#: Loggers of exporters that write progress to standard error while they work.
NOISY_LOGGERS = (
    "torch.onnx",
    "torch._dynamo",
    "torch._inductor",
    "tensorflow",
    "tf2onnx",
    "absl",
)


@dataclass(frozen=True)
class Route:
    """One way out of Python: who exports, what is written, what loads it."""

    name: str
    framework: str
    exporter: str
    runner_format: str
    artifact: str
    runtime: str
    #: Lossy by design (quantization): judged by test accuracy, not elementwise.
    lossy: bool = False

    def __post_init__(self):
        if self.framework not in FRAMEWORKS:
            raise ValueError(
                f"framework must be one of {FRAMEWORKS}, got {self.framework!r}"
            )


@dataclass
class ExportRecord:
    """What happened when one route exported a model."""

    route: Route
    path: Path | None
    seconds: float
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    log: str = ""

    @property
    def worked(self) -> bool:
        return self.error is None


@dataclass
class ArtifactRun:
    """The report of one fresh-process run (see :mod:`companion.run_artifact`)."""

    outputs: np.ndarray
    import_s: float
    load_s: float
    first_call_s: float
    latency_one: TimingResult
    latency_batch: TimingResult
    batch_size: int
    modules: dict[str, bool]
    warnings: list[str]
    #: Largest difference between the first image run alone and within the batch.
    one_image_diff: float = 0.0

    @property
    def frameworks_loaded(self) -> list[str]:
        """The watched modules the fresh process ended up importing."""
        return [name for name, loaded in self.modules.items() if loaded]


@dataclass
class RouteResult:
    """One row of the deployment matrix."""

    route: Route
    error: str | None
    export_s: float | None = None
    size_bytes: int | None = None
    max_abs_diff: float | None = None
    accuracy: float | None = None
    source_accuracy: float | None = None
    run: ArtifactRun | None = None

    @property
    def ran(self) -> bool:
        """Exported, reloaded in a fresh process and produced outputs."""
        return self.error is None and self.run is not None

    @property
    def worked(self) -> bool:
        """Ran, and its outputs match the source model (see :func:`outputs_match`)."""
        return self.ran and outputs_match(self)

    @property
    def status(self) -> str:
        if not self.ran:
            return "failed"
        return "yes" if self.worked else "wrong outputs"


def outputs_match(result: RouteResult) -> bool:
    """Whether a route computed what the source model computes.

    A float route must agree elementwise within :data:`FLOAT_TOLERANCE`, on
    the batch and on its first image run alone; a lossy route must not lose
    more than :data:`LOSSY_ACCURACY_DROP` of test accuracy (dynamic-range
    quantization scales activations per call, so one image alone may differ).
    """
    if result.max_abs_diff is None or result.accuracy is None:
        return False
    if result.route.lossy:
        return result.source_accuracy - result.accuracy <= LOSSY_ACCURACY_DROP
    one_image = result.run.one_image_diff if result.run is not None else 0.0
    return max(result.max_abs_diff, one_image) <= FLOAT_TOLERANCE


def error_line(error: BaseException) -> str:
    """``"KeyError: 'x'"``: the exception's type and the first line of its message.

    >>> error_line(ValueError("bad shape\\nmore detail"))
    'ValueError: bad shape'
    """
    message = str(error).strip().splitlines()
    return (
        f"{type(error).__name__}: {message[0]}"
        if message
        else type(error).__name__
    )


@contextlib.contextmanager
def _quiet_exporters(buffer: io.StringIO):
    """Send prints and the exporters' log records into ``buffer`` for the duration."""
    handler = logging.StreamHandler(buffer)
    saved = []
    for name in NOISY_LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.handlers[:], logger.propagate))
        logger.handlers = [handler]
        logger.propagate = False
    try:
        with (
            contextlib.redirect_stdout(buffer),
            contextlib.redirect_stderr(buffer),
        ):
            yield
    finally:
        for logger, handlers, propagate in saved:
            logger.handlers = handlers
            logger.propagate = propagate


def attempt_export(
    route: Route, export: Callable[[Path], object], path: Path
) -> ExportRecord:
    """Call ``export(path)``; return what happened, with its warnings, output and any error.

    Warnings are collected (each message once) rather than shown, and
    anything the exporter prints goes to ``record.log``. An exception becomes
    ``record.error`` (type and first line) instead of propagating: the caller
    reports failed routes next to working ones.

    >>> route = Route("demo", "pytorch", "numpy.save", "none", "a.npy", "numpy")
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     record = attempt_export(route, lambda p: np.save(p, [1.0]), Path(tmp) / "a.npy")
    >>> record.worked, record.error
    (True, None)
    >>> attempt_export(route, lambda p: 1 / 0, Path("unused")).error
    'ZeroDivisionError: division by zero'
    """
    if not isinstance(route, Route):
        raise TypeError(f"route must be a Route, got {type(route).__name__}")
    if not callable(export):
        raise TypeError(
            f"export must be callable, got {type(export).__name__}"
        )
    path = Path(path)
    buffer = io.StringIO()
    start = time.perf_counter()
    error = None
    with (
        warnings.catch_warnings(record=True) as caught,
        _quiet_exporters(buffer),
    ):
        warnings.simplefilter("always")
        try:
            export(path)
        except (
            Exception
        ) as exc:  # a failing route is a result, reported with its error
            error = error_line(exc)
    seconds = time.perf_counter() - start
    messages = list(
        dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught)
    )
    if error is None and not path.exists():
        error = f"the exporter returned without writing {path.name}"
    return ExportRecord(
        route=route,
        path=path if error is None else None,
        seconds=seconds,
        error=error,
        warnings=messages,
        log=buffer.getvalue(),
    )


def artifact_size(path: Path) -> int:
    """Bytes on disk of a file, or of every file under a directory.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (Path(tmp) / "a").write_bytes(b"12345")
    ...     artifact_size(Path(tmp))
    5
    """
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    raise FileNotFoundError(f"no artifact at {path}")


def max_abs_diff(outputs: np.ndarray, reference: np.ndarray) -> float:
    """Largest absolute elementwise difference; the shapes must match."""
    outputs, reference = np.asarray(outputs), np.asarray(reference)
    if outputs.shape != reference.shape:
        raise ValueError(
            f"outputs have shape {outputs.shape}, the reference {reference.shape}: "
            "they must match to be compared"
        )
    return float(
        np.max(
            np.abs(outputs.astype(np.float64) - reference.astype(np.float64))
        )
    )


def accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Share of rows whose largest logit is at the label.

    >>> accuracy(np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([1, 1]))
    0.5
    """
    logits, labels = np.asarray(logits), np.asarray(labels)
    if logits.ndim != 2 or labels.shape != (len(logits),):
        raise ValueError(
            f"logits must be (N, classes) and labels (N,), got {logits.shape} and {labels.shape}"
        )
    return float(np.mean(logits.argmax(axis=1) == labels))


class ArtifactRunError(RuntimeError):
    """The fresh process could not load or run the artifact."""


def run_in_fresh_process(
    runner_format: str,
    path: Path,
    images: np.ndarray,
    *,
    repeats: int = 15,
    threads: int = 1,
    timeout: float = 300,
) -> ArtifactRun:
    """Run ``python -m companion.run_artifact`` on ``path`` in a new interpreter.

    The child process imports only the runtime for ``runner_format`` (never
    the model definitions); its stdout is one JSON line and its outputs come
    back through a ``.npy`` file. A failure raises :class:`ArtifactRunError`
    with the last line the child wrote to stderr.
    """
    from companion.run_artifact import FORMATS, check_images

    if runner_format not in FORMATS:
        raise ValueError(
            f"runner_format must be one of {sorted(FORMATS)}, got {runner_format!r}"
        )
    images = check_images(images)
    env = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"),
    }
    with tempfile.TemporaryDirectory(prefix="run-artifact-") as scratch:
        inputs = Path(scratch) / "images.npy"
        outputs = Path(scratch) / "outputs.npy"
        np.save(inputs, images)
        command = [
            sys.executable,
            "-m",
            "companion.run_artifact",
            runner_format,
            str(path),
            str(inputs),
            "--output",
            str(outputs),
            "--repeats",
            str(repeats),
            "--threads",
            str(threads),
        ]
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=timeout,
                env=env,
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            raise ArtifactRunError(
                f"no answer from the runner within {timeout} s"
            ) from error
        if done.returncode != 0:
            lines = [
                line
                for line in done.stderr.strip().splitlines()
                if line.strip()
            ]
            raise ArtifactRunError(
                lines[-1] if lines else f"runner exited {done.returncode}"
            )
        report = json.loads(done.stdout.strip().splitlines()[-1])
        result = np.load(outputs)

    def timing(data: dict) -> TimingResult:
        data = {k: v for k, v in data.items() if k != "iqr_s"}
        return TimingResult(**data, samples_s=())

    return ArtifactRun(
        outputs=result,
        import_s=report["import_s"],
        load_s=report["load_s"],
        first_call_s=report["first_call_s"],
        latency_one=timing(report["latency_one"]),
        latency_batch=timing(report["latency_batch"]),
        batch_size=report["batch_size"],
        modules=report["modules"],
        warnings=report["warnings"],
        one_image_diff=report["one_image_max_abs_diff"],
    )


def evaluate_route(
    record: ExportRecord,
    images: np.ndarray,
    reference: np.ndarray,
    labels: np.ndarray,
    **runner_options,
) -> RouteResult:
    """Reload ``record``'s artifact in a fresh process and compare it with the source model.

    ``images`` is the batch in the layout the artifact expects, ``reference``
    the source model's logits for it, ``labels`` the true classes. A route
    whose export failed, or whose artifact does not load or run, becomes a
    failed row with that error.
    """
    if not isinstance(record, ExportRecord):
        raise TypeError(
            f"record must be an ExportRecord, got {type(record).__name__}"
        )
    reference = np.asarray(reference)
    source_accuracy = accuracy(reference, labels)
    if not record.worked:
        return RouteResult(
            record.route,
            record.error,
            record.seconds,
            source_accuracy=source_accuracy,
        )
    size = artifact_size(record.path)
    try:
        run = run_in_fresh_process(
            record.route.runner_format, record.path, images, **runner_options
        )
    except ArtifactRunError as error:
        return RouteResult(
            record.route,
            f"reload failed: {error}",
            record.seconds,
            size_bytes=size,
            source_accuracy=source_accuracy,
        )
    return RouteResult(
        route=record.route,
        error=None,
        export_s=record.seconds,
        size_bytes=size,
        max_abs_diff=max_abs_diff(run.outputs, reference),
        accuracy=accuracy(run.outputs, labels),
        source_accuracy=source_accuracy,
        run=run,
    )


def format_bytes(size: int | None) -> str:
    """Sizes in kB or MB (1 kB = 1024 bytes); ``"–"`` for no size."""
    if size is None:
        return "–"
    if size >= 1024**2:
        return f"{size / 1024**2:.2f} MB"
    return f"{size / 1024:.1f} kB"


def format_seconds(seconds: float | None) -> str:
    """A duration with a unit that keeps three significant digits."""
    if seconds is None:
        return "–"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"


def format_latency(timing: TimingResult) -> str:
    """Median and interquartile range, the range in the median's unit.

    >>> format_latency(TimingResult(3.69e-5, 3.67e-5, 3.71e-5, 3.6e-5, 4e-5, 0.1, 15, 100, ()))
    '36.9 µs (IQR 0.4)'
    >>> format_latency(TimingResult(6.9e-4, 6.0e-4, 7.5e-4, 5e-4, 9e-4, 0.1, 15, 10, ()))
    '690 µs (IQR 150)'
    """
    median = format_seconds(timing.median_s)
    unit = median.split(" ")[1]
    spread = timing.iqr_s * {"s": 1.0, "ms": 1e3, "µs": 1e6}[unit]
    return (
        f"{median} (IQR {spread:.2g})"
        if spread < 100
        else f"{median} (IQR {spread:.0f})"
    )


FRAMEWORK_TITLES = {"pytorch": "PyTorch", "tensorflow": "TensorFlow"}


def matrix_rows(results: list[RouteResult]) -> list[dict[str, str]]:
    """The matrix as a list of rows of formatted cells, one per route."""
    if not isinstance(results, list | tuple) or not all(
        isinstance(r, RouteResult) for r in results
    ):
        raise TypeError("results must be a list of RouteResult")
    rows = []
    for result in results:
        route, run = result.route, result.run
        row = {
            "Route": route.exporter,
            "Worked": {
                "yes": "yes",
                "wrong outputs": "**wrong outputs**",
                "failed": f"**failed**: `{result.error}`",
            }[result.status],
            "Max abs diff": "–",
            "Accuracy": "–",
            "Size": format_bytes(result.size_bytes),
            "Import + load": "–",
            "Latency, 1 image": "–",
            "Latency, batch": "–",
        }
        if run is not None:
            change = result.accuracy - result.source_accuracy
            row["Max abs diff"] = f"{result.max_abs_diff:.1g}"
            row["Accuracy"] = f"{result.accuracy:.1%}" + (
                f" ({change * 100:+.1f} pt)" if change else ""
            )
            row["Import + load"] = (
                f"{format_seconds(run.import_s)} + {format_seconds(run.load_s)}"
            )
            row["Latency, 1 image"] = format_latency(run.latency_one)
            row["Latency, batch"] = format_latency(run.latency_batch)
        rows.append(row)
    return rows


#: The matrix's two halves: what each route gives, and what it costs in time.
OUTCOME_COLUMNS = ("Route", "Worked", "Max abs diff", "Accuracy", "Size")
SPEED_COLUMNS = (
    "Route",
    "Import + load",
    "Latency, 1 image",
    "Latency, batch",
)


def _table(
    rows: list[dict[str, str]], columns: tuple[str, ...], header: list[str]
) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = [row.get(key, "") for key in columns]
        lines.append(
            "| "
            + " | ".join(cell.replace("|", "\\|") for cell in cells)
            + " |"
        )
    return lines


def matrix_markdown(results: list[RouteResult]) -> str:
    """The deployment matrix as Markdown: an outcome table and a speed table.

    Each table has a row per route, grouped under a row naming the framework.
    The batch latency column is named after the batch size the routes ran.
    """
    rows = matrix_rows(results)
    if not rows:
        raise ValueError("results is empty: nothing to tabulate")
    grouped = []
    for framework, title in FRAMEWORK_TITLES.items():
        mine = [
            row
            for row, r in zip(rows, results, strict=True)
            if r.route.framework == framework
        ]
        if mine:
            grouped += [{"Route": f"**{title}**"}, *mine]
    ran = [r for r in results if r.ran]
    batch = (
        f"Latency, {ran[0].run.batch_size} images" if ran else "Latency, batch"
    )
    speed_header = [
        batch if c == "Latency, batch" else c for c in SPEED_COLUMNS
    ]
    lines = ["**Does it work, and how big is it?**", ""]
    lines += _table(grouped, OUTCOME_COLUMNS, list(OUTCOME_COLUMNS))
    lines += ["", "**What does it cost in time?**", ""]
    lines += _table(grouped, SPEED_COLUMNS, speed_header)
    return "\n".join(lines)


def plot_matrix(results: list[RouteResult]):
    """Size, fresh-process start-up and latency of the routes that ran, as three panels."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    ran = [r for r in results if r.ran]
    if not ran:
        raise ValueError("no route ran: nothing to plot")
    colour = {"pytorch": "tab:orange", "tensorflow": "tab:blue"}
    colours = [colour[r.route.framework] for r in ran]
    y = np.arange(len(ran))
    figure, axes = plt.subplots(
        1, 3, figsize=(11, 0.42 * len(ran) + 1.7), sharey=True
    )

    axes[0].barh(y, [r.size_bytes / 1024 for r in ran], color=colours)
    axes[0].set_xscale("log")
    axes[0].set_xlabel("artifact size on disk (kB, log scale)")
    axes[0].legend(
        handles=[Patch(color=colour[f], label=f) for f in FRAMEWORKS],
        loc="lower right",
        fontsize="small",
    )

    imports = np.array([r.run.import_s for r in ran])
    loads = np.array([r.run.load_s for r in ran])
    axes[1].barh(y, imports, color=colours, alpha=0.4)
    axes[1].barh(y, loads, left=imports, color=colours)
    axes[1].set_xlabel("fresh process: import + load (s)")
    axes[1].legend(
        handles=[
            Patch(color="grey", alpha=0.4, label="import the runtime"),
            Patch(color="grey", label="load the artifact"),
        ],
        loc="lower right",
        fontsize="small",
    )

    batch = ran[0].run.batch_size
    for offset, attribute, marker, label in (
        (-0.17, "latency_one", "o", "1 image"),
        (0.17, "latency_batch", "s", f"{batch} images"),
    ):
        timings = [getattr(r.run, attribute) for r in ran]
        medians = np.array([t.median_s for t in timings]) * 1e3
        spread = (
            np.array(
                [[t.median_s - t.q1_s, t.q3_s - t.median_s] for t in timings]
            ).T
            * 1e3
        )
        axes[2].errorbar(
            medians,
            y + offset,
            xerr=spread,
            fmt=marker,
            color="black",
            markersize=4,
            label=label,
        )
    axes[2].set_xscale("log")
    axes[2].set_xlabel(
        "latency per call (ms, log scale)\nmarker: median, bar: quartiles"
    )
    axes[2].legend(loc="lower right", fontsize="small")

    axes[0].set_yticks(y, [r.route.exporter for r in ran])
    axes[0].invert_yaxis()
    for axis in axes:
        axis.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    return figure


def imports_markdown(results: list[RouteResult]) -> str:
    """What each route's fresh process imported, as a Markdown table.

    The model definitions (``companion.cnn``) get a column of their own: it
    must say "no" everywhere.
    """
    ran = [r for r in results if r.ran]
    if not ran:
        raise ValueError("no route ran: nothing to tabulate")
    lines = [
        "| Route | Frameworks and runtimes imported | Model code imported |",
        "|---|---|---|",
    ]
    for result in ran:
        modules = result.run.modules
        runtimes = [
            name
            for name, loaded in modules.items()
            if loaded and name != "companion.cnn"
        ]
        model_code = "yes" if modules.get("companion.cnn") else "no"
        lines.append(
            f"| {result.route.exporter} | {', '.join(runtimes)} | {model_code} |"
        )
    return "\n".join(lines)


def _label(route: Route) -> str:
    return f"{route.framework}: {route.exporter}"


def matrix_findings(results: list[RouteResult]) -> list[str]:
    """Plain sentences read off the matrix: what worked, extremes of size, start-up and latency."""
    if not results:
        raise ValueError("results is empty")
    ran = [r for r in results if r.ran]
    lines = []
    for framework in FRAMEWORKS:
        mine = [r for r in results if r.route.framework == framework]
        if mine:
            good = sum(r.worked for r in mine)
            lines.append(
                f"{framework}: {good} of {len(mine)} routes worked end to end"
            )
    for result in results:
        if result.status != "yes":
            detail = result.error or (
                f"max abs diff {result.max_abs_diff:.1e}, accuracy {result.accuracy:.1%}"
            )
            lines.append(f"{result.status}: {_label(result.route)} ({detail})")
    if ran:

        def extremes(key, what, fmt):
            low, high = min(ran, key=key), max(ran, key=key)
            return (
                f"{what}: lowest {_label(low.route)} ({fmt(key(low))}), "
                f"highest {_label(high.route)} ({fmt(key(high))})"
            )

        lines.append(
            extremes(lambda r: r.size_bytes, "size on disk", format_bytes)
        )
        lines.append(
            extremes(
                lambda r: r.run.import_s + r.run.load_s,
                "fresh start (import + load)",
                format_seconds,
            )
        )
        lines.append(
            extremes(
                lambda r: r.run.latency_one.median_s,
                "latency for 1 image",
                format_seconds,
            )
        )
        batch = ran[0].run.batch_size
        lines.append(
            extremes(
                lambda r: r.run.latency_batch.median_s,
                f"latency for {batch} images",
                format_seconds,
            )
        )
    return lines


def onnx_summary(path: Path) -> dict:
    """Opset, inputs and outputs (with symbolic dimensions) and operator counts of an ONNX file."""
    from collections import Counter

    import onnx

    model = onnx.load(str(path))

    def shape(value):
        dims = value.type.tensor_type.shape.dim
        return [d.dim_param or d.dim_value for d in dims]

    opsets = {
        entry.domain or "ai.onnx": entry.version
        for entry in model.opset_import
    }
    return {
        "producer": f"{model.producer_name} {model.producer_version}".strip(),
        "opset": opsets.get("ai.onnx"),
        "inputs": {v.name: shape(v) for v in model.graph.input},
        "outputs": {v.name: shape(v) for v in model.graph.output},
        "operators": dict(Counter(node.op_type for node in model.graph.node)),
    }


def format_summary(summary: dict, width: int = 70) -> str:
    """A dictionary as ``key  value`` lines, long values wrapped under themselves.

    >>> print(format_summary({"opset": 20, "operators": {"Conv": 2, "Relu": 3}}, width=24))
    opset      20
    operators  {'Conv': 2,
               'Relu': 3}
    """
    import textwrap

    if not isinstance(summary, dict):
        raise TypeError(
            f"summary must be a dict, got {type(summary).__name__}"
        )
    pad = max(len(str(key)) for key in summary) + 2 if summary else 0
    lines = []
    for key, value in summary.items():
        lines.append(
            textwrap.fill(
                str(value),
                width,
                initial_indent=f"{key!s:<{pad}}",
                subsequent_indent=" " * pad,
                break_on_hyphens=False,
            )
        )
    return "\n".join(lines)
