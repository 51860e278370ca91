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

>>> sorted(MODES)[:3]
['keras', 'keras-on-batch', 'tf-eager']
>>> MODES["tf-function-xla"].label
'tf.function(jit_compile=True)'
>>> classify_speedup(0.8, 1.1)
'within noise'
>>> classify_speedup(1.3, 1.6)
'faster'
"""

from __future__ import annotations

import contextlib
import json
import statistics
import warnings
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from companion.timing import TimingResult, summarize, time_callable
from companion.transformer import TransformerConfig, synthetic_batch
from companion.validation import check_int

MODELS = ("cnn", "transformer")
TASKS = ("train", "predict")
TASK_TITLES = {"train": "training step", "predict": "inference batch"}
DEVICES = ("auto", "cpu", "cuda", "mps")


@dataclass(frozen=True)
class Mode:
    """One way of running a model: a framework and how its code is executed."""

    name: str
    label: str
    framework: str  # "pytorch" or "tensorflow"
    description: str
    short: str = ""  # a label that fits narrow tables; defaults to ``label``

    def __post_init__(self):
        if not self.short:
            object.__setattr__(self, "short", self.label)


MODES: dict[str, Mode] = {
    mode.name: mode
    for mode in (
        Mode(
            "torch-eager",
            "PyTorch eager",
            "pytorch",
            "plain calls, one kernel per op",
        ),
        Mode(
            "torch-compile",
            "torch.compile (default)",
            "pytorch",
            "TorchDynamo captures the graph, TorchInductor generates fused code",
            "torch.compile default",
        ),
        Mode(
            "torch-compile-max-autotune",
            "torch.compile (max-autotune-no-cudagraphs)",
            "pytorch",
            "like default, and benchmarks alternative kernels for matrix products",
            "torch.compile max-autotune",
        ),
        Mode(
            "torch-compile-reduce-overhead",
            "torch.compile (reduce-overhead)",
            "pytorch",
            "like default, plus CUDA graphs to cut launch overhead (GPU only)",
            "torch.compile reduce-overhead",
        ),
        Mode(
            "torchscript",
            "TorchScript (torch.jit.trace)",
            "pytorch",
            "the legacy graph capture, deprecated in favour of torch.compile/torch.export",
            "TorchScript (jit.trace)",
        ),
        Mode(
            "tf-eager",
            "TensorFlow eager",
            "tensorflow",
            "plain calls, op by op",
        ),
        Mode(
            "tf-function",
            "tf.function",
            "tensorflow",
            "traced once into a TensorFlow graph",
        ),
        Mode(
            "tf-function-xla",
            "tf.function(jit_compile=True)",
            "tensorflow",
            "the traced graph compiled as a whole by XLA",
            "tf.function + XLA",
        ),
        Mode(
            "keras",
            "Keras fit / predict",
            "tensorflow",
            "model.fit and model.predict",
        ),
        Mode(
            "keras-on-batch",
            "Keras train_on_batch / predict_on_batch",
            "tensorflow",
            "one batch per call, without fit's and predict's data pipeline",
            "Keras *_on_batch",
        ),
    )
}

#: The mode every other one is compared with.
BASELINE = "torch-eager"

#: The modes the performance chapter times.
CHAPTER_MODES = (
    "torch-eager",
    "torch-compile",
    "torch-compile-max-autotune",
    "torchscript",
    "tf-eager",
    "tf-function",
    "tf-function-xla",
    "keras",
    "keras-on-batch",
)

#: The transformer's sizes unless told otherwise.
DEFAULT_TRANSFORMER = TransformerConfig()

#: Batch sizes per model and task.
DEFAULT_BATCH_SIZES = {
    ("cnn", "train"): 64,
    ("cnn", "predict"): 256,
    ("transformer", "train"): 32,
    ("transformer", "predict"): 64,
}

#: Keras ``fit`` is timed over an epoch of this many identical batches (its per-epoch
#: set-up would swamp a one-batch epoch); times are reported per step.
FIT_STEPS_PER_EPOCH = 10

LEARNING_RATE = 1e-3
ADAM_EPSILON = 1e-8


@dataclass(frozen=True)
class BenchmarkResult:
    """One (model, task, mode) measurement. Times are per training step or per batch."""

    model: str
    task: str
    mode: str
    label: str
    framework: str
    device: str
    batch_size: int
    steps_per_call: int = 1
    first_call_s: float | None = None
    steady: TimingResult | None = None
    notes: tuple[str, ...] = ()
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.steady is not None

    @property
    def one_off_s(self) -> float | None:
        """First call minus the steady cost of the same work: tracing, compiling, set-up."""
        if not self.ok or self.first_call_s is None:
            return None
        return max(
            0.0, self.first_call_s - self.steps_per_call * self.steady.median_s
        )

    def as_dict(self) -> dict:
        data = asdict(self)
        data["steady"] = None if self.steady is None else self.steady.as_dict()
        data["notes"] = list(self.notes)
        data["one_off_s"] = self.one_off_s
        return data


@dataclass
class BenchmarkReport:
    """Everything one run measured, with the environment it ran in."""

    environment: dict
    settings: dict
    results: list[BenchmarkResult] = field(default_factory=list)

    def find(self, model: str, task: str, mode: str) -> BenchmarkResult | None:
        for result in self.results:
            if (result.model, result.task, result.mode) == (model, task, mode):
                return result
        return None

    def as_dict(self) -> dict:
        return {
            "environment": self.environment,
            "settings": self.settings,
            "results": [result.as_dict() for result in self.results],
            "comparisons": [asdict(c) for c in compare(self)],
        }

    def write_json(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(
            json.dumps(self.as_dict(), indent=2) + "\n", encoding="utf-8"
        )
        return path


# --- Choosing devices ----------------------------------------------------------------


def resolve_devices(device: str = "auto") -> dict[str, str]:
    """Map ``device`` to a PyTorch device and a TensorFlow device name.

    ``"auto"`` picks an accelerator where the framework sees one and the CPU
    otherwise; ``"cuda"`` and ``"mps"`` insist on one for PyTorch.

    >>> resolve_devices("cpu")
    {'pytorch': 'cpu', 'tensorflow': '/CPU:0'}
    """
    if device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
    if device == "cpu":
        return {"pytorch": "cpu", "tensorflow": "/CPU:0"}
    import torch

    mps = getattr(torch.backends, "mps", None)
    mps_ok = bool(mps is not None and mps.is_available())
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            "device 'cuda' was asked for, but torch.cuda.is_available() is False"
        )
    if device == "mps" and not mps_ok:
        raise ValueError(
            "device 'mps' was asked for, but torch.backends.mps is not available"
        )
    import tensorflow as tf

    tf_gpu = bool(tf.config.list_physical_devices("GPU"))
    if device == "auto":
        torch_device = (
            "cuda" if torch.cuda.is_available() else "mps" if mps_ok else "cpu"
        )
        return {
            "pytorch": torch_device,
            "tensorflow": "/GPU:0" if tf_gpu else "/CPU:0",
        }
    # An explicit accelerator: TensorFlow uses a GPU if it has one, and says so if not.
    return {"pytorch": device, "tensorflow": "/GPU:0" if tf_gpu else "no GPU"}


def pin_benchmark_threads(count: int) -> dict[str, int]:
    """Give each framework ``count`` intra-op threads and one inter-op thread.

    Call it before TensorFlow runs its first op and before PyTorch starts any
    parallel work: both fix their thread pools then. One inter-op thread
    keeps TensorFlow from running independent ops side by side on extra
    cores that PyTorch would not use. Returns the four counts as the
    frameworks report them.
    """
    import tensorflow as tf
    import torch

    from companion.reproducibility import pin_threads

    pin_threads(count)
    try:
        if torch.get_num_interop_threads() != 1:
            torch.set_num_interop_threads(1)
        if tf.config.threading.get_inter_op_parallelism_threads() != 1:
            tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError as error:
        raise RuntimeError(
            "inter-op thread pools are fixed once a framework has started working; "
            "call pin_benchmark_threads first thing in a fresh process"
        ) from error
    return {
        "torch intra-op": torch.get_num_threads(),
        "torch inter-op": torch.get_num_interop_threads(),
        "tensorflow intra-op": tf.config.threading.get_intra_op_parallelism_threads(),
        "tensorflow inter-op": tf.config.threading.get_inter_op_parallelism_threads(),
    }


def _torch_synchronize(device: str) -> Callable[[], object] | None:
    import torch

    if device == "cuda":
        return torch.cuda.synchronize
    if device == "mps":
        return torch.mps.synchronize
    return None


# --- Data ----------------------------------------------------------------------------


def benchmark_batch(
    model: str,
    task: str,
    batch_size: int,
    config: TransformerConfig = DEFAULT_TRANSFORMER,
) -> tuple[np.ndarray, np.ndarray]:
    """The fixed batch a (model, task) pair is timed on: images or sequences, and labels.

    CNN batches are digits (training images for ``train``, test images for
    ``predict``, repeated cyclically if the batch is larger than the split),
    channels-first; transformer batches are random sequences.

    >>> x, y = benchmark_batch("cnn", "train", 64)
    >>> x.shape, y.shape
    ((64, 1, 8, 8), (64,))
    >>> benchmark_batch("cnn", "predict", 1000)[0].shape
    (1000, 1, 8, 8)
    """
    _check_choice("model", model, MODELS)
    _check_choice("task", task, TASKS)
    _check_positive_int("batch_size", batch_size)
    if model == "transformer":
        return synthetic_batch(
            config, batch_size, seed=0 if task == "train" else 1
        )
    from companion.digits import load_digits_split

    split = load_digits_split(seed=0)
    images, labels = (
        (split.x_train, split.y_train)
        if task == "train"
        else (split.x_test, split.y_test)
    )
    return (
        np.resize(images, (batch_size, *images.shape[1:])),
        np.resize(labels, (batch_size,)),
    )


# --- PyTorch modes -------------------------------------------------------------------


def _build_torch_model(model: str, config: TransformerConfig):
    if model == "cnn":
        from companion.cnn import build_torch_cnn

        return build_torch_cnn(seed=0)
    from companion.transformer import build_torch_transformer

    return build_torch_transformer(config, seed=0)


_COMPILE_MODES = {
    "torch-compile": "default",
    "torch-compile-max-autotune": "max-autotune-no-cudagraphs",
    "torch-compile-reduce-overhead": "reduce-overhead",
}


def torch_step(
    model: str,
    task: str,
    mode: str,
    x,
    y,
    device: str,
    config: TransformerConfig,
):
    """A zero-argument callable running one training step or one inference batch in PyTorch.

    ``train``: zero the gradients, cross-entropy of the logits, backward, one
    Adam step. Under ``torch.compile`` the forward pass and the loss are
    compiled (AOTAutograd compiles the backward with them); the optimizer step
    runs eagerly. Under TorchScript the model is traced once.
    """
    import torch
    from torch.nn import functional

    network = _build_torch_model(model, config).to(device)
    inputs = torch.from_numpy(x).to(device)
    labels = torch.from_numpy(y).to(device)
    if task == "predict":
        network.eval()
    forward = network
    if mode == "torchscript":
        with torch.no_grad():
            forward = torch.jit.trace(network, inputs)

    if task == "predict":
        if mode in _COMPILE_MODES:
            forward = torch.compile(network, mode=_COMPILE_MODES[mode])

        def predict():
            with torch.no_grad():
                return forward(inputs)

        return predict

    def loss_of(inputs, labels):
        return functional.cross_entropy(forward(inputs), labels)

    if mode in _COMPILE_MODES:
        loss_of = torch.compile(loss_of, mode=_COMPILE_MODES[mode])
    optimizer = torch.optim.Adam(
        network.parameters(), lr=LEARNING_RATE, eps=ADAM_EPSILON
    )

    def train_step():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_of(inputs, labels)
        loss.backward()
        optimizer.step()
        return loss

    return train_step


# --- TensorFlow modes ----------------------------------------------------------------


def _build_keras_model(model: str, config: TransformerConfig):
    if model == "cnn":
        from companion.cnn import build_keras_cnn

        return build_keras_cnn(seed=0)
    from companion.transformer import build_keras_transformer

    return build_keras_transformer(config, seed=0)


def _check_keras_backend() -> None:
    import keras

    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            "the TensorFlow modes need Keras on its TensorFlow backend; "
            f"KERAS_BACKEND is {keras.backend.backend()!r}"
        )


def tf_step(model: str, task: str, mode: str, x, y, config: TransformerConfig):
    """A zero-argument callable for one step or batch in TensorFlow (Keras 3 model).

    ``train`` in the ``tf-*`` modes is a ``GradientTape`` step with a Keras
    Adam optimizer, run eagerly, in ``tf.function``, or in
    ``tf.function(jit_compile=True)``; the whole step (forward, loss,
    gradients, update) is inside the function. ``keras`` uses ``fit`` on an
    epoch of :data:`FIT_STEPS_PER_EPOCH` copies of the batch, and ``predict``;
    ``keras-on-batch`` uses ``train_on_batch`` and ``predict_on_batch``. Both
    compile the model with Keras's default ``jit_compile="auto"``, which
    turns XLA on only when TensorFlow sees a GPU.
    """
    import keras
    import tensorflow as tf

    _check_keras_backend()
    network = _build_keras_model(model, config)
    if model == "cnn":
        from companion.digits import to_channels_last

        x = to_channels_last(x)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = keras.optimizers.Adam(
        learning_rate=LEARNING_RATE, epsilon=ADAM_EPSILON
    )

    if mode == "keras-on-batch":
        if task == "predict":
            return lambda: network.predict_on_batch(x)
        network.compile(optimizer=optimizer, loss=loss_fn)
        return lambda: network.train_on_batch(x, y)
    if mode == "keras":
        if task == "predict":
            return lambda: network.predict(x, batch_size=len(x), verbose=0)
        network.compile(optimizer=optimizer, loss=loss_fn)
        epoch_x = np.concatenate([x] * FIT_STEPS_PER_EPOCH)
        epoch_y = np.concatenate([y] * FIT_STEPS_PER_EPOCH)

        def fit_epoch():
            return network.fit(
                epoch_x,
                epoch_y,
                batch_size=len(x),
                epochs=1,
                shuffle=False,
                verbose=0,
            )

        return fit_epoch

    inputs = tf.constant(x)
    labels = tf.constant(y)

    if task == "predict":

        def predict():
            return network(inputs, training=False)

        function = predict
    else:
        optimizer.build(network.trainable_variables)

        def train_step():
            with tf.GradientTape() as tape:
                loss = loss_fn(labels, network(inputs, training=True))
            gradients = tape.gradient(loss, network.trainable_variables)
            optimizer.apply_gradients(
                zip(gradients, network.trainable_variables, strict=True)
            )
            return loss

        function = train_step
    if mode == "tf-function":
        return tf.function(function)
    if mode == "tf-function-xla":
        return tf.function(function, jit_compile=True)
    return function


# --- Running -------------------------------------------------------------------------


def _check_choice(name: str, value, choices) -> None:
    if value not in choices:
        raise ValueError(
            f"{name} must be one of {tuple(choices)}, got {value!r}"
        )


def _check_positive_int(name: str, value) -> None:
    check_int(name, value, minimum=1)


def _check_names(name: str, values, choices) -> tuple[str, ...]:
    if isinstance(values, str):
        raise TypeError(
            f"{name} must be a list or tuple of names, e.g. [{values!r}]"
        )
    values = tuple(values)
    if not values:
        raise ValueError(f"{name} must name at least one of {tuple(choices)}")
    for value in values:
        _check_choice(f"each of {name}", value, choices)
    return values


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
    except (
        ImportError
    ):  # older or newer torch: fall back to the caches as they are
        yield
        return
    with fresh_cache():
        yield
    torch.compiler.reset()


def _per_step(timing: TimingResult, steps: int) -> TimingResult:
    if steps == 1:
        return timing
    return replace(
        timing,
        median_s=timing.median_s / steps,
        q1_s=timing.q1_s / steps,
        q3_s=timing.q3_s / steps,
        min_s=timing.min_s / steps,
        max_s=timing.max_s / steps,
        samples_s=tuple(s / steps for s in timing.samples_s),
    )


def _short_error(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(error).__name__}: {first}"[:300]


#: With ``number=None``, each round of a mode lasts about this long (at least one call).
ROUND_SECONDS = 0.03
MAX_CALLS_PER_ROUND = 100


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


@contextlib.contextmanager
def _device_scope(framework: str, where: str):
    if framework == "tensorflow":
        import tensorflow as tf

        with tf.device(where):
            yield
    else:
        yield


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
    result = BenchmarkResult(
        model,
        task,
        mode,
        info.label,
        info.framework,
        where,
        len(x),
        steps_per_call=steps,
    )
    prepared = _Prepared(result)
    if where == "no GPU":
        prepared.result = replace(
            result, error="TensorFlow sees no GPU on this machine"
        )
        return prepared
    cold = mode in _COMPILE_MODES and cold_compile_cache
    try:
        with (
            _noting_warnings(prepared.notes),
            _device_scope(info.framework, where),
        ):
            with _cold_compile_cache(cold):
                if info.framework == "pytorch":
                    function = torch_step(
                        model, task, mode, x, y, where, config
                    )
                    synchronize = _torch_synchronize(where)
                else:
                    step = tf_step(model, task, mode, x, y, config)
                    last: list = []

                    def function(step=step, last=last):
                        last[:] = [step()]

                    def synchronize(last=last):
                        if last and hasattr(
                            last[0], "numpy"
                        ):  # wait for the device
                            last[0].numpy()

                first = time_callable(
                    function,
                    warmup=0,
                    repeats=1,
                    number=1,
                    synchronize=synchronize,
                )
            warm = time_callable(
                function,
                warmup=max(warmup - 1, 0),
                repeats=1,
                number=1,
                synchronize=synchronize,
            )
    except (
        Exception
    ) as error:  # a mode that cannot run here is a result, not a crash
        prepared.result = replace(result, error=_short_error(error))
        return prepared
    prepared.function, prepared.synchronize = function, synchronize
    prepared.warmup_s = warm.warmup_s + warm.median_s
    if number is None:
        calls = round(ROUND_SECONDS / max(warm.median_s, 1e-9))
        number = max(1, min(MAX_CALLS_PER_ROUND, calls))
    prepared.number = number
    prepared.result = replace(result, first_call_s=first.median_s)
    return prepared


def _time_round(prepared: _Prepared) -> None:
    """One timed round of ``prepared.number`` calls; an error ends the mode."""
    framework, where = prepared.result.framework, prepared.result.device
    try:
        with _noting_warnings(prepared.notes), _device_scope(framework, where):
            timing = time_callable(
                prepared.function,
                warmup=0,
                repeats=1,
                number=prepared.number,
                synchronize=prepared.synchronize,
            )
    except Exception as error:
        prepared.result = replace(prepared.result, error=_short_error(error))
        prepared.function = None
        return
    prepared.samples.append(timing.median_s)


def _check_number(number) -> None:
    if number is not None:
        _check_positive_int("number", number)


def _check_warmup(warmup) -> None:
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
    about :data:`ROUND_SECONDS`), in an order that rotates from round to
    round. Interleaving matters on a shared machine: a burst of load from
    elsewhere then slows all modes alike instead of one of them.
    ``device`` is one of :data:`DEVICES` (see :func:`resolve_devices`).
    """
    _check_choice("model", model, MODELS)
    _check_choice("task", task, TASKS)
    modes = _check_names("modes", modes, MODES)
    _check_positive_int("repeats", repeats)
    _check_number(number)
    _check_warmup(warmup)
    if not isinstance(config, TransformerConfig):
        raise TypeError(
            f"config must be a TransformerConfig, got {type(config).__name__}"
        )
    batch_size = (
        DEFAULT_BATCH_SIZES[model, task] if batch_size is None else batch_size
    )
    _check_positive_int("batch_size", batch_size)
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

    results = []
    for prepared in group:
        result = prepared.result
        if result.error is None and prepared.samples:
            steady = summarize(
                prepared.samples,
                warmup_s=prepared.warmup_s,
                number=prepared.number,
            )
            result = replace(
                result, steady=_per_step(steady, result.steps_per_call)
            )
        if result.mode == "keras" and result.task == "train":
            prepared.notes.append(
                f"fit ran {result.steps_per_call} steps per epoch; times are per step"
            )
        results.append(replace(result, notes=tuple(prepared.notes)))
    return results


def measure(model: str, task: str, mode: str, **options) -> BenchmarkResult:
    """Measure a single (model, task, mode); ``options`` as for :func:`measure_group`."""
    _check_choice("mode", mode, MODES)
    return measure_group(model, task, [mode], **options)[0]


def compiler_start_up(modes: Iterable[str]) -> dict[str, float]:
    """Seconds the first compilation in a process takes on a trivial function, per compiler.

    The first ``torch.compile`` in a process imports TorchDynamo and
    TorchInductor and starts its compile workers; the first XLA compilation
    initializes XLA. That cost is paid once per process, whatever the model,
    so :func:`run_benchmark` pays it here and reports it apart, instead of
    charging it to whichever model happens to be compiled first. It also
    absorbs the deprecation warnings those first imports raise.
    """
    modes = _check_names("modes", modes, MODES)
    seconds = {}
    if any(mode in _COMPILE_MODES for mode in modes):
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
        seconds["torch.compile"] = start.median_s
    tf_modes = {"tf-function": False, "tf-function-xla": True}
    for mode, jit in tf_modes.items():
        if mode in modes:
            import tensorflow as tf

            traced = tf.function(lambda t: tf.sin(t) * 2, jit_compile=jit)
            start = time_callable(
                lambda traced=traced: traced(tf.ones(8)), warmup=0, repeats=1
            )
            seconds[MODES[mode].label] = start.median_s
    return seconds


def collect_environment(devices: dict[str, str]) -> dict:
    """Machine, package versions, thread counts and devices, for the report."""
    from companion.environment import (
        machine_summary,
        package_versions,
        thread_settings,
    )

    return {
        "machine": machine_summary(),
        "packages": package_versions(
            ["torch", "tensorflow", "keras", "numpy"]
        ),
        "threads": thread_settings(),
        "devices": devices,
    }


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
    models = _check_names("models", models, MODELS)
    tasks = _check_names("tasks", tasks, TASKS)
    modes = _check_names("modes", modes, MODES)
    _check_positive_int("repeats", repeats)
    _check_number(number)
    _check_warmup(warmup)
    sizes = dict(DEFAULT_BATCH_SIZES)
    for key, value in (batch_sizes or {}).items():
        if key not in sizes:
            raise ValueError(
                f"batch_sizes keys must be among {sorted(sizes)}, got {key!r}"
            )
        _check_positive_int(f"batch size for {key}", value)
        sizes[key] = value
    devices = resolve_devices(device)
    environment = collect_environment(devices)
    environment["first_compile_in_process_s"] = compiler_start_up(modes)
    report = BenchmarkReport(
        environment=environment,
        settings={
            "models": list(models),
            "tasks": list(tasks),
            "modes": list(modes),
            "repeats": repeats,
            "number": "auto" if number is None else number,
            "round_seconds": ROUND_SECONDS if number is None else None,
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
            results = measure_group(
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
            )
            for result in results:
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


# --- Comparing -----------------------------------------------------------------------


def classify_speedup(low: float, high: float) -> str:
    """``faster`` (``slower``) if the whole speed-up interval is above (below) 1.

    Otherwise the verdict is ``within noise``.
    """
    if low > 1:
        return "faster"
    if high < 1:
        return "slower"
    return "within noise"


@dataclass(frozen=True)
class Comparison:
    """Speed-up of one mode over the baseline: median ratio and the range the IQRs allow."""

    model: str
    task: str
    mode: str
    label: str
    framework: str
    speedup: float
    low: float
    high: float
    verdict: str


def compare_results(
    base: BenchmarkResult, other: BenchmarkResult
) -> Comparison:
    """Speed-up of ``other`` over ``base`` (2.0: twice as fast), with its noise verdict.

    ``low`` and ``high`` pair the base's quartiles with the other's opposite
    quartiles; when that range contains 1, the two differ by less than their
    own round-to-round spread, and the verdict is ``within noise``.
    """
    if not (base.ok and other.ok):
        raise ValueError("both results must have succeeded to be compared")
    b, m = base.steady, other.steady
    low, high = b.q1_s / m.q3_s, b.q3_s / m.q1_s
    same = (base.model, base.task, base.mode) == (
        other.model,
        other.task,
        other.mode,
    )
    return Comparison(
        other.model,
        other.task,
        other.mode,
        other.label,
        other.framework,
        b.median_s / m.median_s,
        low,
        high,
        "baseline" if same else classify_speedup(low, high),
    )


def compare(
    report: BenchmarkReport, baseline: str = BASELINE
) -> list[Comparison]:
    """Speed-up of every successful mode over ``baseline``, per model and task.

    See :func:`compare_results` for the ratio and the noise verdict.
    """
    _check_choice("baseline", baseline, MODES)
    comparisons = []
    for result in report.results:
        base = report.find(result.model, result.task, baseline)
        if result.ok and base is not None and base.ok:
            comparisons.append(compare_results(base, result))
    return comparisons


def fastest(report: BenchmarkReport, model: str, task: str, framework: str):
    """The successful result with the lowest median for one framework, or ``None``."""
    _check_choice("framework", framework, ("pytorch", "tensorflow"))
    candidates = [
        r
        for r in report.results
        if (r.model, r.task, r.framework) == (model, task, framework) and r.ok
    ]
    return min(candidates, key=lambda r: r.steady.median_s, default=None)


def best_against_best(
    report: BenchmarkReport,
) -> list[tuple[BenchmarkResult, Comparison]]:
    """Per (model, task): PyTorch's fastest mode, and TensorFlow's fastest compared with it.

    The comparison's speed-up is TensorFlow's over PyTorch (above 1:
    TensorFlow's best mode was faster).
    """
    pairs = []
    for model, task in dict.fromkeys(
        (r.model, r.task) for r in report.results
    ):
        best_torch = fastest(report, model, task, "pytorch")
        best_tf = fastest(report, model, task, "tensorflow")
        if best_torch is not None and best_tf is not None:
            pairs.append((best_torch, compare_results(best_torch, best_tf)))
    return pairs


def break_even_calls(
    base: BenchmarkResult, compiled: BenchmarkResult
) -> float | None:
    """Calls after which ``compiled``'s one-off cost is repaid by its faster steps.

    ``None`` when ``compiled`` is not faster per call, so it never pays back.

    >>> from companion.timing import summarize
    >>> eager = BenchmarkResult("cnn", "train", "tf-eager", "", "tensorflow", "", 64,
    ...     first_call_s=0.02, steady=summarize([0.010]))
    >>> graph = BenchmarkResult("cnn", "train", "tf-function", "", "tensorflow", "", 64,
    ...     first_call_s=1.002, steady=summarize([0.002]))
    >>> round(break_even_calls(eager, graph))
    125
    """
    if not (base.ok and compiled.ok) or compiled.one_off_s is None:
        raise ValueError("both results must have succeeded")
    saved = base.steady.median_s - compiled.steady.median_s
    if saved <= 0:
        return None
    return compiled.one_off_s / saved


def format_table(report: BenchmarkReport, baseline: str = BASELINE) -> str:
    """A plain-text table per model and task: median and IQR per step, first call, speed-up.

    The speed-up is over ``baseline``, with the verdict of :func:`compare_results`.
    """
    speedups = {
        (c.model, c.task, c.mode): c for c in compare(report, baseline)
    }
    lines = []
    for model, task in dict.fromkeys(
        (r.model, r.task) for r in report.results
    ):
        if lines:
            lines.append("")
        lines.append(
            f"{model + ', ' + TASK_TITLES[task]:<28}{'median':>9}{'IQR':>9}"
            f"{'first':>8}  {'speed-up':<10}"
        )
        for r in report.results:
            if (r.model, r.task) != (model, task):
                continue
            head = f"{MODES[r.mode].short:<28}"
            if not r.ok:
                lines.append(f"{head}failed: {r.error}")
                continue
            c = speedups.get((r.model, r.task, r.mode))
            ratio = f"{c.speedup:5.2f}x {c.verdict}" if c else ""
            lines.append(
                f"{head}{r.steady.median_s * 1e3:6.2f} ms{r.steady.iqr_s * 1e3:6.2f} ms"
                f"{r.first_call_s:6.2f} s  {ratio}"
            )
    return "\n".join(lines)


def geometric_mean_speedups(
    report: BenchmarkReport, baseline: str = BASELINE
) -> dict[str, float]:
    """Per mode, the geometric mean of its speed-ups over all (model, task) pairs measured."""
    by_mode: dict[str, list[float]] = {}
    for c in compare(report, baseline):
        by_mode.setdefault(c.mode, []).append(c.speedup)
    return {
        mode: statistics.geometric_mean(values)
        for mode, values in by_mode.items()
    }


# --- Plotting ------------------------------------------------------------------------

FRAMEWORK_COLOURS = {"pytorch": "#d9541e", "tensorflow": "#2a6fb0"}
_RATIO_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200)


def _grid(report: BenchmarkReport) -> tuple[list[str], list[str], list[str]]:
    models = [m for m in MODELS if any(r.model == m for r in report.results)]
    tasks = [t for t in TASKS if any(r.task == t for r in report.results)]
    modes = [m for m in report.settings["modes"] if m in MODES]
    return models, tasks, modes


def _ratio_axis(axis, low: float, high: float) -> None:
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    axis.set_xscale("log")
    axis.set_xlim(low, high)
    axis.xaxis.set_major_locator(
        FixedLocator([t for t in _RATIO_TICKS if low <= t <= high])
    )
    axis.xaxis.set_major_formatter(
        FuncFormatter(lambda value, _: f"{value:g}x")
    )
    axis.xaxis.set_minor_locator(NullLocator())


def plot_speedups(report: BenchmarkReport, baseline: str = BASELINE):
    """Speed-up of each mode over ``baseline``: one panel per model and task, log scale.

    A bar runs from 1 to the median ratio; the black whisker spans the range
    the two modes' quartiles allow. Pale bars are within noise of the
    baseline; modes that failed are marked, modes not run are left out.
    """
    import matplotlib.pyplot as plt

    comparisons = {
        (c.model, c.task, c.mode): c for c in compare(report, baseline)
    }
    models, tasks, modes = _grid(report)
    panels = [(model, task) for model in models for task in tasks]
    values = [v for c in comparisons.values() for v in (c.low, c.high)] or [
        1.0
    ]
    low, high = min([*values, 0.5]) / 2.5, max([*values, 2.0]) * 2.5
    figure, axes = plt.subplots(
        len(panels),
        1,
        figsize=(7.2, (0.25 * len(modes) + 0.55) * len(panels) + 0.6),
        squeeze=False,
        sharex=True,
    )
    positions = np.arange(len(modes))[::-1]
    for axis, (model, task) in zip(axes[:, 0], panels, strict=True):
        for y, mode in zip(positions, modes, strict=True):
            c = comparisons.get((model, task, mode))
            if c is None:
                result = report.find(model, task, mode)
                if result is not None and not result.ok:
                    axis.text(
                        1.05,
                        y,
                        "failed",
                        va="center",
                        fontsize=8,
                        color="grey",
                    )
                continue
            colour = (
                "grey" if mode == baseline else FRAMEWORK_COLOURS[c.framework]
            )
            pale = c.verdict in ("within noise", "baseline")
            axis.barh(
                y,
                abs(c.speedup - 1),
                left=min(1.0, c.speedup),
                height=0.65,
                color=colour,
                alpha=0.3 if pale else 0.9,
            )
            axis.plot([c.low, c.high], [y, y], color="black", linewidth=1)
            if (
                c.speedup >= 1
            ):  # label beyond the end of the bar and its whisker
                axis.text(
                    c.high * 1.08,
                    y,
                    f"{c.speedup:.2g}x",
                    va="center",
                    fontsize=7.5,
                )
            else:
                axis.text(
                    c.low / 1.08,
                    y,
                    f"{c.speedup:.2g}x",
                    va="center",
                    ha="right",
                    fontsize=7.5,
                )
        axis.axvline(1, color="black", linewidth=0.8)
        _ratio_axis(axis, low, high)
        axis.set_yticks(
            positions, [MODES[m].short for m in modes], fontsize=8.5
        )
        axis.set_title(
            f"{model}, {TASK_TITLES[task]}", fontsize=10, loc="left"
        )
    from matplotlib.patches import Patch

    figure.legend(
        handles=[
            Patch(color=FRAMEWORK_COLOURS["pytorch"], label="PyTorch"),
            Patch(color=FRAMEWORK_COLOURS["tensorflow"], label="TensorFlow"),
        ],
        loc="upper right",
        ncol=2,
        fontsize=8.5,
        frameon=False,
    )
    axes[-1, 0].tick_params(axis="x", labelsize=8.5)
    axes[-1, 0].set_xlabel(
        f"speed-up over {MODES[baseline].label} (right of the line: faster; pale: within noise)",
        fontsize=9,
    )
    figure.tight_layout()
    return figure


def plot_one_off_costs(report: BenchmarkReport):
    """Seconds the first call costs beyond a steady call (tracing, compiling), log scale."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    models, tasks, modes = _grid(report)
    pairs = [(m, t) for m in models for t in tasks]
    figure, axis = plt.subplots(
        figsize=(7.2, 0.16 * len(modes) * max(len(pairs), 1) + 1.2)
    )
    height = 0.8 / max(len(pairs), 1)
    greys = np.linspace(0.2, 0.75, max(len(pairs), 1))
    positions = np.arange(len(modes))[::-1]
    for i, (model, task) in enumerate(pairs):
        costs = []
        for mode in modes:
            r = report.find(model, task, mode)
            costs.append(
                r.one_off_s
                if r is not None and r.one_off_s is not None
                else np.nan
            )
        axis.barh(
            positions + (len(pairs) / 2 - i - 0.5) * height,
            np.maximum(np.array(costs, dtype=float), 1e-3),
            height=height,
            color=str(greys[i]),
            label=f"{model}, {TASK_TITLES[task]}",
        )
    axis.set_xscale("log")
    axis.set_xlim(left=1e-3)
    axis.xaxis.set_major_formatter(
        FuncFormatter(lambda value, _: f"{value:g} s")
    )
    axis.set_yticks(positions, [MODES[m].short for m in modes], fontsize=8.5)
    axis.set_xlabel(
        "one-off cost: first call minus a steady call (seconds, log scale)"
    )
    axis.legend(
        fontsize=8,
        loc="lower left",
        bbox_to_anchor=(0, 1.0),
        ncol=2,
        frameon=False,
    )
    figure.tight_layout()
    return figure
