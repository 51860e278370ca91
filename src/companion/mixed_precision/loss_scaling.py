"""Why float16 needs loss scaling: gradients that underflow to zero, and the scalers that save them.

float16 keeps 5 exponent bits: its smallest positive (subnormal) number is
about 6e-8, so gradients smaller than that become zero. bfloat16 keeps
float32's 8 exponent bits and does not underflow before float32 does. The
demonstration multiplies the digits CNN's loss by :data:`LOSS_WEIGHT` (think
of a small weight on one term of a loss, or a mean over very many
elements) and computes one batch's gradients four ways in each framework:
float32, float16 autocast or policy, float16 with a loss scaler
(``torch.amp.GradScaler``, ``keras.optimizers.LossScaleOptimizer``), and
bfloat16. Each result says what fraction of the gradient is exactly zero,
how far it is from the float32 gradient (relative to the largest float32
gradient), and how many weights one SGD step changed.

>>> import numpy as np
>>> float(np.float16(1e-8)), float(np.float32(1e-8)) > 0
(0.0, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LOSS_WEIGHT = 1e-7
BATCH = 64


@dataclass(frozen=True)
class GradientCheck:
    """One way of computing the gradients of ``LOSS_WEIGHT * loss``."""

    framework: str
    how: str
    zero_fraction: float
    relative_error: float
    weights_changed: int

    def row(self) -> str:
        return (
            f"{self.how:<44} {self.zero_fraction:>6.1%} zero  "
            f"error {self.relative_error:>7.1e}  {self.weights_changed:>5} weights changed"
        )


def _check(framework, how, grads, reference, changed) -> GradientCheck:
    flat = np.concatenate([np.ravel(g) for g in grads]).astype(np.float64)
    ref = np.concatenate([np.ravel(g) for g in reference]).astype(np.float64)
    return GradientCheck(
        framework,
        how,
        float(np.mean(flat == 0)),
        float(np.max(np.abs(flat - ref)) / np.max(np.abs(ref))),
        changed,
    )


def torch_gradients(weights: dict, images, labels) -> list[GradientCheck]:
    """The four ways in PyTorch (CPU autocast, ``GradScaler("cpu")``)."""
    import torch
    import torch.nn.functional as F

    from companion.distributed.ddp import build_model

    x, y = torch.from_numpy(images[:BATCH]), torch.from_numpy(labels[:BATCH])

    def gradients(dtype=None, scaler=None):
        model = build_model(weights)
        # A learning rate of 0.1 / LOSS_WEIGHT makes a step of ordinary size.
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1 / LOSS_WEIGHT)
        before = [p.detach().clone() for p in model.parameters()]
        with torch.autocast(
            "cpu", dtype=dtype or torch.float16, enabled=dtype is not None
        ):
            loss = LOSS_WEIGHT * F.cross_entropy(model(x), y)
        if scaler is None:
            loss.backward()
            grads = [p.grad.numpy().copy() for p in model.parameters()]
            optimizer.step()
        else:
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)  # the true gradients, in float32
            grads = [p.grad.numpy().copy() for p in model.parameters()]
            scaler.step(optimizer)
            scaler.update()
        changed = sum(
            int((p.detach() != b).sum())
            for p, b in zip(model.parameters(), before, strict=True)
        )
        return grads, changed

    reference, changed = gradients()
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**16)
    ways = {
        "float32": (reference, changed),
        "float16 autocast": gradients(torch.float16),
        "float16 autocast + GradScaler": gradients(torch.float16, scaler),
        "bfloat16 autocast": gradients(torch.bfloat16),
    }
    return [
        _check("pytorch", how, g, reference, c) for how, (g, c) in ways.items()
    ]


def keras_gradients(weights: dict, images, labels) -> list[GradientCheck]:
    """The four ways in Keras (dtype policies, ``LossScaleOptimizer``), in a ``GradientTape``."""
    import keras
    import tensorflow as tf

    from companion.digits import to_channels_last
    from companion.mixed_precision.training import keras_model

    x, y = to_channels_last(images[:BATCH]), labels[:BATCH]
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def gradients(policy, scale=False):
        model = keras_model(weights, policy)
        optimizer = keras.optimizers.SGD(0.1 / LOSS_WEIGHT)
        if scale:
            optimizer = keras.optimizers.LossScaleOptimizer(
                optimizer, initial_scale=2.0**15
            )
            optimizer.build(model.trainable_variables)
        before = [v.numpy().copy() for v in model.trainable_variables]
        with tf.GradientTape() as tape:
            loss = LOSS_WEIGHT * loss_fn(y, model(x, training=True))
            scaled = optimizer.scale_loss(loss) if scale else loss
        grads = tape.gradient(scaled, model.trainable_variables)
        scale_value = float(optimizer.dynamic_scale.numpy()) if scale else 1.0
        true = [np.asarray(g, np.float32) / scale_value for g in grads]
        optimizer.apply(
            grads, model.trainable_variables
        )  # unscales, skips inf/nan
        changed = sum(
            int((v.numpy() != b).sum())
            for v, b in zip(model.trainable_variables, before, strict=True)
        )
        return true, changed

    reference, changed = gradients("float32")
    ways = {
        "float32": (reference, changed),
        "mixed_float16 policy": gradients("mixed_float16"),
        "mixed_float16 policy + LossScaleOptimizer": gradients(
            "mixed_float16", True
        ),
        "mixed_bfloat16 policy": gradients("mixed_bfloat16"),
    }
    return [
        _check("tensorflow", how, g, reference, c)
        for how, (g, c) in ways.items()
    ]


def keras_compile_optimizer(
    weights: dict, policy: str = "mixed_float16"
) -> str:
    """The optimizer class ``compile`` gives a model built under ``policy``."""
    import keras

    from companion.mixed_precision.training import keras_model

    model = keras_model(weights, policy)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    return type(model.optimizer).__name__
