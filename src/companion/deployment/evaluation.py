"""Judge a route: reload its artifact, compare its outputs with the source model's.

>>> max_abs_diff(np.zeros((2, 3)), np.full((2, 3), 0.5))
0.5
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from companion.deployment.fresh_process import (
    ArtifactRun,
    ArtifactRunError,
    run_in_fresh_process,
)
from companion.deployment.records import ExportRecord, Route, artifact_size
from companion.validation import check_instance, check_rank

#: Largest elementwise difference in the logits a float32 route may show and
#: still count as computing the same function (float round-off is ~1e-6 here).
FLOAT_TOLERANCE = 1e-4
#: Largest drop in test accuracy, in fractions, a lossy (quantized) route may show.
LOSSY_ACCURACY_DROP = 0.01


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


def max_abs_diff(outputs: np.ndarray, reference: np.ndarray) -> float:
    """Largest absolute elementwise difference; the shapes must match."""
    outputs, reference = np.asarray(outputs), np.asarray(reference)
    if outputs.shape != reference.shape:
        raise ValueError(
            f"outputs have shape {outputs.shape}, the reference {reference.shape}: "
            "they must match to be compared"
        )
    difference = outputs.astype(np.float64) - reference.astype(np.float64)
    return float(np.max(np.abs(difference)))


def accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Share of rows whose largest logit is at the label.

    >>> accuracy(np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([1, 1]))
    0.5
    """
    logits, labels = np.asarray(logits), np.asarray(labels)
    check_rank("logits", logits.shape, ("N", "classes"))
    if labels.shape != (len(logits),):
        raise ValueError(
            f"labels must be ({len(logits)},), one per row of logits, got {labels.shape}"
        )
    return float(np.mean(logits.argmax(axis=1) == labels))


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
    check_instance("record", record, ExportRecord)
    reference = np.asarray(reference)
    source_accuracy = accuracy(reference, labels)
    if not record.worked:
        return RouteResult(
            route=record.route,
            error=record.error,
            export_s=record.seconds,
            source_accuracy=source_accuracy,
        )
    size = artifact_size(record.path)
    try:
        run = run_in_fresh_process(
            record.route.runner_format, record.path, images, **runner_options
        )
    except ArtifactRunError as error:
        return RouteResult(
            route=record.route,
            error=f"reload failed: {error}",
            export_s=record.seconds,
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
