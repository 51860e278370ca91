"""Export routes, reloads in a fresh process, and the deployment matrix built from them.

A *route* is one way of getting a trained model out of Python: a function
that writes an artifact (a file or a directory) and a runtime that loads it.
:mod:`companion.export_pytorch` and :mod:`companion.export_tensorflow` define
the routes of each framework; this package holds what they share, one
concern per module:

``records``
    :class:`Route`, and :func:`attempt_export`, which records what an
    exporter did (warnings, output, its real error) instead of raising.
``fresh_process``
    :func:`run_in_fresh_process`: ``python -m companion.run_artifact``, a
    process that never imports the model's Python code.
``evaluation``
    :func:`evaluate_route`: the comparison with the source model (maximum
    absolute difference, accuracy) and the artifact's size on disk.
``formatting``, ``matrix``, ``findings``, ``plots``
    the book's deployment matrix: cells, Markdown tables, sentences, figure.
``onnx_summary``
    what an ONNX file holds.
``installability``
    :func:`check_install`: would a package install beside the pinned ones?
    (pip's resolver, in a dry run).
``browser``, ``browser_session``, ``harness``, ``web_runtimes``
    :func:`run_in_browser`: the artifacts in onnxruntime-web and LiteRT.js,
    in headless Chromium, every file served from this machine.
``openvino_precision``
    what precision OpenVINO's CPU plugin computes in.
``demo_site``
    the models and runtime files of the draw-a-digit page, made by the build.

>>> format_bytes(18_052)
'17.6 kB'
>>> format_seconds(0.000123)
'123 µs'
"""

from companion.cli import error_line
from companion.deployment.browser import (
    BrowserModel,
    BrowserResult,
    BrowserRun,
    browser_markdown,
    run_in_browser,
    runtimes_markdown,
)
from companion.deployment.evaluation import (
    FLOAT_TOLERANCE,
    LOSSY_ACCURACY_DROP,
    RouteResult,
    accuracy,
    evaluate_route,
    max_abs_diff,
    outputs_match,
)
from companion.deployment.findings import matrix_findings
from companion.deployment.formatting import (
    format_bytes,
    format_latency,
    format_seconds,
)
from companion.deployment.fresh_process import (
    ArtifactRun,
    ArtifactRunError,
    run_in_fresh_process,
)
from companion.deployment.installability import (
    InstallCheck,
    check_install,
    check_installs,
)
from companion.deployment.matrix import (
    OUTCOME_COLUMNS,
    SPEED_COLUMNS,
    imports_markdown,
    matrix_markdown,
    matrix_rows,
)
from companion.deployment.onnx_summary import format_summary, onnx_summary
from companion.deployment.openvino_precision import compare_precisions
from companion.deployment.plots import plot_matrix
from companion.deployment.records import (
    NOISY_LOGGERS,
    ExportRecord,
    Route,
    artifact_size,
    attempt_export,
)

__all__ = [
    "FLOAT_TOLERANCE",
    "LOSSY_ACCURACY_DROP",
    "NOISY_LOGGERS",
    "OUTCOME_COLUMNS",
    "SPEED_COLUMNS",
    "ArtifactRun",
    "ArtifactRunError",
    "BrowserModel",
    "BrowserResult",
    "BrowserRun",
    "ExportRecord",
    "InstallCheck",
    "Route",
    "RouteResult",
    "accuracy",
    "artifact_size",
    "attempt_export",
    "browser_markdown",
    "check_install",
    "check_installs",
    "compare_precisions",
    "error_line",
    "evaluate_route",
    "format_bytes",
    "format_latency",
    "format_seconds",
    "format_summary",
    "imports_markdown",
    "matrix_findings",
    "matrix_markdown",
    "matrix_rows",
    "max_abs_diff",
    "onnx_summary",
    "outputs_match",
    "plot_matrix",
    "run_in_browser",
    "run_in_fresh_process",
    "runtimes_markdown",
]
