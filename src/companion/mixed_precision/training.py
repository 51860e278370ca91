"""The digits CNN trained in float32 and in bfloat16 mixed precision, in both frameworks.

Both start from the same initial weights (PyTorch's initialisation, ported
to Keras with :mod:`companion.cnn_arrays`) and take the same Adam steps on
the same batches. PyTorch runs the forward pass and the loss under
``torch.autocast("cpu", dtype=torch.bfloat16)``; Keras builds the model
under the ``mixed_bfloat16`` policy. In both, the weights, the gradients
and the optimizer's state stay float32: only the computation is bfloat16.
:func:`torch_dtypes` and :func:`keras_dtypes` show which layer computed in
which type.

>>> with keras_policy("mixed_bfloat16"):
...     import keras
...     keras.mixed_precision.global_policy().name
'mixed_bfloat16'
>>> keras.mixed_precision.global_policy().name
'float32'
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

import numpy as np

from companion.distributed.plan import TrainingPlan
from companion.timing import TimingResult, summarize
from companion.validation import check_choice

#: Each framework's float32 and bfloat16 settings, by the name the book uses.
PRECISIONS = ("float32", "bfloat16")
WARMUP_STEPS = 10


@dataclass
class PrecisionRun:
    """One training run: step times, test accuracy, final loss."""

    framework: str
    precision: str
    step_seconds: list[float]
    test_accuracy: float
    final_loss: float

    def step_time(self) -> TimingResult:
        return summarize(self.step_seconds[WARMUP_STEPS:] or self.step_seconds)


@contextlib.contextmanager
def keras_policy(name: str):
    """Build Keras layers under the dtype policy ``name``; restore the old policy after."""
    import keras

    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def torch_model(weights: dict):
    from companion.distributed.ddp import build_model

    return build_model(weights)


def keras_model(weights: dict, policy: str | None = None):
    """The Keras CNN with ``weights`` (PyTorch layout), built under ``policy``.

    ``None`` builds it under the global policy in force.
    """
    from companion.distributed.mwms import build_model

    if policy is None:
        return build_model(weights)
    with keras_policy(policy):
        return build_model(weights)


def train_torch(
    plan: TrainingPlan, split, weights: dict, precision: str
) -> PrecisionRun:
    """Adam on ``plan``'s batches, float32 or under bfloat16 autocast."""
    import torch
    import torch.nn.functional as F

    check_choice("precision", precision, PRECISIONS)
    model = torch_model(weights)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-8)
    images, labels = (
        torch.from_numpy(split.x_train),
        torch.from_numpy(split.y_train),
    )
    bf16 = precision == "bfloat16"
    seconds = []
    for batch in plan.global_batches(len(images)):
        index = torch.from_numpy(batch)
        start = time.perf_counter()
        optimizer.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(model(images[index]), labels[index])
        loss.backward()
        optimizer.step()
        seconds.append(time.perf_counter() - start)
    with (
        torch.no_grad(),
        torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16),
    ):
        logits = model(torch.from_numpy(split.x_test)).float()
    accuracy = float((logits.argmax(1).numpy() == split.y_test).mean())
    return PrecisionRun("pytorch", precision, seconds, accuracy, loss.item())


def train_keras(
    plan: TrainingPlan, split, weights: dict, precision: str
) -> PrecisionRun:
    """The same steps with ``train_on_batch``, under the float32 or ``mixed_bfloat16`` policy."""
    import keras

    from companion.digits import to_channels_last

    check_choice("precision", precision, PRECISIONS)
    policy = "mixed_bfloat16" if precision == "bfloat16" else "float32"
    model = keras_model(weights, policy)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3, epsilon=1e-8),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    images = to_channels_last(split.x_train)
    seconds = []
    for batch in plan.global_batches(len(images)):
        start = time.perf_counter()
        loss = model.train_on_batch(images[batch], split.y_train[batch])
        seconds.append(time.perf_counter() - start)
    logits = model.predict(to_channels_last(split.x_test), verbose=0)
    accuracy = float((np.argmax(logits, 1) == split.y_test).mean())
    return PrecisionRun(
        "tensorflow", precision, seconds, accuracy, float(loss)
    )


def torch_dtypes(weights: dict, precision: str = "bfloat16") -> list[tuple]:
    """``(layer, type, input dtype, output dtype)`` for each layer, then the loss and gradients."""
    import torch
    import torch.nn.functional as F

    model = torch_model(weights)
    rows = []
    hooks = [
        module.register_forward_hook(
            lambda m, inputs, output, name=name: rows.append(
                (
                    name,
                    type(m).__name__,
                    str(inputs[0].dtype),
                    str(output.dtype),
                )
            )
        )
        for name, module in model.named_children()
    ]
    bf16 = precision == "bfloat16"
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        loss = F.cross_entropy(
            model(torch.zeros(2, 1, 8, 8)), torch.zeros(2, dtype=torch.long)
        )
    loss.backward()
    for hook in hooks:
        hook.remove()
    rows.append(("loss", "cross_entropy", "", str(loss.dtype)))
    grads = sorted({str(p.grad.dtype) for p in model.parameters()})
    rows.append(("gradients", "", "", ", ".join(grads)))
    return [tuple(s.replace("torch.", "") for s in row) for row in rows]


def keras_dtypes(weights: dict, policy: str = "mixed_bfloat16") -> list[tuple]:
    """``(layer, type, compute dtype, variable dtype, output dtype)`` for each layer.

    Layers are numbered as in :func:`torch_dtypes` (Keras's names carry a
    counter that depends on how many layers the process built before).
    """
    model = keras_model(weights, policy)
    x = np.zeros((2, 8, 8, 1), np.float32)
    rows = []
    for number, layer in enumerate(model.layers):
        x = layer(x)
        rows.append(
            (
                str(number),
                type(layer).__name__,
                layer.compute_dtype,
                layer.variable_dtype,
                str(x.dtype.name if hasattr(x.dtype, "name") else x.dtype),
            )
        )
    return rows


def wide_mlp_step_seconds(
    framework: str,
    precision: str,
    width: int = 1024,
    batch: int = 256,
    steps: int = 8,
) -> TimingResult:
    """Training-step time of a 3-layer MLP this wide: where matrix products dominate."""
    check_choice("precision", precision, PRECISIONS)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, width)).astype(np.float32)
    y = rng.integers(0, 10, batch)
    if framework == "pytorch":
        step = _torch_mlp_step(x, y, width, precision == "bfloat16")
    else:
        step = _keras_mlp_step(x, y, width, precision)
    seconds = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - start)
    return summarize(seconds[2:])


def _torch_mlp_step(x, y, width: int, bf16: bool):
    import torch
    from torch import nn

    from companion.reproducibility import seeded_torch

    with seeded_torch(0):
        model = nn.Sequential(
            nn.Linear(width, width),
            nn.ReLU(),
            nn.Linear(width, width),
            nn.ReLU(),
            nn.Linear(width, 10),
        )
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        optimizer.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()

    return step


def _keras_mlp_step(x, y, width: int, precision: str):
    import keras

    policy = "mixed_bfloat16" if precision == "bfloat16" else "float32"
    with keras_policy(policy):
        model = keras.Sequential(
            [
                keras.Input((width,)),
                keras.layers.Dense(width, activation="relu"),
                keras.layers.Dense(width, activation="relu"),
                keras.layers.Dense(10),
            ]
        )
    model.compile(
        optimizer=keras.optimizers.SGD(0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return lambda: model.train_on_batch(x, y)
