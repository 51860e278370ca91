"""Measure modes: build each one's callable, time its first call, then interleaved rounds.

:func:`run_benchmark` is what the performance chapter and
``examples/benchmark.py`` call; :func:`measure_group` measures the modes of
one (model, task) pair; :func:`measure` a single mode.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace

from companion.benchmark import settings
from companion.benchmark.data import benchmark_batch
from companion.benchmark.devices import (
    device_scope,
    resolve_devices,
    torch_synchronize,
)
from companion.benchmark.modes import (
    CHAPTER_MODES,
    COMPILE_MODES,
    MODELS,
    MODES,
    TASKS,
)
from companion.benchmark.results import (
    BenchmarkReport,
    BenchmarkResult,
    per_step,
)
from companion.benchmark.settings import (
    DEFAULT_BATCH_SIZES,
    DEFAULT_TRANSFORMER,
    FIT_STEPS_PER_EPOCH,
)
from companion.benchmark.steps_pytorch import torch_step
from companion.benchmark.steps_tensorflow import tf_step
from companion.cli import error_line
from companion.environment import (
    machine_summary,
    package_versions,
    thread_settings,
)
from companion.frameworks import PYTORCH
from companion.timing import TimingResult, summarize, time_callable
from companion.transformer import TransformerConfig
from companion.validation import (
    check_choice,
    check_instance,
    check_int,
    check_names,
)

#: An error message in a result is cut to this many characters.
ERROR_LIMIT = 300


@contextlib.contextmanager
def _cold_compile_cache(enabled: bool):
    """A fresh, empty TorchInductor cache, so compile times are those of a first run."""
    if not enabled:
        yield
        return
    import torch

    torch.compiler.reset()
    try:
        from torch._inductor.utils import fresh_cache
    except ImportError:  # older or newer torch: use the caches as they are
        yield
        return
    with fresh_cache():
        yield
    torch.compiler.reset()


@dataclass
class _Prepared:
    """A mode ready for timing: its callable, and the samples and notes gathered so far."""

    result: BenchmarkResult
    function: Callable[[], object] | None = None
    synchronize: Callable[[], object] | None = None
    number: int = 1
    samples: list[float] = field(default_factory=list)
    warmup_s: float = 0.0
    notes: list[str] = field(default_factory=list)

    def fail(self, error: BaseException) -> None:
        """A mode that cannot run here is a result, not a crash."""
        self.result = replace(
            self.result, error=error_line(error, limit=ERROR_LIMIT)
        )
        self.function = None


@contextlib.contextmanager
def _noting_warnings(notes: list[str]):
    """Record the warnings a block emits (first line each, once) instead of printing them."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for warning in caught:
        line = str(warning.message).strip().splitlines()
        note = f"{warning.category.__name__}: {line[0] if line else ''}"
        if note not in notes:
            notes.append(note)


def _callables(model, task, mode, x, y, where, config):
    """The mode's step and what waits for its device, as zero-argument callables."""
    if MODES[mode].framework == PYTORCH:
        function = torch_step(model, task, mode, x, y, where, config)
        return function, torch_synchronize(where)
    step = tf_step(model, task, mode, x, y, config)
    last: list = []

    def function():
        last[:] = [step()]

    def synchronize():
        if last and hasattr(last[0], "numpy"):  # wait for the device
            last[0].numpy()

    return function, synchronize


def _time_once(function, synchronize, *, warmup: int = 0) -> TimingResult:
    return time_callable(
        function, warmup=warmup, repeats=1, number=1, synchronize=synchronize
    )


def _calls_per_round(number: int | None, call_s: float) -> int:
    """``number``, or (``None``) enough calls of ``call_s`` to fill a round."""
    if number is not None:
        return number
    calls = round(settings.ROUND_SECONDS / max(call_s, 1e-9))
    return max(1, min(settings.MAX_CALLS_PER_ROUND, calls))


def _prepare(
    model,
    task,
    mode,
    x,
    y,
    where,
    config,
    *,
    warmup,
    number,
    cold_compile_cache,
) -> _Prepared:
    """Build one mode's callable, time its first call (tracing, compiling), then warm it up.

    The last warm-up call is timed too; with ``number=None`` it sets how
    many calls a round makes.
    """
    info = MODES[mode]
    steps = FIT_STEPS_PER_EPOCH if (mode, task) == ("keras", "train") else 1
    prepared = _Prepared(
        BenchmarkResult(
            model=model,
            task=task,
            mode=mode,
            label=info.label,
            framework=info.framework,
            device=where,
            batch_size=len(x),
            steps_per_call=steps,
        )
    )
    if where == "no GPU":
        prepared.result = replace(
            prepared.result, error="TensorFlow sees no GPU on this machine"
        )
        return prepared
    cold = mode in COMPILE_MODES and cold_compile_cache
    try:
        with (
            _noting_warnings(prepared.notes),
            device_scope(info.framework, where),
        ):
            with _cold_compile_cache(cold):
                function, synchronize = _callables(
                    model, task, mode, x, y, where, config
                )
                first = _time_once(function, synchronize)
            warm = _time_once(function, synchronize, warmup=max(warmup - 1, 0))
    except Exception as error:  # a mode that cannot run here is a result
        prepared.fail(error)
        return prepared
    prepared.function, prepared.synchronize = function, synchronize
    prepared.warmup_s = warm.warmup_s + warm.median_s
    prepared.number = _calls_per_round(number, warm.median_s)
    prepared.result = replace(prepared.result, first_call_s=first.median_s)
    return prepared


def _time_round(prepared: _Prepared) -> None:
    """One timed round of ``prepared.number`` calls; an error ends the mode."""
    framework, where = prepared.result.framework, prepared.result.device
    try:
        with _noting_warnings(prepared.notes), device_scope(framework, where):
            timing = time_callable(
                prepared.function,
                warmup=0,
                repeats=1,
                number=prepared.number,
                synchronize=prepared.synchronize,
            )
    except Exception as error:  # reported in the result, as above
        prepared.fail(error)
        return
    prepared.samples.append(timing.median_s)


def _finish(prepared: _Prepared) -> BenchmarkResult:
    """The result of a prepared mode once its rounds are done."""
    result = prepared.result
    if result.error is None and prepared.samples:
        steady = summarize(
            prepared.samples,
            warmup_s=prepared.warmup_s,
            number=prepared.number,
        )
        result = replace(
            result, steady=per_step(steady, result.steps_per_call)
        )
    if result.mode == "keras" and result.task == "train":
        prepared.notes.append(
            f"fit ran {result.steps_per_call} steps per epoch; times are per step"
        )
    return replace(result, notes=tuple(prepared.notes))


def _check_timing_options(repeats, number, warmup) -> None:
    check_int("repeats", repeats, minimum=1)
    if number is not None:
        check_int("number", number, minimum=1)
    check_int("warmup", warmup, minimum=1)


def measure_group(
    model: str,
    task: str,
    modes: Iterable[str],
    *,
    repeats: int = 21,
    number: int | None = None,
    warmup: int = 2,
    device: str = "cpu",
    batch_size: int | None = None,
    config: TransformerConfig = DEFAULT_TRANSFORMER,
    cold_compile_cache: bool = True,
) -> list[BenchmarkResult]:
    """Measure several modes on one (model, task), their rounds interleaved.

    Each mode is built, its first call timed on its own, and then called
    ``warmup`` more times untimed. Then come ``repeats`` rounds; in each,
    every mode makes ``number`` timed calls (``None``: enough calls to last
    about :data:`~companion.benchmark.settings.ROUND_SECONDS`), in an order
    that rotates from round to round. Interleaving matters on a shared
    machine: a burst of load from elsewhere then slows all modes alike
    instead of one of them. ``device`` is one of
    :data:`~companion.benchmark.modes.DEVICES` (see
    :func:`~companion.benchmark.devices.resolve_devices`).
    """
    check_choice("model", model, MODELS)
    check_choice("task", task, TASKS)
    modes = check_names("modes", modes, MODES)
    _check_timing_options(repeats, number, warmup)
    check_instance("config", config, TransformerConfig)
    if batch_size is None:
        batch_size = DEFAULT_BATCH_SIZES[model, task]
    check_int("batch_size", batch_size, minimum=1)
    devices = resolve_devices(device)
    x, y = benchmark_batch(model, task, batch_size, config)

    group = [
        _prepare(
            model,
            task,
            mode,
            x,
            y,
            devices[MODES[mode].framework],
            config,
            warmup=warmup,
            number=number,
            cold_compile_cache=cold_compile_cache,
        )
        for mode in modes
    ]
    for round_index in range(repeats):
        active = [p for p in group if p.function is not None]
        if not active:
            break
        shift = round_index % len(active)
        for prepared in active[shift:] + active[:shift]:
            _time_round(prepared)
    return [_finish(prepared) for prepared in group]


def measure(model: str, task: str, mode: str, **options) -> BenchmarkResult:
    """Measure a single (model, task, mode); ``options`` as for :func:`measure_group`."""
    check_choice("mode", mode, MODES)
    return measure_group(model, task, [mode], **options)[0]


def _first_torch_compile() -> float:
    import torch

    # Modules the compiler imports here warn about their own internals
    # (a torch module still defines a TorchScript class); that is noise
    # for the modes timed later, so it is silenced, here only.
    with _cold_compile_cache(True), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        double_sine = torch.compile(lambda t: torch.sin(t) * 2)
        start = time_callable(
            lambda: double_sine(torch.ones(8)), warmup=0, repeats=1
        )
    return start.median_s


def _first_tf_function(jit_compile: bool) -> float:
    import tensorflow as tf

    traced = tf.function(lambda t: tf.sin(t) * 2, jit_compile=jit_compile)
    return time_callable(
        lambda: traced(tf.ones(8)), warmup=0, repeats=1
    ).median_s


def compiler_start_up(modes: Iterable[str]) -> dict[str, float]:
    """Seconds the first compilation in a process takes on a trivial function, per compiler.

    The first ``torch.compile`` in a process imports TorchDynamo and
    TorchInductor and starts its compile workers; the first XLA compilation
    initializes XLA. That cost is paid once per process, whatever the model,
    so :func:`run_benchmark` pays it here and reports it apart, instead of
    charging it to whichever model happens to be compiled first. It also
    absorbs the deprecation warnings those first imports raise.
    """
    modes = check_names("modes", modes, MODES)
    seconds = {}
    if any(mode in COMPILE_MODES for mode in modes):
        seconds["torch.compile"] = _first_torch_compile()
    for mode, jit in {"tf-function": False, "tf-function-xla": True}.items():
        if mode in modes:
            seconds[MODES[mode].label] = _first_tf_function(jit)
    return seconds


def collect_environment(devices: dict[str, str]) -> dict:
    """Machine, package versions, thread counts and devices, for the report."""
    return {
        "machine": machine_summary(),
        "packages": package_versions(
            ["torch", "tensorflow", "keras", "numpy"]
        ),
        "threads": thread_settings(),
        "devices": devices,
    }


def _batch_sizes(batch_sizes) -> dict[tuple[str, str], int]:
    sizes = dict(DEFAULT_BATCH_SIZES)
    for key, value in (batch_sizes or {}).items():
        if key not in sizes:
            raise ValueError(
                f"batch_sizes keys must be among {sorted(sizes)}, got {key!r}"
            )
        sizes[key] = check_int(f"batch size for {key}", value, minimum=1)
    return sizes


def run_benchmark(
    models: Iterable[str] = MODELS,
    tasks: Iterable[str] = TASKS,
    modes: Iterable[str] = CHAPTER_MODES,
    *,
    repeats: int = 21,
    number: int | None = None,
    warmup: int = 2,
    device: str = "auto",
    batch_sizes: dict[tuple[str, str], int] | None = None,
    config: TransformerConfig = DEFAULT_TRANSFORMER,
    cold_compile_cache: bool = True,
    progress: Callable[[BenchmarkResult], None] | None = None,
) -> BenchmarkReport:
    """Measure every (model, task, mode) and return a :class:`BenchmarkReport`.

    Thread counts are whatever the frameworks are set to: pin them first
    (:func:`companion.reproducibility.pin_threads`), before TensorFlow runs
    any op. With ``cold_compile_cache`` every ``torch.compile`` mode starts
    from an empty TorchInductor cache, so its first call shows a first run's
    compile time.
    """
    models = check_names("models", models, MODELS)
    tasks = check_names("tasks", tasks, TASKS)
    modes = check_names("modes", modes, MODES)
    _check_timing_options(repeats, number, warmup)
    sizes = _batch_sizes(batch_sizes)
    environment = collect_environment(resolve_devices(device))
    environment["first_compile_in_process_s"] = compiler_start_up(modes)
    report = BenchmarkReport(
        environment=environment,
        settings={
            "models": list(models),
            "tasks": list(tasks),
            "modes": list(modes),
            "repeats": repeats,
            "number": "auto" if number is None else number,
            "round_seconds": settings.ROUND_SECONDS
            if number is None
            else None,
            "warmup": warmup,
            "device": device,
            "batch_sizes": {f"{m}/{t}": n for (m, t), n in sizes.items()},
            "transformer": asdict(config),
            "fit_steps_per_epoch": FIT_STEPS_PER_EPOCH,
            "cold_compile_cache": cold_compile_cache,
        },
    )
    for model in models:
        for task in tasks:
            for result in measure_group(
                model,
                task,
                modes,
                repeats=repeats,
                number=number,
                warmup=warmup,
                device=device,
                batch_size=sizes[model, task],
                config=config,
                cold_compile_cache=cold_compile_cache,
            ):
                report.results.append(result)
                if progress is not None:
                    progress(result)
    return report


def print_progress(result: BenchmarkResult) -> None:
    """A progress callback printing one line per measurement."""
    head = f"{result.model:<11} {result.task:<7} {result.label:<44}"
    if not result.ok:
        print(f"{head} failed: {result.error}", flush=True)
        return
    print(
        f"{head} {result.steady.format('ms')}, first call {result.first_call_s:.2f} s",
        flush=True,
    )
