"""One model, three runtimes: native PyTorch, Keras on the PyTorch backend, Keras on TensorFlow.

Keras 3 reads ``KERAS_BACKEND`` once, at import, so each variant runs in a
process of its own (``python -m companion.keras_bridge --variant ...``).
Every variant starts from the same initial weights (PyTorch's
initialisation of the digits CNN, moved to Keras's layout by
:mod:`companion.cnn_arrays`), computes the test-set logits, then trains the
same plain-SGD steps on the same batches: the native variant with a PyTorch
loop, the Keras variants with ``train_on_batch``. :func:`compare_backends`
runs them one after the other and returns what each reported: the logits,
the final weights (in PyTorch's layout), the step times, the import time,
whether TensorFlow was imported at all, and what ``keras.distribution``
does on that backend.

>>> sorted(VARIANTS)
['keras-tensorflow', 'keras-torch', 'pytorch']
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from companion.validation import check_names, check_number

#: Variant -> the Keras backend it runs on (None: no Keras).
VARIANTS = {
    "pytorch": None,
    "keras-torch": "torch",
    "keras-tensorflow": "tensorflow",
}
LABELS = {
    "pytorch": "PyTorch",
    "keras-torch": "Keras on PyTorch",
    "keras-tensorflow": "Keras on TensorFlow",
}
WARMUP_STEPS = 5


@dataclass
class BackendRun:
    """What one variant's process reported."""

    variant: str
    logits: np.ndarray
    weights: dict
    step_seconds: list[float]
    details: dict

    def step_time(self):
        from companion.timing import summarize

        return summarize(self.step_seconds[WARMUP_STEPS:])


def _distribution_check() -> str:
    """What ``keras.distribution`` says on this backend: its devices, or the error."""
    import keras

    try:
        devices = keras.distribution.list_devices()
        keras.distribution.DataParallel(devices=devices)
    except Exception as error:  # the error is the answer
        return f"{type(error).__name__}: {str(error).splitlines()[0]}"
    return f"DataParallel over {devices}"


def _train_native(plan, images, labels, x_test, weights):
    import torch

    from companion.cnn_arrays import torch_arrays
    from companion.distributed.ddp import build_model, train_in_process

    torch.set_num_threads(1)
    model = build_model(weights)
    with torch.no_grad():
        logits = model(torch.from_numpy(x_test)).numpy()
    seconds = train_in_process(plan, model, images, labels)
    return logits, torch_arrays(model), seconds, {}


def _train_keras(plan, images, labels, x_test, weights):
    import keras

    from companion.cnn import build_keras_cnn
    from companion.cnn_arrays import keras_arrays, torch_layout
    from companion.digits import to_channels_last

    if keras.backend.backend() == "torch":
        import torch

        torch.set_num_threads(1)
    else:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(1)
    model = build_keras_cnn()
    model.set_weights(keras_arrays(weights))
    logits = keras.ops.convert_to_numpy(model(to_channels_last(x_test)))
    model.compile(
        optimizer=keras.optimizers.SGD(plan.learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    x = to_channels_last(images)
    seconds = []
    for batch in plan.global_batches(len(x)):
        start = time.perf_counter()
        model.train_on_batch(x[batch], labels[batch])
        seconds.append(time.perf_counter() - start)
    details = {"model is a torch.nn.Module": _is_torch_module(model)}
    return logits, torch_layout(model.get_weights()), seconds, details


def _is_torch_module(model) -> bool:
    if "torch" not in sys.modules:
        return False
    import torch

    return isinstance(model, torch.nn.Module)


def run_variant(variant: str, steps: int, out: Path) -> dict:
    """The child's work: train ``variant``, write its arrays to ``out``, return its report."""
    from companion.cnn_arrays import save_arrays
    from companion.digits import load_digits_split
    from companion.distributed.plan import (
        DATA_FILE,
        TrainingPlan,
        read_run_data,
    )

    start = time.perf_counter()
    if VARIANTS[variant] is None:
        import torch  # noqa: F401
    else:
        import keras
    import_seconds = time.perf_counter() - start
    plan = TrainingPlan(steps=steps)
    images, labels, weights = read_run_data(out.parent / DATA_FILE)
    x_test = load_digits_split(seed=0).x_test
    trainer = _train_native if VARIANTS[variant] is None else _train_keras
    logits, final, seconds, details = trainer(
        plan, images, labels, x_test, weights
    )
    save_arrays(
        out, {"logits": logits, **{f"w/{k}": v for k, v in final.items()}}
    )
    if VARIANTS[variant] is not None:
        import keras

        details["backend"] = keras.backend.backend()
        details["keras.distribution"] = _distribution_check()
    details["TensorFlow imported"] = "tensorflow" in sys.modules
    return {
        "import_seconds": import_seconds,
        "step_seconds": seconds,
        **details,
    }


def compare_backends(
    variants=tuple(VARIANTS), steps: int = 60, timeout: float = 120.0
) -> dict[str, BackendRun]:
    """Run each variant in a fresh process, one after the other; their reports by variant."""
    from companion.cnn_arrays import load_arrays
    from companion.distributed.plan import write_run_data
    from companion.processes import check_run, run_python

    variants = check_names("variants", variants, VARIANTS)
    check_number("timeout", timeout, positive=True)
    runs = {}
    with tempfile.TemporaryDirectory(prefix="companion-bridge-") as name:
        directory = Path(name)
        write_run_data(directory)
        for variant in variants:
            out = directory / f"{variant}.npz"
            environment = {"KERAS_BACKEND": VARIANTS[variant] or "tensorflow"}
            arguments = ["-m", "companion.keras_bridge", "--variant", variant]
            arguments += ["--steps", steps, "--out", out]
            done = run_python(
                arguments, environment=environment, timeout=timeout
            )
            check_run(done, f"the {LABELS[variant]} run")
            report = json.loads(done.stdout.strip().splitlines()[-1])
            arrays = load_arrays(out)
            runs[variant] = BackendRun(
                variant,
                arrays.pop("logits"),
                {k[2:]: v for k, v in arrays.items()},
                report.pop("step_seconds"),
                report,
            )
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=sorted(VARIANTS), required=True)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    print(json.dumps(run_variant(args.variant, args.steps, args.out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
