"""Numbers that differ without a bug in sight: resizing, TF32, and float32 round-off.

>>> from companion.porting.pitfalls.numerics import tf32_round
>>> tf32_round(np.array([1 + 2**-12], np.float32))[0]  # 10 mantissa bits are kept
np.float32(1.0)
"""

from __future__ import annotations

import numpy as np

from companion.porting.pitfalls import Measured
from companion.porting.tolerance import relative_difference
from companion.validation import check_instance


def _tf_resize(images, size, **settings):
    import tensorflow as tf

    last = images.transpose(0, 2, 3, 1)
    return np.asarray(tf.image.resize(last, size, **settings)).transpose(
        0, 3, 1, 2
    )


def _torch_resize(images, size, **settings):
    import torch
    import torch.nn.functional as F

    resized = F.interpolate(
        torch.from_numpy(images), size=size, mode="bilinear", **settings
    )
    return resized.numpy()


def _row(images) -> list[float]:
    """The first row of the first image, rounded to 4 places."""
    return [round(float(v), 4) for v in images[0, 0, 0]]


def interpolation(seed: int = 0) -> Measured:
    """Bilinear upsampling 2x2 -> 4x4: ``align_corners=True`` against ``tf.image.resize``.

    TensorFlow 2 samples at half-pixel centres, which is PyTorch's
    ``align_corners=False`` (its default). Code carried over from
    TensorFlow 1's ``resize_bilinear(align_corners=True)`` or written with
    ``align_corners=True`` in PyTorch samples corner to corner instead.
    """
    small = np.arange(4, dtype=np.float32).reshape(1, 1, 2, 2)
    expected = _tf_resize(small, (4, 4))
    naive = _torch_resize(small, (4, 4), align_corners=True)
    fixed = _torch_resize(small, (4, 4), align_corners=False)
    rng = np.random.default_rng(seed)
    large = rng.normal(size=(1, 1, 8, 8)).astype(np.float32)
    return Measured(
        "bilinear resize, align_corners=True for tf.image.resize",
        naive=relative_difference(expected, naive),
        fixed=relative_difference(expected, fixed),
        details={
            "first row, tf.image.resize": _row(expected),
            "first row, align_corners=True": _row(naive),
            "first row, align_corners=False": _row(fixed),
            "downsampling 8 -> 3 with antialias in both": relative_difference(
                _tf_resize(large, (3, 3), antialias=True),
                _torch_resize(large, (3, 3), antialias=True),
            ),
        },
    )


def tf32_settings() -> dict:
    """The TF32 switches as each framework reports them (they act on Ampere+ GPUs only)."""
    import tensorflow as tf
    import torch

    return {
        "torch.get_float32_matmul_precision()": torch.get_float32_matmul_precision(),
        "torch.backends.cuda.matmul.allow_tf32": torch.backends.cuda.matmul.allow_tf32,
        "torch.backends.cudnn.allow_tf32 (convolutions)": torch.backends.cudnn.allow_tf32,
        "tf.config.experimental.tensor_float_32_execution_enabled()": (
            tf.config.experimental.tensor_float_32_execution_enabled()
        ),
    }


def tf32_round(array: np.ndarray) -> np.ndarray:
    """float32 numbers rounded to TF32's 10 mantissa bits (round to nearest, ties away).

    A TF32 matrix product rounds its inputs like this and accumulates in
    float32; applying it to the inputs of a float32 product emulates one
    on a machine without such a GPU.
    """
    check_instance("array", array, np.ndarray, what="a numpy array")
    bits = np.ascontiguousarray(array, dtype=np.float32).view(np.uint32)
    rounded = (bits + np.uint32(1 << 12)) & np.uint32(0xFFFFE000)
    return rounded.view(np.float32)


def tf32_matmul(size: int = 256, seed: int = 0) -> Measured:
    """A float32 product, and the same product with TF32-rounded inputs (emulated).

    The naive comparison is a GPU run with TF32 on (TensorFlow's default)
    against one with it off (PyTorch's default for matrix products); the
    fix turns TF32 off on both sides, leaving float32 round-off between
    two float32 products, here NumPy's and PyTorch's.
    """
    import torch

    rng = np.random.default_rng(seed)
    a = rng.normal(size=(size, size)).astype(np.float32)
    b = rng.normal(size=(size, size)).astype(np.float32)
    expected = (torch.from_numpy(a) @ torch.from_numpy(b)).numpy()
    emulated = tf32_round(a) @ tf32_round(b)
    return Measured(
        f"{size} x {size} product, TF32 on one side (emulated on the CPU)",
        naive=relative_difference(expected, emulated),
        fixed=relative_difference(expected, a @ b),
    )


def round_off_and_mistakes(seed: int = 0) -> dict[str, float]:
    """Relative differences of float32 round-off, next to those of real porting mistakes."""
    import tensorflow as tf
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(seed)
    a = rng.normal(size=(64, 256)).astype(np.float32)
    b = rng.normal(size=(256, 64)).astype(np.float32)
    exact = a.astype(np.float64) @ b.astype(np.float64)
    torch_out = (torch.from_numpy(a) @ torch.from_numpy(b)).numpy()
    tf_out = np.asarray(tf.matmul(a, b))
    square = b[:64, :64]
    tensor = torch.from_numpy(a)
    return {
        "round-off: one float32 step (epsilon)": float(
            np.finfo(np.float32).eps
        ),
        "round-off: NumPy float32 product vs float64": relative_difference(
            exact, a @ b
        ),
        "round-off: PyTorch product vs float64": relative_difference(
            exact, torch_out
        ),
        "round-off: TensorFlow product vs float64": relative_difference(
            exact, tf_out
        ),
        "round-off: PyTorch vs TensorFlow": relative_difference(
            torch_out, tf_out
        ),
        "mistake: GELU's tanh approximation for the exact one": relative_difference(
            F.gelu(tensor).numpy(), F.gelu(tensor, approximate="tanh").numpy()
        ),
        "mistake: LayerNorm epsilon 1e-3 for 1e-5": relative_difference(
            F.layer_norm(tensor, (256,), eps=1e-5).numpy(),
            F.layer_norm(tensor, (256,), eps=1e-3).numpy(),
        ),
        "mistake: a bias of 0.01 left out": relative_difference(
            torch_out, torch_out + 0.01
        ),
        "mistake: a square kernel transposed": relative_difference(
            a[:, :64] @ square, a[:, :64] @ square.T
        ),
    }


def round_off_by_depth(
    depths=(1, 4, 16, 64), width: int = 128, seed: int = 0
) -> dict:
    """PyTorch against TensorFlow on a stack of ``depth`` tanh layers with the same weights.

    Round-off grows with depth but stays far below a real mistake.
    """
    import tensorflow as tf
    import torch

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(32, width)).astype(np.float32)
    weights = [
        (rng.normal(size=(width, width)) / np.sqrt(width)).astype(np.float32)
        for _ in range(max(depths))
    ]
    result = {}
    for depth in depths:
        t, f = torch.from_numpy(x), tf.constant(x)
        for w in weights[:depth]:
            t = torch.tanh(t @ torch.from_numpy(w))
            f = tf.tanh(tf.matmul(f, w))
        result[depth] = relative_difference(t.numpy(), np.asarray(f))
    return result
