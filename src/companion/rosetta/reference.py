"""NumPy reference implementations of the neural-network functions NumPy lacks.

Written for clarity, not speed: the Rosetta table's inputs are tiny. Images
are channels-first ``(N, C, H, W)`` and kernels ``(out, in, kh, kw)``, as in
PyTorch; TensorFlow and Keras results are moved to that layout before they
are compared with these.

>>> import numpy as np
>>> x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
>>> max_pool2d(x, 2)[0, 0].tolist()
[[5.0, 7.0], [13.0, 15.0]]
>>> conv2d(x, np.ones((1, 1, 2, 2), np.float32))[0, 0, 0].tolist()
[10.0, 14.0, 18.0]
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

_erf = np.vectorize(math.erf, otypes=[np.float64])


def pad_same(
    x: np.ndarray, kernel: int, stride: int, value: float = 0.0
) -> np.ndarray:
    """TensorFlow's ``padding="same"`` on the last two axes (the odd pixel after)."""
    pads = []
    for size in x.shape[-2:]:
        out = -(-size // stride)
        total = max((out - 1) * stride + kernel - size, 0)
        pads.append((total // 2, total - total // 2))
    return np.pad(x, [(0, 0)] * (x.ndim - 2) + pads, constant_values=value)


def conv2d(
    x, w, stride: int = 1, padding: int = 0, groups: int = 1
) -> np.ndarray:
    """Cross-correlation of ``(N, C, H, W)`` with ``(O, C / groups, kh, kw)``, zero padding."""
    x = np.pad(x, [(0, 0), (0, 0), (padding, padding), (padding, padding)])
    kh, kw = w.shape[-2:]
    windows = sliding_window_view(x, (kh, kw), axis=(2, 3))[
        :, :, ::stride, ::stride
    ]
    per_group = x.shape[1] // groups
    outs = []
    for g in range(groups):
        block = w[
            g * (w.shape[0] // groups) : (g + 1) * (w.shape[0] // groups)
        ]
        part = windows[:, g * per_group : (g + 1) * per_group]
        outs.append(np.einsum("nchwij,ocij->nohw", part, block))
    return np.concatenate(outs, axis=1).astype(np.float32)


def conv2d_same(x, w, stride: int = 1) -> np.ndarray:
    """``conv2d`` with TensorFlow's ``same`` padding (square kernels)."""
    return conv2d(pad_same(x, w.shape[-1], stride), w, stride)


def conv1d(x, w, padding: int = 0) -> np.ndarray:
    """Cross-correlation of ``(N, C, L)`` with ``(O, C, k)``, zero padding."""
    x = np.pad(x, [(0, 0), (0, 0), (padding, padding)])
    return conv2d(x[:, :, None, :], w[:, :, None, :])[:, :, 0]


def conv_transpose2d(x, w, stride: int = 1) -> np.ndarray:
    """Transposed convolution, weights ``(in, out, kh, kw)``, no padding."""
    n, _, h, wd = x.shape
    kh, kw = w.shape[-2:]
    out = np.zeros(
        (n, w.shape[1], (h - 1) * stride + kh, (wd - 1) * stride + kw),
        np.float64,
    )
    for i in range(h):
        for j in range(wd):
            out[
                :,
                :,
                i * stride : i * stride + kh,
                j * stride : j * stride + kw,
            ] += np.einsum("nc,cokl->nokl", x[:, :, i, j], w)
    return out.astype(np.float32)


def max_pool2d(x, size: int, stride: int | None = None) -> np.ndarray:
    stride = stride or size
    return sliding_window_view(x, (size, size), axis=(2, 3))[
        :, :, ::stride, ::stride
    ].max(axis=(-1, -2))


def avg_pool2d(x, size: int, stride: int | None = None) -> np.ndarray:
    stride = stride or size
    return sliding_window_view(x, (size, size), axis=(2, 3))[
        :, :, ::stride, ::stride
    ].mean(axis=(-1, -2))


def avg_pool2d_same_excluding_padding(x, size: int, stride: int) -> np.ndarray:
    """TensorFlow's ``same`` average pooling: padded pixels do not count."""
    total = avg_pool2d(pad_same(x, size, stride), size, stride) * size * size
    count = (
        avg_pool2d(pad_same(np.ones_like(x), size, stride), size, stride)
        * size
        * size
    )
    return (total / count).astype(np.float32)


def softmax(x, axis: int = -1) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return (e / e.sum(axis=axis, keepdims=True)).astype(x.dtype)


def log_softmax(x, axis: int = -1) -> np.ndarray:
    shifted = x - x.max(axis=axis, keepdims=True)
    return (
        shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    ).astype(x.dtype)


def sigmoid(x) -> np.ndarray:
    return (1 / (1 + np.exp(-x.astype(np.float64)))).astype(x.dtype)


def gelu(x) -> np.ndarray:
    """The exact GELU, ``x * Phi(x)``."""
    return (x * 0.5 * (1 + _erf(x / math.sqrt(2)))).astype(x.dtype)


def gelu_tanh(x) -> np.ndarray:
    """GELU's tanh approximation."""
    inner = math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)
    return (0.5 * x * (1 + np.tanh(inner))).astype(x.dtype)


def softplus(x) -> np.ndarray:
    return np.logaddexp(0, x).astype(x.dtype)


def cross_entropy(logits, targets) -> np.ndarray:
    """Mean negative log-likelihood of integer ``targets`` under ``softmax(logits)``."""
    picked = log_softmax(logits)[np.arange(len(targets)), targets]
    return np.float32(-picked.mean())


def binary_cross_entropy_with_logits(logits, labels) -> np.ndarray:
    values = (
        np.maximum(logits, 0)
        - logits * labels
        + np.log1p(np.exp(-np.abs(logits)))
    )
    return np.float32(values.mean())


def huber(prediction, target, delta: float = 1.0) -> np.ndarray:
    error = np.abs(prediction - target)
    values = np.where(
        error <= delta, 0.5 * error**2, delta * (error - 0.5 * delta)
    )
    return np.float32(values.mean())


def layer_norm(x, gamma, beta, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return ((x - mean) / np.sqrt(var + eps) * gamma + beta).astype(np.float32)


def batch_norm_inference(x, mean, var, eps: float) -> np.ndarray:
    """Channels at axis 1, no affine parameters."""
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return (
        (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    ).astype(np.float32)


def attention(q, k, v) -> np.ndarray:
    """Single-head scaled dot-product attention, ``(N, T, d)``."""
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    return (softmax(scores) @ v).astype(np.float32)


def resize_bilinear_half_pixel(x, height: int, width: int) -> np.ndarray:
    """Bilinear resize of ``(N, C, H, W)``, half-pixel centres, edges clamped."""

    def axis_weights(size_in, size_out):
        centres = (np.arange(size_out) + 0.5) * size_in / size_out - 0.5
        centres = np.clip(centres, 0, size_in - 1)
        low = np.floor(centres).astype(int)
        high = np.minimum(low + 1, size_in - 1)
        frac = centres - low
        matrix = np.zeros((size_out, size_in))
        matrix[np.arange(size_out), low] += 1 - frac
        matrix[np.arange(size_out), high] += frac
        return matrix

    rows = axis_weights(x.shape[2], height)
    cols = axis_weights(x.shape[3], width)
    return np.einsum("hi,ncij,wj->nchw", rows, x, cols).astype(np.float32)


def resize_nearest(x, height: int, width: int) -> np.ndarray:
    """Nearest-neighbour resize, PyTorch's ``floor(i * in / out)`` source index."""
    rows = np.floor(np.arange(height) * x.shape[2] / height).astype(int)
    cols = np.floor(np.arange(width) * x.shape[3] / width).astype(int)
    return x[:, :, rows][:, :, :, cols]


def causal_attention(q) -> np.ndarray:
    """Self-attention of ``q`` with itself, each step seeing only itself and the past."""
    scores = q @ np.swapaxes(q, -1, -2) / np.sqrt(q.shape[-1])
    steps = q.shape[-2]
    scores = np.where(np.tril(np.ones((steps, steps), bool)), scores, -np.inf)
    return (softmax(scores) @ q).astype(np.float32)


def resize_nearest_half_pixel(x, height: int, width: int) -> np.ndarray:
    """Nearest-neighbour resize with half-pixel centres (TensorFlow 2, PyTorch's 'nearest-exact')."""
    rows = np.minimum(
        np.floor((np.arange(height) + 0.5) * x.shape[2] / height),
        x.shape[2] - 1,
    ).astype(int)
    cols = np.minimum(
        np.floor((np.arange(width) + 0.5) * x.shape[3] / width), x.shape[3] - 1
    ).astype(int)
    return x[:, :, rows][:, :, :, cols]


def pixel_shuffle(x, r: int) -> np.ndarray:
    """PyTorch's pixel shuffle of ``(N, C * r * r, H, W)``: channel ``c * r * r + i * r + j``."""
    n, c, h, w = x.shape
    out = x.reshape(n, c // (r * r), r, r, h, w).transpose(0, 1, 4, 2, 5, 3)
    return out.reshape(n, c // (r * r), h * r, w * r)


def selu(x) -> np.ndarray:
    alpha, scale = 1.6732632423543772, 1.0507009873554805
    return (scale * np.where(x > 0, x, alpha * np.expm1(x))).astype(x.dtype)
