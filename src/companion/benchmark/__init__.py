"""Time one training step and one inference batch in every execution mode of both frameworks.

The performance chapter and ``examples/benchmark.py`` both call
:func:`run_benchmark`. For each model (the digits CNN, a small transformer
encoder), each task (``train``: forward, cross-entropy, backward and an Adam
update on one batch; ``predict``: logits for one batch) and each mode in
:data:`MODES`, it builds a fresh model from a fixed seed, times the first
call on its own (tracing and compilation happen there), then times the
steady state with :func:`companion.timing.time_callable`: warm-up calls
apart, ``repeats`` rounds of ``number`` calls, median and interquartile range.

Nothing assumes a GPU. ``device="auto"`` uses CUDA (or Apple's MPS) for
PyTorch and a GPU for TensorFlow when one is visible, and the CPU otherwise;
a mode that cannot run on a machine (no C++ compiler for ``torch.compile``,
no GPU for TensorFlow when one was asked for) is recorded with its error
instead of stopping the run.

One concern per module:

``modes``
    the names: models, tasks, devices, execution modes (imports nothing heavy).
``settings``
    batch sizes, optimizer settings, round length.
``devices``
    devices and thread pools.
``data``
    the fixed batch each mode is timed on.
``steps_pytorch``, ``steps_tensorflow``
    one step or batch, ready to time, per framework.
``results``
    a result per measurement, and the report.
``runner``
    measuring: first call, warm-up, interleaved rounds.
``comparison``
    speed-ups, noise verdicts, break-even, the text table.
``plots``
    the figures.

>>> sorted(MODES)[:3]
['keras', 'keras-on-batch', 'tf-eager']
>>> classify_speedup(1.3, 1.6)
'faster'
"""

from companion.benchmark.comparison import (
    Comparison,
    best_against_best,
    break_even_calls,
    classify_speedup,
    compare,
    compare_results,
    fastest,
    format_table,
    geometric_mean_speedups,
)
from companion.benchmark.data import benchmark_batch
from companion.benchmark.devices import pin_benchmark_threads, resolve_devices
from companion.benchmark.modes import (
    BASELINE,
    CHAPTER_MODES,
    DEVICES,
    MODELS,
    MODES,
    TASK_TITLES,
    TASKS,
    Mode,
)
from companion.benchmark.plots import plot_one_off_costs, plot_speedups
from companion.benchmark.results import (
    BenchmarkReport,
    BenchmarkResult,
    per_step,
)
from companion.benchmark.runner import (
    collect_environment,
    compiler_start_up,
    measure,
    measure_group,
    print_progress,
    run_benchmark,
)
from companion.benchmark.settings import (
    ADAM_EPSILON,
    DEFAULT_BATCH_SIZES,
    DEFAULT_TRANSFORMER,
    FIT_STEPS_PER_EPOCH,
    LEARNING_RATE,
    MAX_CALLS_PER_ROUND,
    ROUND_SECONDS,
)
from companion.benchmark.steps_pytorch import torch_step
from companion.benchmark.steps_tensorflow import tf_step

__all__ = [
    "ADAM_EPSILON",
    "BASELINE",
    "CHAPTER_MODES",
    "DEFAULT_BATCH_SIZES",
    "DEFAULT_TRANSFORMER",
    "DEVICES",
    "FIT_STEPS_PER_EPOCH",
    "LEARNING_RATE",
    "MAX_CALLS_PER_ROUND",
    "MODELS",
    "MODES",
    "ROUND_SECONDS",
    "TASKS",
    "TASK_TITLES",
    "BenchmarkReport",
    "BenchmarkResult",
    "Comparison",
    "Mode",
    "benchmark_batch",
    "best_against_best",
    "break_even_calls",
    "classify_speedup",
    "collect_environment",
    "compare",
    "compare_results",
    "compiler_start_up",
    "fastest",
    "format_table",
    "geometric_mean_speedups",
    "measure",
    "measure_group",
    "per_step",
    "pin_benchmark_threads",
    "plot_one_off_costs",
    "plot_speedups",
    "print_progress",
    "resolve_devices",
    "run_benchmark",
    "tf_step",
    "torch_step",
]
