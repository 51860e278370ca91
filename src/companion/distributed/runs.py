"""Data-parallel runs of the digits CNN in both frameworks, and their comparison with one process.

:func:`run_data_parallel` trains the steps of a
:class:`~companion.distributed.plan.TrainingPlan` with ``processes``
processes in one framework's own engine: ``torchrun`` and DDP over gloo for
PyTorch, one ``python -m companion.distributed.mwms`` per worker with
``TF_CONFIG`` for TensorFlow. With ``processes=1`` it trains in this
process instead, on whole global batches: the reference. Every process
starts from the same initial weights and every run reads the same global
batches, so the final weights of any two runs may differ only by rounding
(:func:`weight_difference`). Nothing can hang: every process has a deadline
and every process group a timeout.

>>> 'dist.init_process_group("gloo", timeout=timeout)' in data_parallel_lines("pytorch")
True
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from companion.distributed import launch
from companion.distributed.plan import DATA_FILE, TrainingPlan, write_run_data
from companion.frameworks import FRAMEWORKS, PYTORCH, TENSORFLOW
from companion.timing import TimingResult, summarize
from companion.validation import check_choice, check_instance, check_int

#: Steps left out of step-time statistics (first calls, traces, allocations).
WARMUP_STEPS = 5
WORKER_MODULES = {
    PYTORCH: "companion.distributed.ddp",
    TENSORFLOW: "companion.distributed.mwms",
}
MARKER = "# data-parallel"


@dataclass
class DataParallelRun:
    """One training run: final weights (PyTorch layout), step times and the workers' report."""

    framework: str
    processes: int
    plan: TrainingPlan
    weights: dict
    step_seconds: list[float]
    report: dict = field(default_factory=dict)
    wall_seconds: float = 0.0

    def step_time(self) -> TimingResult:
        """Per-step seconds without the first :data:`WARMUP_STEPS` steps."""
        later = self.step_seconds[WARMUP_STEPS:] or self.step_seconds
        return summarize(later)


def _check_run_arguments(framework, processes, plan) -> None:
    check_choice("framework", framework, FRAMEWORKS)
    check_int("processes", processes, minimum=1)
    check_instance("plan", plan, TrainingPlan)
    if plan.global_batch % processes:
        raise ValueError(
            f"the global batch ({plan.global_batch}) must split evenly over "
            f"{processes} processes"
        )


def new_run_dir(framework: str) -> Path:
    """A fresh scratch directory holding the run's data file."""
    directory = Path(tempfile.mkdtemp(prefix=f"companion-{framework}-"))
    write_run_data(directory)
    return directory


def single_process(framework: str, plan: TrainingPlan) -> DataParallelRun:
    """Train in this process on whole global batches (the reference)."""
    from companion.distributed import ddp, mwms
    from companion.distributed.plan import read_run_data

    _check_run_arguments(framework, 1, plan)
    directory = new_run_dir(framework)
    try:
        images, labels, weights = read_run_data(directory / DATA_FILE)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    start = time.perf_counter()
    trainer = ddp.train_single if framework == PYTORCH else mwms.train_single
    out = trainer(plan, images, labels, weights)
    return DataParallelRun(
        framework,
        1,
        plan,
        out["weights"],
        out["step_seconds"],
        wall_seconds=time.perf_counter() - start,
    )


def start_workers(
    framework: str,
    plan: TrainingPlan,
    processes: int,
    run_dir: Path,
    *,
    timeout: float,
    options=(),
    max_restarts: int = 0,
    attempt: int = 0,
) -> launch.ProcessSet:
    """Start one framework's workers on ``run_dir``; return the running set.

    PyTorch: one ``torchrun`` (its agent starts the ranks and, with
    ``max_restarts``, restarts them). TensorFlow: one process per worker on
    fresh loopback ports, ``attempt`` telling them which attempt this is.
    """
    arguments = [
        "--run-dir",
        str(run_dir),
        *plan.arguments(),
        *map(str, options),
    ]
    job = launch.ProcessSet(run_dir, timeout=timeout)
    if framework == PYTORCH:
        command = launch.torchrun_command(
            WORKER_MODULES[PYTORCH],
            arguments,
            processes=processes,
            max_restarts=max_restarts,
        )
        job.start("torchrun", command, launch.worker_environment())
        return job
    ports = launch.free_ports(processes)
    for index in range(processes):
        environment = launch.worker_environment(
            {
                "TF_CONFIG": launch.tf_config(ports, index),
                "BOOK_ATTEMPT": str(attempt),
            }
        )
        command = [
            sys.executable,
            "-m",
            WORKER_MODULES[TENSORFLOW],
            *arguments,
        ]
        job.start(f"worker{index}-attempt{attempt}", command, environment)
    return job


def read_result(run_dir: Path, framework: str) -> tuple[dict, dict]:
    """The report and the final weights that worker 0 (rank 0) wrote."""
    from companion.cnn_arrays import load_arrays

    report = json.loads((run_dir / f"result-{framework}.json").read_text())
    return report, load_arrays(run_dir / f"weights-{framework}.npz")


def read_fit_attempts(run_dir: Path) -> list[dict]:
    """What ``model.fit`` raised in each TensorFlow worker (``--try-fit``)."""
    return [
        json.loads(path.read_text())
        for path in sorted(run_dir.glob("fit-worker*.json"))
    ]


def run_data_parallel(
    framework: str,
    plan: TrainingPlan,
    processes: int = 2,
    *,
    timeout: float = 120.0,
    options=(),
    keep: bool = False,
) -> DataParallelRun:
    """Train ``plan`` with ``processes`` processes in ``framework``'s engine.

    ``options`` go to every worker (for instance ``["--fsdp-steps", "5"]``).
    The run directory is removed afterwards unless ``keep``; then its path is
    in ``report["run_dir"]``.
    """
    _check_run_arguments(framework, processes, plan)
    if processes == 1:
        return single_process(framework, plan)
    run_dir = new_run_dir(framework)
    start = time.perf_counter()
    with start_workers(
        framework, plan, processes, run_dir, timeout=timeout, options=options
    ) as job:
        finished = job.wait(grace=10.0)
    wall = time.perf_counter() - start
    launch.check_finished(
        finished, f"{framework} with {processes} processes (logs in {run_dir})"
    )
    report, weights = read_result(run_dir, framework)
    report["fit_attempts"] = read_fit_attempts(run_dir)
    if not keep:
        shutil.rmtree(run_dir, ignore_errors=True)
    if keep:
        report["run_dir"] = str(run_dir)
    run = DataParallelRun(
        framework,
        processes,
        plan,
        weights,
        report.pop("step_seconds"),
        report,
        wall,
    )
    _RUNS[(framework, processes, plan)] = run
    return run


_RUNS: dict[tuple, DataParallelRun] = {}


def uninterrupted(
    framework: str, plan: TrainingPlan, processes: int = 2, **options
) -> DataParallelRun:
    """The uninterrupted run of ``plan``: from this process's earlier runs, or run now."""
    key = (framework, processes, plan)
    if key not in _RUNS:
        run_data_parallel(framework, plan, processes, **options)
    return _RUNS[key]


def raise_fit_failure(run: DataParallelRun) -> None:
    """Raise here what ``model.fit`` raised in TensorFlow worker 0 (a ``--try-fit`` run).

    The exception has the worker's type (a built-in one, or ``RuntimeError``)
    and message, and says where in Keras it was raised.
    """
    import builtins

    attempts = run.report.get("fit_attempts") or []
    if not attempts:
        raise ValueError(
            "this run did not try model.fit (worker option --try-fit)"
        )
    first = attempts[0]
    if first["raised"] is None:
        print("model.fit ran without an error in every worker")
        return
    kind = getattr(builtins, first["raised"], None)
    if not (isinstance(kind, type) and issubclass(kind, Exception)):
        kind = RuntimeError
    raise kind(
        f"{first['message']} [raised by model.fit in TensorFlow worker 0, "
        f"{first['where']}]"
    )


def weight_difference(
    first: DataParallelRun, second: DataParallelRun
) -> float:
    """The largest element-wise difference between two runs' final weights."""
    from companion.cnn_arrays import max_abs_difference

    return max_abs_difference(first.weights, second.weights)


def _marked_statements(source: str) -> list[str]:
    """The statements of ``source`` that carry :data:`MARKER` (compound ones by header)."""
    tree = ast.parse(source)
    lines = source.splitlines()
    marked = {
        i + 1 for i, line in enumerate(lines) if line.rstrip().endswith(MARKER)
    }
    found: dict[int, str] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt) or isinstance(
            node, ast.FunctionDef | ast.ClassDef
        ):
            continue
        body = getattr(node, "body", None)
        last = body[0].lineno - 1 if body else node.end_lineno
        span = set(range(node.lineno, last + 1))
        if span & marked and not body:
            text = ast.get_source_segment(source, node)
        elif node.lineno in marked and body:
            text = lines[node.lineno - 1].split("#")[0].strip()
        else:
            continue
        text = "\n".join(line.split("#")[0] for line in text.splitlines())
        text = re.sub(r"\(\s+", "(", " ".join(text.split()))
        text = re.sub(r",\s*\)", ")", text)
        found.setdefault(node.lineno, re.sub(r"\s+\)", ")", text))
    return [found[k] for k in sorted(found)]


def data_parallel_lines(framework: str) -> list[str]:
    """The statements the framework's worker adds for data parallelism (marked in its source).

    Each is given on one line, however the formatter wrapped it.
    """
    import importlib

    check_choice("framework", framework, FRAMEWORKS)
    module = importlib.import_module(WORKER_MODULES[framework])
    statements = _marked_statements(inspect.getsource(module))
    # Inner statements of a wrapped call repeat in its text: keep the outer one.
    return [
        s for s in statements if not any(s != o and s in o for o in statements)
    ]


def launch_lines(framework: str, processes: int = 2) -> list[str]:
    """How a reader starts ``processes`` workers on one machine, one line per command."""
    check_choice("framework", framework, FRAMEWORKS)
    check_int("processes", processes, minimum=1)
    if framework == PYTORCH:
        return [f"torchrun --standalone --nproc-per-node={processes} train.py"]
    ports = [12345 + i for i in range(processes)]
    return [
        f"TF_CONFIG='{launch.tf_config(ports, i)}' python train.py &"
        for i in range(processes)
    ]


def environment_note() -> dict:
    """The variables every worker gets on top of the parent's environment."""
    return dict(launch.WORKER_ENVIRONMENT)


__all__ = [
    "DataParallelRun",
    "data_parallel_lines",
    "environment_note",
    "launch_lines",
    "raise_fit_failure",
    "run_data_parallel",
    "single_process",
    "start_workers",
    "uninterrupted",
    "weight_difference",
]
