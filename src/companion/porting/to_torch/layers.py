"""Keras layers as PyTorch modules: dense, convolution, pooling, normalization, embedding.

TensorFlow's ``padding="same"`` is turned into the exact padding it means
for the input size at hand: symmetric padding becomes the module's
``padding`` argument, asymmetric padding (stride 2 on an even size, say) an
explicit ``nn.ZeroPad2d`` before the module.
"""

from __future__ import annotations

import operator

import numpy as np

from companion.porting.layout import (
    conv_kernel_to_torch,
    dense_kernel_to_torch,
    identity,
    inverse,
    permuted,
    reduced,
    same_padding,
)
from companion.porting.to_torch.activations import activation_after
from companion.porting.to_torch.values import (
    as_array,
    as_channels_first,
    as_keras_order,
    assign,
    bias_of,
    check_channels_last,
    spatial_sizes,
    tensor_arg,
)


def dense(site, layer, x):
    """``Dense`` -> ``nn.Linear`` (kernel transposed; rows reordered after a flatten)."""
    from torch import nn

    x = tensor_arg(site, x)
    if x.layout.features is None:
        x = as_keras_order(site, x)
    weight = dense_kernel_to_torch(as_array(layer.kernel), x.layout.features)
    linear = nn.Linear(weight.shape[1], weight.shape[0], bias=layer.use_bias)
    assign(linear, weight=weight, **bias_of(layer))
    out = site.module(linear, x)
    out.layout = identity(x.layout.rank)
    return activation_after(site, layer, out)


def _conv_pads(layer, sizes) -> list[tuple[int, int]]:
    kernel, stride, dilation = (
        layer.kernel_size,
        layer.strides,
        layer.dilation_rate,
    )
    if layer.padding == "valid":
        return [(0, 0)] * len(kernel)
    if layer.padding == "causal":
        return [(dilation[0] * (kernel[0] - 1), 0)]
    return [
        same_padding(n, k, s, d)
        for n, k, s, d in zip(sizes, kernel, stride, dilation, strict=True)
    ]


def pad_or_argument(site, x, pads, value: float = 0.0):
    """Symmetric padding as the module's argument; otherwise a padding module first.

    Returns the (maybe padded) input and the ``padding`` argument to pass.
    """
    from torch import nn

    if all(before == after for before, after in pads):
        return x, tuple(before for before, _ in pads)
    # PyTorch lists the last axis first: (left, right, top, bottom).
    flat = tuple(p for before_after in reversed(pads) for p in before_after)
    one = len(pads) == 1
    if value == 0.0:
        pad = nn.ZeroPad1d(flat) if one else nn.ZeroPad2d(flat)
    else:
        pad = (nn.ConstantPad1d if one else nn.ConstantPad2d)(flat, value)
    return site.module(pad, x, suffix="_pad"), (0,) * len(pads)


def conv(site, layer, x):
    """``Conv1D``/``Conv2D`` -> ``nn.Conv1d``/``2d`` (kernels HWIO -> OIHW)."""
    from torch import nn

    check_channels_last(site)
    spatial = len(layer.kernel_size)
    x = as_channels_first(site, tensor_arg(site, x), spatial)
    pads = _conv_pads(layer, spatial_sizes(x))
    x, padding = pad_or_argument(site, x, pads)
    weights = as_array(layer.kernel)
    conv_type = nn.Conv1d if spatial == 1 else nn.Conv2d
    module = conv_type(
        weights.shape[-2] * layer.groups,
        layer.filters,
        layer.kernel_size,
        stride=layer.strides,
        padding=padding,
        dilation=layer.dilation_rate,
        groups=layer.groups,
        bias=layer.use_bias,
    )
    assign(module, weight=conv_kernel_to_torch(weights), **bias_of(layer))
    return activation_after(site, layer, site.module(module, x))


def transpose_geometry(
    size, kernel, stride, dilation, padding, output_padding
):
    """``(start, length, full)``: Keras's output is ``full_output[start:start + length]``.

    ``full`` is the length of the uncropped transposed convolution; Keras
    computes its output length as TensorFlow does and crops by the forward
    convolution's ``same`` padding.

    >>> transpose_geometry(4, 3, 2, 1, "same", None)  # 4 -> 8 of the full 9
    (0, 8, 9)
    """
    span = dilation * (kernel - 1) + 1
    full = (size - 1) * stride + span
    if padding == "valid":
        if output_padding is None:
            extra = max(span, stride) - span
        else:
            extra = output_padding
        return 0, full + extra, full
    if output_padding is None:
        length = size * stride
    else:
        length = (size - 1) * stride + span % 2 + output_padding
    start = max((size - 1) * stride + span - length, 0) // 2
    return start, length, full


def _transpose_arguments(site, layer, sizes):
    """PyTorch's ``padding`` and ``output_padding``, and any crop left to do by hand."""
    output_padding = layer.output_padding or (None,) * len(sizes)
    padding, extras, crops = [], [], []
    for n, k, s, d, op in zip(
        sizes,
        layer.kernel_size,
        layer.strides,
        layer.dilation_rate,
        output_padding,
        strict=True,
    ):
        start, length, full = transpose_geometry(n, k, s, d, layer.padding, op)
        extra = length - (full - 2 * start)
        if 0 <= extra < max(s, d):  # padding and output_padding say it exactly
            padding.append(start)
            extras.append(extra)
            crops.append(None)
        else:  # crop by hand from the uncropped output, extended at the end
            padding.append(0)
            extras.append(max(0, start + length - full))
            crops.append(slice(start, start + length))
        if extras[-1] >= max(s, d):
            raise site.unsupported(
                f"{type(layer).__name__}(output_padding)",
                "PyTorch needs output_padding < stride",
            )
    return tuple(padding), tuple(extras), crops


def conv_transpose(site, layer, x):
    """``Conv1DTranspose``/``Conv2DTranspose`` -> ``nn.ConvTranspose1d``/``2d``."""
    from torch import nn

    check_channels_last(site)
    spatial = len(layer.kernel_size)
    x = as_channels_first(site, tensor_arg(site, x), spatial)
    if getattr(layer, "groups", 1) != 1:
        raise site.unsupported(f"{type(layer).__name__}(groups>1)")
    padding, extras, crops = _transpose_arguments(
        site, layer, spatial_sizes(x)
    )
    weights = as_array(layer.kernel)  # (*k, out, in)
    conv_type = nn.ConvTranspose1d if spatial == 1 else nn.ConvTranspose2d
    module = conv_type(
        weights.shape[-1],
        layer.filters,
        layer.kernel_size,
        stride=layer.strides,
        padding=padding,
        output_padding=extras,
        dilation=layer.dilation_rate,
        bias=layer.use_bias,
    )
    # (*k, out, in) -> (in, out, *k): the same transpose as a convolution's.
    assign(module, weight=conv_kernel_to_torch(weights), **bias_of(layer))
    out = site.module(module, x)
    if any(c is not None for c in crops):
        index = (slice(None), slice(None), *(c or slice(None) for c in crops))
        out = site.function(operator.getitem, out, index)
    return activation_after(site, layer, out)


def _pool_padding(site, layer, x, kernel, stride, is_max):
    """The (maybe padded) input and PyTorch's ``padding`` for a Keras pooling layer."""
    pads = [(0, 0)] * len(kernel)
    if layer.padding == "same":
        pads = [
            same_padding(n, k, s)
            for n, k, s in zip(spatial_sizes(x), kernel, stride, strict=True)
        ]
    symmetric = all(
        b == a and 2 * b <= k for (b, a), k in zip(pads, kernel, strict=True)
    )
    if symmetric:
        return x, tuple(b for b, _ in pads)
    if is_max:  # pad with -inf, which max pooling then ignores, as TF does
        return pad_or_argument(site, x, pads, value=float("-inf"))
    raise site.unsupported(
        f"{type(layer).__name__}(padding='same')",
        f"TensorFlow pads {pads} for this input and averages over real "
        "pixels only; PyTorch's count_include_pad=False needs symmetric padding",
    )


def pool(site, layer, x):
    """``MaxPooling``/``AveragePooling`` 1D/2D -> ``nn.MaxPool``/``nn.AvgPool``."""
    import keras
    from torch import nn

    check_channels_last(site)
    spatial = len(layer.pool_size)
    x = as_channels_first(site, tensor_arg(site, x), spatial)
    is_max = isinstance(
        layer, keras.layers.MaxPooling1D | keras.layers.MaxPooling2D
    )
    kernel, stride = tuple(layer.pool_size), tuple(layer.strides)
    x, padding = _pool_padding(site, layer, x, kernel, stride, is_max)
    if is_max:
        pool_type = nn.MaxPool1d if spatial == 1 else nn.MaxPool2d
        module = pool_type(kernel, stride, padding)
    else:
        pool_type = nn.AvgPool1d if spatial == 1 else nn.AvgPool2d
        module = pool_type(kernel, stride, padding, count_include_pad=False)
    return site.module(module, x)


def global_pool(site, layer, x):
    """Global average/max pooling -> ``torch.mean``/``torch.amax`` over H, W."""
    import keras
    import torch

    check_channels_last(site)
    one_d = (
        keras.layers.GlobalAveragePooling1D,
        keras.layers.GlobalMaxPooling1D,
    )
    rank = 3 if isinstance(layer, one_d) else 4
    x = as_channels_first(site, tensor_arg(site, x), rank - 2)
    dims = tuple(range(2, rank))
    is_max = isinstance(
        layer,
        keras.layers.GlobalMaxPooling1D | keras.layers.GlobalMaxPooling2D,
    )
    return site.function(
        torch.amax if is_max else torch.mean,
        x,
        dim=dims,
        keepdim=layer.keepdims,
        layout=reduced(x.layout, dims, layer.keepdims),
    )


def _affine(layer, size, order):
    """Keras's gamma and beta, with the ones and zeros a layer without them means."""
    gamma = (
        as_array(layer.gamma)[order]
        if layer.scale
        else np.ones(size, np.float32)
    )
    beta = (
        as_array(layer.beta)[order]
        if layer.center
        else np.zeros(size, np.float32)
    )
    return gamma, beta


def _normalized_to_axis_one(site, x, axis):
    """Bring the normalized axis to PyTorch's axis 1: a free relabelling."""
    channel = x.layout.torch_axis(axis)
    if channel == 1:
        return x
    dims = list(range(x.layout.rank))
    dims[1], dims[channel] = dims[channel], dims[1]
    return site.method("permute", x, *dims, layout=permuted(x.layout, dims))


def batch_norm(site, layer, x):
    """``BatchNormalization`` -> ``nn.BatchNorm``: momentum ``1 - m``, epsilon carried."""
    from torch import nn

    x = tensor_arg(site, x)
    several = not isinstance(layer.axis, int) and len(layer.axis) != 1
    if several:
        raise site.unsupported("BatchNormalization over several axes")
    if getattr(layer, "renorm", False) or getattr(
        layer, "synchronized", False
    ):
        raise site.unsupported("BatchNormalization(renorm or synchronized)")
    axis = layer.axis if isinstance(layer.axis, int) else layer.axis[0]
    order = slice(None)
    if x.layout.features is not None:
        order = list(inverse(x.layout.features))
    else:
        x = _normalized_to_axis_one(site, x, axis)
    size = int(x.example.shape[1])
    norm_type = {2: nn.BatchNorm1d, 3: nn.BatchNorm1d, 4: nn.BatchNorm2d}.get(
        x.layout.rank, nn.BatchNorm3d
    )
    norm = norm_type(size, eps=layer.epsilon, momentum=1.0 - layer.momentum)
    gamma, beta = _affine(layer, size, order)
    assign(
        norm,
        weight=gamma,
        bias=beta,
        running_mean=as_array(layer.moving_mean)[order],
        running_var=as_array(layer.moving_variance)[order],
    )
    return site.module(norm, x)


def layer_norm(site, layer, x):
    """``LayerNormalization`` -> ``nn.LayerNorm`` over the same (trailing) axes."""
    from torch import nn

    x = tensor_arg(site, x)
    axes = [layer.axis] if isinstance(layer.axis, int) else list(layer.axis)
    rank = x.layout.rank
    axes = sorted(a % rank for a in axes)
    order = slice(None)
    if x.layout.features is not None and axes == [1]:
        order = list(inverse(x.layout.features))
    else:
        torch_axes = [x.layout.torch_axis(a) for a in axes]
        if torch_axes != list(range(rank - len(axes), rank)):
            x = as_keras_order(site, x)
    shape = tuple(int(s) for s in x.example.shape[rank - len(axes) :])
    norm = nn.LayerNorm(shape, eps=layer.epsilon)
    gamma, beta = _affine(layer, shape, order)
    assign(norm, weight=gamma, bias=beta)
    return site.module(norm, x)


def embedding(site, layer, x):
    """``Embedding`` -> ``nn.Embedding`` (the same table)."""
    from torch import nn

    x = tensor_arg(site, x)
    if getattr(layer, "mask_zero", False):
        raise site.unsupported(
            "Embedding(mask_zero=True)", "masks are not translated"
        )
    weights = as_array(layer.embeddings)
    module = nn.Embedding(*weights.shape)
    assign(module, weight=weights)
    out = site.module(module, as_keras_order(site, x))
    out.layout = identity(x.layout.rank + 1)
    return out


def dropout(site, layer, x):
    """``Dropout`` -> ``nn.Dropout`` (inactive in eval mode)."""
    from torch import nn

    return site.module(nn.Dropout(float(layer.rate)), tensor_arg(site, x))
