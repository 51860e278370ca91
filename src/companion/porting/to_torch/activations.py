"""Keras activations as PyTorch modules (a layer's ``activation=`` included).

Keras and PyTorch share most names but not every default: Keras's
``leaky_relu`` activation slopes 0.2 and its ``LeakyReLU`` layer 0.3,
PyTorch's ``nn.LeakyReLU`` 0.01, so the slope is always written out.
"""

from __future__ import annotations

from companion.porting.to_torch.values import tensor_arg

#: Keras activation names whose PyTorch module takes no setting.
_SIMPLE = {
    "relu": "ReLU",
    "gelu": "GELU",  # keras.activations.gelu is exact, like nn.GELU()
    "silu": "SiLU",
    "swish": "SiLU",
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "selu": "SELU",
    "softplus": "Softplus",
    "softsign": "Softsign",
    "relu6": "ReLU6",
    "hard_sigmoid": "Hardsigmoid",
    "hard_silu": "Hardswish",
    "hard_swish": "Hardswish",
    "mish": "Mish",
    "log_sigmoid": "LogSigmoid",
    "tanh_shrink": "Tanhshrink",
    "elu": "ELU",
}

#: Every Keras activation name the converter translates.
ACTIVATION_NAMES = (*_SIMPLE, "linear", "leaky_relu", "softmax", "log_softmax")


def activation_module(site, name: str, value, axis: int = -1):
    """The PyTorch module for Keras activation ``name`` (None for ``linear``)."""
    from torch import nn

    if name == "linear":
        return None
    if name in _SIMPLE:
        return getattr(nn, _SIMPLE[name])()
    if name == "leaky_relu":
        return nn.LeakyReLU(0.2)  # keras.activations.leaky_relu's default
    if name in ("softmax", "log_softmax"):
        features = value.layout.features is not None
        dim = 1 if features else value.layout.torch_axis(axis)
        if name == "softmax":
            return nn.Softmax(dim=dim)
        return nn.LogSoftmax(dim=dim)
    raise site.unsupported(f"activation {name!r}", "no PyTorch translation")


def activation_after(site, layer, value):
    """The activation a Dense or Conv layer applies after its product (if any)."""
    function = getattr(layer, "activation", None)
    name = getattr(function, "__name__", "linear")
    module = activation_module(site, name, value)
    if module is None:
        return value
    return site.module(module, value, suffix=f"_{name}")


def activation_layer(site, layer, x):
    """``keras.layers.Activation("...")``."""
    x = tensor_arg(site, x)
    module = activation_module(site, layer.activation.__name__, x)
    return x if module is None else site.module(module, x)


def relu_layer(site, layer, x):
    """``keras.layers.ReLU`` with its ``max_value`` and ``negative_slope``."""
    from torch import nn

    x = tensor_arg(site, x)
    top, slope = layer.max_value, float(layer.negative_slope)
    if float(layer.threshold) != 0.0 or (top is not None and slope != 0.0):
        raise site.unsupported(
            "ReLU(threshold or max_value with negative_slope)"
        )
    if top is None:
        return site.module(nn.LeakyReLU(slope) if slope else nn.ReLU(), x)
    if float(top) == 6.0:
        return site.module(nn.ReLU6(), x)
    return site.module(nn.Hardtanh(0.0, float(top)), x)


def leaky_relu_layer(site, layer, x):
    from torch import nn

    slope = float(layer.negative_slope)  # the layer's default is 0.3
    return site.module(nn.LeakyReLU(slope), tensor_arg(site, x))


def elu_layer(site, layer, x):
    from torch import nn

    return site.module(nn.ELU(float(layer.alpha)), tensor_arg(site, x))


def softmax_layer(site, layer, x, mask=None):
    x = tensor_arg(site, x)
    if mask is not None:
        raise site.unsupported("Softmax with a mask")
    axis = layer.axis if isinstance(layer.axis, int) else layer.axis[0]
    return site.module(activation_module(site, "softmax", x, axis), x)


def gelu_op(site, op, x):
    """``keras.ops.gelu`` (tanh approximation by default) -> ``nn.GELU``."""
    from torch import nn

    approximate = "tanh" if op.approximate else "none"
    return site.module(nn.GELU(approximate=approximate), tensor_arg(site, x))


def log_softmax_op(site, op, x):
    x = tensor_arg(site, x)
    return site.module(activation_module(site, "log_softmax", x, op.axis), x)
