"""Reload an artifact in a fresh interpreter that never imports the model's code.

:func:`run_in_fresh_process` starts ``python -m companion.run_artifact``
through :func:`companion.processes.run_python`, hands it the images as a
``.npy`` file and reads back its outputs and timings.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from companion.processes import ProcessError, last_line, run_python
from companion.run_artifact import FORMATS
from companion.timing import TimingResult
from companion.validation import check_choice, check_images


class ArtifactRunError(RuntimeError):
    """The fresh process could not load or run the artifact."""


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


def _timing(data: dict) -> TimingResult:
    data = {k: v for k, v in data.items() if k != "iqr_s"}
    return TimingResult(**data, samples_s=())


def _artifact_run(report: dict, outputs: np.ndarray) -> ArtifactRun:
    return ArtifactRun(
        outputs=outputs,
        import_s=report["import_s"],
        load_s=report["load_s"],
        first_call_s=report["first_call_s"],
        latency_one=_timing(report["latency_one"]),
        latency_batch=_timing(report["latency_batch"]),
        batch_size=report["batch_size"],
        modules=report["modules"],
        warnings=report["warnings"],
        one_image_diff=report["one_image_max_abs_diff"],
    )


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
    check_choice("runner_format", runner_format, FORMATS)
    images = check_images(images)
    with tempfile.TemporaryDirectory(prefix="run-artifact-") as scratch:
        inputs = Path(scratch) / "images.npy"
        outputs = Path(scratch) / "outputs.npy"
        np.save(inputs, images)
        arguments = [
            "-m",
            "companion.run_artifact",
            runner_format,
            path,
            inputs,
        ]
        options = [
            "--output",
            outputs,
            "--repeats",
            repeats,
            "--threads",
            threads,
        ]
        try:
            done = run_python([*arguments, *options], timeout=timeout)
        except ProcessError as error:
            raise ArtifactRunError(
                f"no answer from the runner within {timeout} s"
            ) from error
        if done.returncode != 0:
            raise ArtifactRunError(
                last_line(done.stderr, f"runner exited {done.returncode}")
            )
        report = json.loads(last_line(done.stdout))
        return _artifact_run(report, np.load(outputs))
