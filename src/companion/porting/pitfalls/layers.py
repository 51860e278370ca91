"""Layers that share a name but not their defaults: normalization, GELU, padding, initial weights.

>>> from companion.porting.pitfalls.layers import gelu_approximation
>>> measured = gelu_approximation()
>>> measured.silent, measured.naive > 1e-5 > measured.fixed
(True, True)
"""

from __future__ import annotations

import inspect
import math
import warnings

import numpy as np

from companion.porting.pitfalls import Measured, error_line
from companion.porting.tolerance import relative_difference


def default_of(function, name: str):
    """The default value of parameter ``name`` in ``function``'s signature."""
    return inspect.signature(function).parameters[name].default


def normalization_defaults() -> dict:
    """Momentum and epsilon of BatchNorm and LayerNorm, read from fresh layers."""
    import keras
    from torch import nn

    torch_bn, keras_bn = nn.BatchNorm2d(3), keras.layers.BatchNormalization()
    return {
        "PyTorch BatchNorm2d": {
            "momentum": torch_bn.momentum,
            "eps": torch_bn.eps,
        },
        "Keras BatchNormalization": {
            "momentum": keras_bn.momentum,
            "epsilon": keras_bn.epsilon,
        },
        "PyTorch LayerNorm": {"eps": nn.LayerNorm(4).eps},
        "Keras LayerNormalization": {
            "epsilon": keras.layers.LayerNormalization().epsilon
        },
    }


def _trained_batchnorm(rng, channels: int, variance: float):
    """A BatchNorm2d in eval mode whose running variances are about ``variance``."""
    import torch
    from torch import nn

    bn = nn.BatchNorm2d(channels).eval()
    with torch.no_grad():
        bn.running_mean.copy_(
            torch.from_numpy(rng.normal(size=channels).astype(np.float32))
        )
        scale = rng.uniform(0.5, 2.0, size=channels).astype(np.float32)
        bn.running_var.copy_(torch.from_numpy(variance * scale))
        bn.weight.copy_(
            torch.from_numpy(
                rng.uniform(0.5, 1.5, channels).astype(np.float32)
            )
        )
        bn.bias.copy_(
            torch.from_numpy(rng.normal(size=channels).astype(np.float32))
        )
    return bn


def _keras_batchnorm(bn, images_last, **settings):
    """A Keras BatchNormalization holding ``bn``'s statistics, applied at inference."""
    import keras

    layer = keras.layers.BatchNormalization(**settings)
    layer.build(images_last.shape)
    for name, source in (
        ("gamma", bn.weight),
        ("beta", bn.bias),
        ("moving_mean", bn.running_mean),
        ("moving_variance", bn.running_var),
    ):
        getattr(layer, name).assign(source.detach().numpy())
    return np.asarray(layer(images_last, training=False))


def batchnorm_epsilon(variance: float = 1e-3, seed: int = 0) -> Measured:
    """Inference with copied running statistics: Keras's default epsilon against ``eps``.

    BatchNorm divides by ``sqrt(running_var + eps)``, so the default
    epsilon (1e-3 in Keras, 1e-5 in PyTorch) matters where the running
    variances are small, as they often are after a convolution.
    """
    import torch

    rng = np.random.default_rng(seed)
    bn = _trained_batchnorm(rng, 4, variance)
    images = rng.normal(scale=math.sqrt(variance), size=(2, 4, 6, 6)).astype(
        np.float32
    )
    with torch.no_grad():
        expected = bn(torch.from_numpy(images)).numpy().transpose(0, 2, 3, 1)
    last = images.transpose(0, 2, 3, 1)
    naive = _keras_batchnorm(bn, last)  # epsilon left at Keras's default
    fixed = _keras_batchnorm(
        bn, last, epsilon=bn.eps, momentum=1 - bn.momentum
    )
    return Measured(
        "BatchNorm, Keras's default epsilon",
        naive=relative_difference(expected, naive),
        fixed=relative_difference(expected, fixed),
        details={"running variance about": variance},
    )


def layernorm_epsilon(variance: float = 1.0, seed: int = 0) -> Measured:
    """``nn.LayerNorm(d)`` (eps 1e-5) against ``LayerNormalization()`` (epsilon 1e-3)."""
    import keras
    import torch

    rng = np.random.default_rng(seed)
    x = rng.normal(scale=math.sqrt(variance), size=(8, 64)).astype(np.float32)
    norm = torch.nn.LayerNorm(64)
    with torch.no_grad():
        expected = norm(torch.from_numpy(x)).numpy()
    naive = keras.layers.LayerNormalization()(x)
    fixed = keras.layers.LayerNormalization(epsilon=norm.eps)(x)
    return Measured(
        f"LayerNorm, Keras's default epsilon, inputs of variance {variance:g}",
        naive=relative_difference(expected, np.asarray(naive)),
        fixed=relative_difference(expected, np.asarray(fixed)),
    )


def gelu_defaults() -> dict:
    """Which GELU each spelling computes by default (True: the tanh approximation)."""
    import keras
    import tensorflow as tf
    from torch import nn

    return {
        "torch.nn.GELU()": nn.GELU().approximate == "tanh",
        "keras.activations.gelu": default_of(
            keras.activations.gelu, "approximate"
        ),
        'keras.layers.Activation("gelu")': default_of(
            keras.activations.gelu, "approximate"
        ),
        "keras.ops.gelu": default_of(keras.ops.gelu, "approximate"),
        "tf.nn.gelu": default_of(tf.nn.gelu, "approximate"),
    }


def gelu_approximation() -> Measured:
    """``nn.GELU()`` (exact) ported as ``keras.ops.gelu(x)`` (tanh approximation by default)."""
    import keras
    import torch

    x = np.linspace(-4, 4, 801, dtype=np.float32)
    expected = torch.nn.GELU()(torch.from_numpy(x)).numpy()
    naive = np.asarray(keras.ops.gelu(x))
    fixed = np.asarray(keras.ops.gelu(x, approximate=False))
    return Measured(
        "GELU as keras.ops.gelu",
        naive=relative_difference(expected, naive),
        fixed=relative_difference(expected, fixed),
        details={
            "largest |exact - tanh|": float(np.max(np.abs(expected - naive)))
        },
    )


def _torch_conv(kernel, images, **settings):
    import torch
    import torch.nn.functional as F

    with torch.no_grad(), warnings.catch_warnings():
        # PyTorch notes that "same" with an even kernel pads a copy: expected.
        warnings.filterwarnings("ignore", "Using padding='same'", UserWarning)
        return F.conv2d(
            torch.from_numpy(images), torch.from_numpy(kernel), **settings
        ).numpy()


def _keras_conv(kernel, images_last, padding: str, pad_first: int = 0):
    import keras

    x = images_last
    if pad_first:
        x = keras.layers.ZeroPadding2D(pad_first)(x)
    conv = keras.layers.Conv2D(
        kernel.shape[0],
        kernel.shape[2:],
        strides=2,
        padding=padding,
        use_bias=False,
    )
    conv.build(x.shape)
    conv.kernel.assign(kernel.transpose(2, 3, 1, 0))  # OIHW -> HWIO
    return np.asarray(conv(x)).transpose(0, 3, 1, 2)


def same_padding_stride_two(size: int = 8, seed: int = 0) -> Measured:
    """``Conv2d(stride=2, padding=1)`` ported as ``Conv2D(strides=2, padding="same")``.

    On an even input TensorFlow pads one pixel after and none before;
    PyTorch's ``padding=1`` pads one on each side. The outputs have the
    same shape and different values. The fix pads explicitly, then uses
    ``"valid"``.
    """
    from companion.porting.layout import same_padding

    rng = np.random.default_rng(seed)
    kernel = rng.normal(size=(4, 3, 3, 3)).astype(np.float32)
    images = rng.normal(size=(2, 3, size, size)).astype(np.float32)
    expected = _torch_conv(kernel, images, stride=2, padding=1)
    last = images.transpose(0, 2, 3, 1)
    naive = _keras_conv(kernel, last, "same")
    fixed = _keras_conv(kernel, last, "valid", pad_first=1)
    try:
        _torch_conv(kernel, images, stride=2, padding="same")
        refused = "accepted"
    except (RuntimeError, ValueError) as error:
        refused = error_line(error)
    return Measured(
        f"padding='same', stride 2, {size} pixels",
        naive=relative_difference(expected, naive),
        fixed=relative_difference(expected, fixed),
        details={
            "TensorFlow 'same' pads (before, after)": same_padding(size, 3, 2),
            "PyTorch padding=1 pads (before, after)": (1, 1),
            "PyTorch padding='same' with stride 2": refused,
        },
    )


def same_padding_stride_one(kernels=(3, 4), seed: int = 0) -> dict[int, float]:
    """``padding="same"`` at stride 1 in both frameworks: kernel size -> relative difference."""
    import keras

    rng = np.random.default_rng(seed)
    images = rng.normal(size=(2, 3, 8, 8)).astype(np.float32)
    last = images.transpose(0, 2, 3, 1)
    result = {}
    for size in kernels:
        kernel = rng.normal(size=(4, 3, size, size)).astype(np.float32)
        expected = _torch_conv(kernel, images, padding="same")
        conv = keras.layers.Conv2D(4, size, padding="same", use_bias=False)
        conv.build(last.shape)
        conv.kernel.assign(kernel.transpose(2, 3, 1, 0))  # OIHW -> HWIO
        got = np.asarray(conv(last)).transpose(0, 3, 1, 2)
        result[size] = relative_difference(expected, got)
    return result


def _weights(
    layer_type: str, fan_in: int, fan_out: int, seed: int, matched: bool
):
    """A dense layer's initial kernel and bias in PyTorch's or Keras's defaults."""
    import keras
    import torch

    if layer_type == "torch":
        torch.manual_seed(seed)
        linear = torch.nn.Linear(fan_in, fan_out)
        return linear.weight.detach().numpy().T, linear.bias.detach().numpy()
    # Keras's defaults, seeded here rather than drawn from its global seed
    # generator: the result must not depend on what ran before.
    options = {
        "kernel_initializer": keras.initializers.GlorotUniform(seed=seed),
        "bias_initializer": "zeros",
    }
    if matched:  # PyTorch's rule: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for both
        bound = 1 / math.sqrt(fan_in)
        options = {
            "kernel_initializer": keras.initializers.VarianceScaling(
                1 / 3, mode="fan_in", distribution="uniform", seed=seed
            ),
            "bias_initializer": keras.initializers.RandomUniform(
                -bound, bound, seed=seed
            ),
        }
    dense = keras.layers.Dense(fan_out, **options)
    dense.build((None, fan_in))
    return np.asarray(dense.kernel), np.asarray(dense.bias)


def initializers(
    fan_in: int = 256, fan_out: int = 128, seed: int = 0
) -> Measured:
    """Default initial weights of one dense layer, compared by spread (std and bound).

    The mismatch is a *distribution*: ``|std_keras - std_torch| / std_torch``
    of the kernels. After the fix only sampling noise remains.
    """
    torch_kernel, torch_bias = _weights("torch", fan_in, fan_out, seed, False)
    naive_kernel, naive_bias = _weights("keras", fan_in, fan_out, seed, False)
    fixed_kernel, fixed_bias = _weights("keras", fan_in, fan_out, seed, True)

    def spread_gap(kernel):
        return abs(float(kernel.std()) - float(torch_kernel.std())) / float(
            torch_kernel.std()
        )

    return Measured(
        f"default initializers, Dense {fan_in} -> {fan_out}",
        naive=round(spread_gap(naive_kernel), 6),
        fixed=round(spread_gap(fixed_kernel), 6),
        details={
            "PyTorch kernel: largest |w|, std": (
                float(np.abs(torch_kernel).max()),
                float(torch_kernel.std()),
            ),
            "Keras kernel: largest |w|, std": (
                float(np.abs(naive_kernel).max()),
                float(naive_kernel.std()),
            ),
            "matched Keras kernel: largest |w|, std": (
                float(np.abs(fixed_kernel).max()),
                float(fixed_kernel.std()),
            ),
            "largest |bias|: PyTorch, Keras, matched": (
                float(np.abs(torch_bias).max()),
                float(np.abs(naive_bias).max()),
                float(np.abs(fixed_bias).max()),
            ),
        },
    )
