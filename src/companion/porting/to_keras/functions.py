"""The functions and tensor methods a traced ``forward`` calls, as Keras operations.

Residual additions, concatenation, flatten/view/reshape, permute and
transpose, and reductions over non-batch axes. A permute costs nothing in
Keras: only the recorded layout changes. A flatten of a channels-last
tensor becomes a plain ``Flatten`` whose features the next ``Dense``
reorders (see :mod:`companion.porting.layout`).
"""

from __future__ import annotations

import numbers
import operator
from functools import lru_cache

import numpy as np

from companion.porting.layout import (
    channels_last,
    flattened,
    identity,
    permuted,
    reduced,
)
from companion.porting.to_keras.sequences import activation
from companion.porting.to_keras.values import (
    KerasValue,
    Opaque,
    Stacked,
    as_layout,
    as_torch_order,
    per_axis,
    same_layout,
    tensor_arg,
    unified,
)


def flatten(site, x, start_dim=0, end_dim=-1):
    """``torch.flatten``/``Tensor.flatten``: every axis but the batch -> ``Flatten``."""
    x = tensor_arg(site, x)
    rank = x.layout.rank
    if start_dim % rank == 1 and end_dim % rank == rank - 1:
        return _flatten_all(site, x)
    return reshape(site, x, tuple(site.output.shape))


def _flatten_all(site, x):
    """Flatten in Keras's own order; record which PyTorch feature each position holds."""
    import keras

    if x.layout.rank == 2:
        return x
    layout = flattened(x.layout, site.input_shapes[0])
    return KerasValue(keras.layers.Flatten(name=site.name)(x.tensor), layout)


def reshape(site, x, shape):
    """A reshape that keeps the batch axis -> ``Reshape`` in PyTorch's order."""
    import keras

    x = tensor_arg(site, x)
    shape = tuple(int(s) for s in shape)
    batch = site.input_shapes[0][0]
    if not shape or shape[0] != batch:
        raise site.unsupported(
            "reshape that moves the batch axis", f"to {shape}"
        )
    if len(shape) == 2 and x.layout.rank > 2:
        return _flatten_all(site, x)
    x = as_torch_order(x)
    layer = keras.layers.Reshape(shape[1:], name=site.name)
    return KerasValue(layer(x.tensor), identity(len(shape)))


def reshape_to_output(site, x, *args, **kwargs):
    """``view``, ``reshape``, ``squeeze``, ``unsqueeze``: whatever shape the trace saw."""
    return reshape(site, x, tuple(site.output.shape))


def flatten_module(site, module, x):
    return flatten(site, x, module.start_dim, module.end_dim)


def unflatten_module(site, module, x):
    return reshape_to_output(site, x)


def permute(site, x, *dims):
    """``Tensor.permute(0, 2, 1)`` or ``Tensor.permute((0, 2, 1))``."""
    if len(dims) == 1 and isinstance(dims[0], tuple | list):
        dims = tuple(dims[0])
    return _permuted(site, tensor_arg(site, x), dims)


def permute_function(site, x, dims):
    return _permuted(site, tensor_arg(site, x), tuple(dims))


def transpose(site, x, dim0, dim1):
    x = tensor_arg(site, x)
    dims = list(range(x.layout.rank))
    dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
    return _permuted(site, x, tuple(dims))


def _permuted(site, x, dims):
    """A PyTorch permute changes only the recorded layout: no Keras layer at all."""
    if x.layout.features is not None:
        x = as_layout(x, identity(2))
    try:
        return KerasValue(x.tensor, permuted(x.layout, dims))
    except ValueError as error:
        raise site.unsupported(
            "permute that moves the batch axis", str(error)
        ) from error


def _is_spatial_mean(kind, x, dims) -> bool:
    rank = x.layout.rank
    return (
        kind == "mean"
        and rank in (3, 4)
        and x.layout == channels_last(rank)
        and sorted(dims) == list(range(2, rank))
    )


def reduce(site, kind, x, dim=None, keepdim=False, **kwargs):
    """``mean``/``sum``/``amax`` over non-batch axes (a spatial mean is global pooling)."""
    import keras

    x = tensor_arg(site, x)
    if dim is None or kwargs.get("dtype") is not None:
        raise site.unsupported(
            f"{kind} over every axis (or with dtype)",
            "the batch axis must stay",
        )
    dims = tuple(d % x.layout.rank for d in per_axis(dim, 1))
    if 0 in dims:
        raise site.unsupported(f"{kind} over the batch axis")
    layout = reduced(x.layout, dims, keepdim)
    if _is_spatial_mean(kind, x, dims):
        pool = (
            keras.layers.GlobalAveragePooling1D
            if x.layout.rank == 3
            else keras.layers.GlobalAveragePooling2D
        )
        out = pool(keepdims=keepdim, name=site.name)(x.tensor)
        return KerasValue(out, layout)
    if x.layout.features is not None:
        x = as_layout(x, identity(2))
    axes = tuple(x.layout.keras_axis(d) for d in dims)
    function = {
        "mean": keras.ops.mean,
        "sum": keras.ops.sum,
        "amax": keras.ops.max,
    }[kind]
    return KerasValue(function(x.tensor, axis=axes, keepdims=keepdim), layout)


def _check_operands(site, kind, left, right) -> list:
    tensors = [v for v in (left, right) if isinstance(v, KerasValue)]
    if not tensors:
        raise site.unsupported(f"{kind} of two non-tensors")
    for value in (left, right):
        if isinstance(value, Opaque):
            raise site.unsupported(
                f"{kind} with a parameter or buffer",
                "read outside a layer in forward()",
            )
        if not isinstance(value, KerasValue | numbers.Number):
            raise site.unsupported(
                f"{kind} with a {type(value).__name__}",
                "only tensors and numbers",
            )
    return tensors


def _with_number(kind, left, right, tensor):
    """A tensor and a Python number: Keras tensors overload the operators."""
    function = {
        "add": operator.add,
        "sub": operator.sub,
        "mul": operator.mul,
        "div": operator.truediv,
    }[kind]
    a = left.tensor if left is tensor else left
    b = right.tensor if right is tensor else right
    return KerasValue(function(a, b), tensor.layout)


def binary(site, kind, left, right, **kwargs):
    """``+ - * /`` of tensors (a merge layer when shapes agree) or with numbers."""
    import keras

    if kwargs.get("alpha", 1) != 1:
        raise site.unsupported(f"{kind}(alpha=...)")
    tensors = _check_operands(site, kind, left, right)
    if len(tensors) == 1:
        return _with_number(kind, left, right, tensors[0])
    left, right = unified([left, right])
    same_shape = tuple(left.tensor.shape) == tuple(right.tensor.shape)
    merges = {
        "add": keras.layers.Add,
        "sub": keras.layers.Subtract,
        "mul": keras.layers.Multiply,
    }
    if same_shape and kind in merges:
        merged = merges[kind](name=site.name)([left.tensor, right.tensor])
        return same_layout(left, merged)
    if not same_shape:  # broadcasting follows PyTorch's axis order
        left, right = as_torch_order(left), as_torch_order(right)
    function = {
        "add": keras.ops.add,
        "sub": keras.ops.subtract,
        "mul": keras.ops.multiply,
        "div": keras.ops.divide,
    }[kind]
    return same_layout(left, function(left.tensor, right.tensor))


def cat(site, tensors, dim=0):
    """``torch.cat`` along a non-batch axis -> ``Concatenate`` on the Keras axis."""
    import keras

    values = unified([tensor_arg(site, t) for t in tensors])
    if values[0].layout.features is not None:
        values = [as_layout(v, identity(2)) for v in values]
    if dim % values[0].layout.rank == 0:
        raise site.unsupported("cat along the batch axis")
    axis = values[0].layout.keras_axis(dim)
    out = keras.layers.Concatenate(axis=axis, name=site.name)(
        [v.tensor for v in values]
    )
    return KerasValue(out, values[0].layout)


def getitem(site, container, index):
    """Indexing: outputs of a layer (tuples), final states, or a slice of a tensor."""
    if isinstance(container, tuple | list):
        return container[index]
    if isinstance(container, Opaque):
        return Opaque(site.output)
    if isinstance(container, Stacked):
        if not isinstance(index, int):
            raise site.unsupported(
                "slicing a recurrent final state",
                "index it with one direction",
            )
        return container.items[index]
    x = tensor_arg(site, container)
    first = index[0] if isinstance(index, tuple) and index else index
    if not (first == slice(None) or first is Ellipsis):
        raise site.unsupported("indexing the batch axis", f"index {index!r}")
    x = as_torch_order(x)
    return KerasValue(x.tensor[index], identity(len(site.output.shape)))


def index_select(site, x, dim, index):
    """``x.index_select(1, order)`` with a constant order -> ``keras.ops.take``."""
    import keras

    x = tensor_arg(site, x)
    if not isinstance(index, Opaque) or dim % x.layout.rank == 0:
        raise site.unsupported(
            "index_select",
            "only with a constant index, not along the batch axis",
        )
    x = as_torch_order(x)
    order = np.asarray(index.value.cpu().numpy())
    taken = keras.ops.take(x.tensor, order, axis=dim % x.layout.rank)
    return KerasValue(taken, x.layout)


def shape_of(site, x, *args):
    """``x.size(0)``, ``x.shape``: a number the trace knows, no tensor."""
    return Opaque(site.output)


#: Positional arguments of the functional activations, by PyTorch name.
_ACTIVATION_ARGUMENTS = {
    "Softmax": ("dim",),
    "LogSoftmax": ("dim",),
    "LeakyReLU": ("negative_slope",),
    "ELU": ("alpha",),
}


def function_activation(kind: str):
    """A converter for ``F.relu(x)``, ``F.softmax(x, dim=1)`` and friends."""

    def convert(site, x, *args, **kwargs):
        names = _ACTIVATION_ARGUMENTS.get(kind, ())
        options = dict(zip(names, args, strict=False))
        ignored = ("inplace", "_stacklevel", "dtype")
        options.update({k: v for k, v in kwargs.items() if k not in ignored})
        return activation(site, kind, None, x, **options)

    return convert


def functional_dropout(site, x, p=0.5, training=True, inplace=False):
    if training:
        raise site.unsupported(
            "dropout(training=True)", "trace the model in eval mode"
        )
    return x


def _reduction(kind):
    def convert(site, x, dim=None, keepdim=False, **kwargs):
        return reduce(site, kind, x, dim, keepdim, **kwargs)

    return convert


def _binary(kind):
    def convert(site, left, right, **kwargs):
        return binary(site, kind, left, right, **kwargs)

    return convert


_FUNCTION_ACTIVATIONS = {
    "ReLU": ("relu", "F.relu"),
    "Sigmoid": ("sigmoid", "F.sigmoid"),
    "Tanh": ("tanh", "F.tanh"),
    "GELU": ("F.gelu",),
    "SiLU": ("F.silu",),
    "Softmax": ("softmax", "F.softmax"),
    "LogSoftmax": ("log_softmax", "F.log_softmax"),
    "LeakyReLU": ("F.leaky_relu",),
    "ELU": ("F.elu",),
    "Mish": ("F.mish",),
}


@lru_cache(maxsize=1)
def function_converters() -> dict:
    """Traced ``call_function`` targets -> converters."""
    import torch
    import torch.nn.functional as F

    table = {
        operator.add: _binary("add"),
        operator.sub: _binary("sub"),
        operator.mul: _binary("mul"),
        operator.truediv: _binary("div"),
        torch.add: _binary("add"),
        torch.sub: _binary("sub"),
        torch.mul: _binary("mul"),
        torch.div: _binary("div"),
        torch.cat: cat,
        torch.concat: cat,
        torch.flatten: flatten,
        torch.reshape: reshape_to_output,
        torch.squeeze: reshape_to_output,
        torch.unsqueeze: reshape_to_output,
        torch.permute: permute_function,
        torch.transpose: transpose,
        torch.mean: _reduction("mean"),
        torch.sum: _reduction("sum"),
        torch.amax: _reduction("amax"),
        operator.getitem: getitem,
        torch.index_select: index_select,
        getattr: shape_of,
        F.dropout: functional_dropout,
    }
    for kind, names in _FUNCTION_ACTIVATIONS.items():
        for name in names:
            owner, _, attribute = name.rpartition(".")
            function = getattr(F if owner == "F" else torch, attribute)
            table[function] = function_activation(kind)
    return table


@lru_cache(maxsize=1)
def method_converters() -> dict:
    """Traced ``call_method`` names -> converters."""
    return {
        "view": reshape_to_output,
        "reshape": reshape_to_output,
        "squeeze": reshape_to_output,
        "unsqueeze": reshape_to_output,
        "flatten": flatten,
        "permute": permute,
        "transpose": transpose,
        "contiguous": lambda site, x, *args, **kwargs: x,
        "size": shape_of,
        "mean": _reduction("mean"),
        "sum": _reduction("sum"),
        "amax": _reduction("amax"),
        "add": _binary("add"),
        "sub": _binary("sub"),
        "mul": _binary("mul"),
        "div": _binary("div"),
        "relu": function_activation("ReLU"),
        "sigmoid": function_activation("Sigmoid"),
        "tanh": function_activation("Tanh"),
        "softmax": function_activation("Softmax"),
    }
