"""Keras layers and ``keras.ops`` calls that move, merge or select values.

Flatten, Reshape, Permute, padding and cropping, the merge layers (Add,
Concatenate, ...) and the ``keras.ops`` a functional graph may hold
(arithmetic, reductions, slicing, ``take``, ``transpose``). A Keras
``Permute`` costs nothing in PyTorch: only the recorded layout changes.
"""

from __future__ import annotations

import operator

import numpy as np

from companion.porting.layout import (
    flattened,
    identity,
    keras_permuted,
    reduced,
)
from companion.porting.to_torch.values import (
    Stacked,
    TorchValue,
    as_channels_first,
    as_keras_order,
    as_layout,
    check_channels_last,
    spatial_sizes,
    tensor_arg,
    unified,
)


def passthrough(site, layer, x, *args, **kwargs):
    """``InputLayer``, ``Identity``: nothing to add."""
    return x


def flatten_layer(site, layer, x):
    """``Flatten`` -> ``nn.Flatten``; the features' order is recorded, not moved."""
    from torch import nn

    x = tensor_arg(site, x)
    if x.layout.rank <= 2:
        return x
    layout = flattened(x.layout, tuple(x.example.shape))
    out = site.module(nn.Flatten(), x)
    out.layout = layout
    return out


def reshape(site, layer, x):
    """``Reshape`` -> ``Tensor.reshape(batch, *target_shape)`` in Keras's order."""
    x = as_keras_order(site, tensor_arg(site, x))
    batch = site.method("size", x, 0, layout=identity(1))
    shape = tuple(int(s) for s in layer.target_shape)
    return site.method(
        "reshape", x, batch, *shape, layout=identity(len(shape) + 1)
    )


def permute(site, layer, x):
    """A Keras ``Permute`` changes only the recorded layout: no PyTorch operation."""
    x = tensor_arg(site, x)
    if x.layout.features is not None:
        x = as_layout(site, x, identity(2))
    layout = keras_permuted(x.layout, (0, *layer.dims))
    return TorchValue(x.node, x.example, layout)


def _per_axis_pairs(value) -> tuple:
    """``(1, 2)`` for one axis, ``((1, 2), (0, 1))`` for two: always a tuple of pairs.

    >>> _per_axis_pairs((1, 2)), _per_axis_pairs(((1, 2), (0, 1)))
    (((1, 2),), ((1, 2), (0, 1)))
    """
    return value if isinstance(value[0], tuple | list) else (value,)


def zero_padding(site, layer, x):
    """``ZeroPadding1D``/``2D`` -> ``nn.ZeroPad1d``/``2d`` (last axis listed first)."""
    from torch import nn

    check_channels_last(site)
    pads = _per_axis_pairs(layer.padding)
    x = as_channels_first(site, tensor_arg(site, x), len(pads))
    flat = tuple(int(p) for pair in reversed(pads) for p in pair)
    module = nn.ZeroPad1d(flat) if len(pads) == 1 else nn.ZeroPad2d(flat)
    return site.module(module, x)


def cropping(site, layer, x):
    """``Cropping1D``/``2D`` -> a slice of the channels-first tensor."""
    check_channels_last(site)
    crops = _per_axis_pairs(layer.cropping)
    x = as_channels_first(site, tensor_arg(site, x), len(crops))
    sizes = spatial_sizes(x)
    kept = (slice(b, n - a) for (b, a), n in zip(crops, sizes, strict=True))
    index = (slice(None), slice(None), *kept)
    return site.function(operator.getitem, x, index)


def merge(site, layer, inputs):
    """``Add``, ``Subtract``, ``Multiply``, ``Average``, ``Maximum``, ``Minimum``."""
    import keras
    import torch

    values = unified(site, list(inputs))
    kind = type(layer)
    if kind is keras.layers.Average:
        total = values[0]
        for value in values[1:]:
            total = site.function(torch.add, total, value)
        return site.function(operator.truediv, total, float(len(values)))
    functions = {
        keras.layers.Add: torch.add,
        keras.layers.Subtract: torch.sub,
        keras.layers.Multiply: torch.mul,
        keras.layers.Maximum: torch.maximum,
        keras.layers.Minimum: torch.minimum,
    }
    if kind not in functions:
        raise site.unsupported(kind.__name__)
    result = values[0]
    for value in values[1:]:
        result = site.function(functions[kind], result, value)
    return result


def concatenate(site, layer, inputs):
    """``Concatenate`` -> ``torch.cat`` on the PyTorch axis that holds Keras's axis."""
    import torch

    values = unified(site, list(inputs))
    if values[0].layout.features is not None:
        values = [as_layout(site, v, identity(2)) for v in values]
    dim = values[0].layout.torch_axis(layer.axis)
    return site.function(torch.cat, values, dim=dim, layout=values[0].layout)


# --- keras.ops called on symbolic tensors ------------------------------------------


def op_binary(function_name: str):
    """A converter for ``keras.ops.add`` and friends (and ``x + y`` on KerasTensors)."""

    def convert(site, op, left, right):
        import torch

        values = [v for v in (left, right) if isinstance(v, TorchValue)]
        if not values:
            raise site.unsupported(f"{type(op).__name__} of two constants")
        if len(values) == 2:
            left, right = unified(site, [left, right])
            if tuple(left.example.shape) != tuple(right.example.shape):
                # broadcasting follows Keras's axis order
                left, right = (
                    as_keras_order(site, left),
                    as_keras_order(site, right),
                )
        function = {
            "add": torch.add,
            "subtract": torch.sub,
            "multiply": torch.mul,
            "divide": torch.div,
        }[function_name]
        return site.function(function, left, right, layout=values[0].layout)

    return convert


def op_reduce(function_name: str):
    """A converter for ``keras.ops.mean``/``sum``/``max`` over non-batch axes."""

    def convert(site, op, x):
        import torch

        x = tensor_arg(site, x)
        if op.axis is None:
            raise site.unsupported(f"{type(op).__name__} over every axis")
        if x.layout.features is not None:
            x = as_layout(site, x, identity(2))
        axes = (op.axis,) if isinstance(op.axis, int) else tuple(op.axis)
        dims = tuple(x.layout.torch_axis(a) for a in axes)
        if 0 in dims:
            raise site.unsupported(f"{type(op).__name__} over the batch axis")
        function = {
            "mean": torch.mean,
            "sum": torch.sum,
            "amax": torch.amax,
        }[function_name]
        return site.function(
            function,
            x,
            dim=dims,
            keepdim=op.keepdims,
            layout=reduced(x.layout, dims, op.keepdims),
        )

    return convert


def op_getitem(site, op, container, key):
    """``x[:, -1]``, ``states[0]``: slices that keep the batch axis."""
    if isinstance(container, Stacked):
        if not isinstance(key, int):
            raise site.unsupported("slicing a stack of final states")
        return container.items[key]
    x = tensor_arg(site, container)
    first = key[0] if isinstance(key, tuple) and key else key
    if not (first == slice(None) or first is Ellipsis):
        raise site.unsupported("indexing the batch axis", f"index {key!r}")
    out = site.function(operator.getitem, as_keras_order(site, x), key)
    out.layout = identity(max(out.example.ndim, 1))
    return out


def op_take(site, op, x, indices):
    """``keras.ops.take(x, order, axis=1)``: the reordering ``torch_to_keras`` inserts."""
    import torch

    x = tensor_arg(site, x)
    if op.axis is None or op.axis % x.layout.rank == 0:
        raise site.unsupported("Take along the batch axis")
    x = as_keras_order(site, x)
    order = torch.as_tensor(np.asarray(indices))
    index = site.builder.constant(f"{site.name}_index", order)
    return site.function(torch.index_select, x, op.axis % x.layout.rank, index)


def op_stack(site, op, values):
    if op.axis != 0:
        raise site.unsupported(f"Stack(axis={op.axis})")
    return Stacked([tensor_arg(site, v) for v in values])


def op_transpose(site, op, x):
    """``keras.ops.transpose``: like ``Permute``, only the layout changes."""
    x = tensor_arg(site, x)
    rank = x.layout.rank
    axes = (
        tuple(op.axes) if op.axes is not None else tuple(reversed(range(rank)))
    )
    if x.layout.features is not None:
        x = as_layout(site, x, identity(2))
    try:
        return TorchValue(x.node, x.example, keras_permuted(x.layout, axes))
    except ValueError as error:
        raise site.unsupported(
            "transpose that moves the batch axis"
        ) from error
