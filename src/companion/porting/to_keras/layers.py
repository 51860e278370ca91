"""PyTorch layers as Keras layers: dense, convolution, pooling, padding, normalization.

Each converter takes the :class:`~companion.porting.to_keras.values.Site`
of the traced call, the PyTorch module and its converted inputs, builds the
Keras layer, calls it, copies the weights in Keras's layout, and returns the
converted output. What has no exact Keras spelling raises
:class:`~companion.porting.errors.UnsupportedLayerError`.
"""

from __future__ import annotations

from companion.porting.layout import (
    conv_kernel_to_keras,
    dense_kernel_to_keras,
    identity,
    same_padding,
    torch_same_padding,
)
from companion.porting.to_keras.values import (
    KerasValue,
    as_array,
    as_channels_last,
    as_torch_order,
    per_axis,
    same_layout,
    tensor_arg,
)


def linear(site, module, x):
    """``nn.Linear`` -> ``Dense``; after a flatten, the kernel rows follow Keras's order."""
    import keras

    x = tensor_arg(site, x)
    if x.layout.features is None:
        x = as_torch_order(x)
    kernel = dense_kernel_to_keras(as_array(module.weight), x.layout.features)
    has_bias = module.bias is not None
    layer = keras.layers.Dense(
        module.out_features, use_bias=has_bias, name=site.name
    )
    out = layer(x.tensor)
    layer.kernel.assign(kernel)
    if has_bias:
        layer.bias.assign(as_array(module.bias))
    return KerasValue(out, identity(x.layout.rank))


def _torch_pads(module, spatial: int) -> list[tuple[int, int]]:
    """``(before, after)`` per spatial axis of a PyTorch convolution's padding."""
    padding = module.padding
    if padding == "valid":
        return [(0, 0)] * spatial
    if padding == "same":
        kernel = per_axis(module.kernel_size, spatial)
        dilation = per_axis(module.dilation, spatial)
        return [
            torch_same_padding(k, d)
            for k, d in zip(kernel, dilation, strict=True)
        ]
    return [(int(p), int(p)) for p in per_axis(padding, spatial)]


def keras_padding(pads, sizes, kernel, stride, dilation=None):
    """``("valid", None)``, ``("same", None)`` or ``("valid", pads)`` for a ZeroPadding first.

    TensorFlow's ``same`` is used only where it pads exactly ``pads`` for
    this input size (with stride 2 it often pads only after).

    >>> keras_padding([(1, 1)], [8], [3], [1])
    ('same', None)
    >>> keras_padding([(1, 1)], [8], [3], [2])  # TF would pad (0, 1)
    ('valid', [(1, 1)])
    """
    if all(p == (0, 0) for p in pads):
        return "valid", None
    dilation = dilation or [1] * len(pads)
    tf_same = [
        same_padding(n, k, s, d)
        for n, k, s, d in zip(sizes, kernel, stride, dilation, strict=True)
    ]
    if list(pads) == tf_same:
        return "same", None
    return "valid", list(pads)


def zero_padding(tensor, pads):
    """A ``ZeroPadding1D``/``2D`` of ``(before, after)`` per spatial axis."""
    import keras

    if len(pads) == 1:
        return keras.layers.ZeroPadding1D(padding=pads[0])(tensor)
    return keras.layers.ZeroPadding2D(padding=tuple(pads))(tensor)


def _check_stride_and_dilation(site, name, stride, dilation) -> None:
    if max(stride) > 1 and max(dilation) > 1:
        raise site.unsupported(
            f"{name}(stride>1, dilation>1)",
            "Keras convolutions cannot combine strides and dilation",
        )


def conv(site, module, x):
    """``nn.Conv1d``/``2d`` -> ``Conv1D``/``2D`` (kernels OIHW -> HWIO)."""
    import keras

    spatial, name = module.weight.ndim - 2, type(module).__name__
    x = as_channels_last(tensor_arg(site, x), spatial)
    if module.padding_mode != "zeros":
        raise site.unsupported(
            f"{name}(padding_mode={module.padding_mode!r})",
            "Keras convolutions pad with zeros only",
        )
    kernel = per_axis(module.kernel_size, spatial)
    stride = per_axis(module.stride, spatial)
    dilation = per_axis(module.dilation, spatial)
    _check_stride_and_dilation(site, name, stride, dilation)
    padding, explicit = keras_padding(
        _torch_pads(module, spatial),
        site.input_shapes[0][2:],
        kernel,
        stride,
        dilation,
    )
    tensor = zero_padding(x.tensor, explicit) if explicit else x.tensor
    layer_type = keras.layers.Conv1D if spatial == 1 else keras.layers.Conv2D
    layer = layer_type(
        module.out_channels,
        kernel,
        strides=stride,
        padding=padding,
        dilation_rate=dilation,
        groups=module.groups,
        use_bias=module.bias is not None,
        name=site.name,
    )
    out = layer(tensor)
    layer.kernel.assign(conv_kernel_to_keras(as_array(module.weight)))
    if module.bias is not None:
        layer.bias.assign(as_array(module.bias))
    return KerasValue(out, x.layout)


def _check_transpose(site, module, spatial, output_size) -> None:
    name = type(module).__name__
    if output_size is not None:
        raise site.unsupported(
            f"{name}(output_size=...)", "pass output_padding instead"
        )
    if module.groups != 1:
        raise site.unsupported(
            f"{name}(groups={module.groups})",
            "Keras transposed convolutions have no groups",
        )
    stride = per_axis(module.stride, spatial)
    dilation = per_axis(module.dilation, spatial)
    _check_stride_and_dilation(site, name, stride, dilation)


def conv_transpose(site, module, x, output_size=None):
    """``nn.ConvTranspose1d``/``2d`` -> ``Conv1DTranspose``/``2DTranspose``, then cropping."""
    import keras

    spatial = module.weight.ndim - 2
    x = as_channels_last(tensor_arg(site, x), spatial)
    _check_transpose(site, module, spatial, output_size)
    output_padding = per_axis(module.output_padding, spatial)
    layer_type = (
        keras.layers.Conv1DTranspose
        if spatial == 1
        else keras.layers.Conv2DTranspose
    )
    layer = layer_type(
        module.out_channels,
        per_axis(module.kernel_size, spatial),
        strides=per_axis(module.stride, spatial),
        padding="valid",
        output_padding=output_padding if any(output_padding) else None,
        dilation_rate=per_axis(module.dilation, spatial),
        use_bias=module.bias is not None,
        name=site.name,
    )
    out = layer(x.tensor)
    # PyTorch (in, out, *k) -> Keras (*k, out, in): the same transpose as a conv's.
    layer.kernel.assign(conv_kernel_to_keras(as_array(module.weight)))
    if module.bias is not None:
        layer.bias.assign(as_array(module.bias))
    # PyTorch's padding removes rows and columns from the full output.
    crop = [(int(p), int(p)) for p in per_axis(module.padding, spatial)]
    if any(any(c) for c in crop):
        cropping = (
            keras.layers.Cropping1D(crop[0])
            if spatial == 1
            else keras.layers.Cropping2D(tuple(crop))
        )
        out = cropping(out)
    return KerasValue(out, x.layout)


def _check_pool(site, module, spatial: int, is_max: bool) -> None:
    name = type(module).__name__
    if module.ceil_mode:
        raise site.unsupported(
            f"{name}(ceil_mode=True)",
            "Keras pooling rounds the output size down",
        )
    dilated = is_max and max(per_axis(module.dilation, spatial)) > 1
    if dilated or (is_max and module.return_indices):
        raise site.unsupported(
            f"{name}(dilation or return_indices)",
            "Keras max pooling has neither",
        )
    if not is_max and getattr(module, "divisor_override", None) is not None:
        raise site.unsupported(
            f"{name}(divisor_override=...)",
            "Keras average pooling has no divisor",
        )


def _pool_padding(site, module, x, kernel, stride, is_max):
    """``(tensor, "valid" | "same")``: TF's ``same`` where it matches, else zeros that count."""
    spatial = len(kernel)
    pads = [(int(p), int(p)) for p in per_axis(module.padding, spatial)]
    if all(p == (0, 0) for p in pads):
        return x.tensor, "valid"
    sizes = site.input_shapes[0][2:]
    tf_same = [
        same_padding(n, k, s)
        for n, k, s in zip(sizes, kernel, stride, strict=True)
    ]
    ignores_padding = is_max or not module.count_include_pad
    if pads == tf_same and ignores_padding:
        # TensorFlow leaves padded pixels out of both max and average pooling.
        return x.tensor, "same"
    if not is_max and module.count_include_pad:
        return zero_padding(x.tensor, pads), "valid"  # zeros that count
    raise site.unsupported(
        f"{type(module).__name__}(padding={module.padding})",
        f"TensorFlow's 'same' pads {tf_same} for this input, and -inf or "
        "excluded padding has no other Keras spelling",
    )


def pool(site, module, x):
    """``nn.MaxPool``/``AvgPool`` 1d/2d -> ``MaxPooling``/``AveragePooling`` 1D/2D."""
    import keras
    from torch import nn

    spatial = 1 if type(module).__name__.endswith("1d") else 2
    x = as_channels_last(tensor_arg(site, x), spatial)
    is_max = isinstance(module, nn.MaxPool1d | nn.MaxPool2d)
    _check_pool(site, module, spatial, is_max)
    kernel = per_axis(module.kernel_size, spatial)
    stride = per_axis(module.stride or module.kernel_size, spatial)
    tensor, padding = _pool_padding(site, module, x, kernel, stride, is_max)
    layer_type = {
        (True, 1): keras.layers.MaxPooling1D,
        (True, 2): keras.layers.MaxPooling2D,
        (False, 1): keras.layers.AveragePooling1D,
        (False, 2): keras.layers.AveragePooling2D,
    }[(is_max, spatial)]
    layer = layer_type(
        pool_size=kernel, strides=stride, padding=padding, name=site.name
    )
    return KerasValue(layer(tensor), x.layout)


def adaptive_pool(site, module, x):
    """``nn.AdaptiveAvg/MaxPool(1)`` -> global pooling with ``keepdims=True``."""
    import keras

    name = type(module).__name__
    spatial = 1 if name.endswith("1d") else 2
    x = as_channels_last(tensor_arg(site, x), spatial)
    if any(s != 1 for s in per_axis(module.output_size, spatial)):
        raise site.unsupported(
            f"{name}(output_size={module.output_size})",
            "only output size 1 (global pooling) has a Keras layer",
        )
    if getattr(module, "return_indices", False):
        raise site.unsupported(f"{name}(return_indices=True)")
    layer_type = {
        (True, 1): keras.layers.GlobalMaxPooling1D,
        (True, 2): keras.layers.GlobalMaxPooling2D,
        (False, 1): keras.layers.GlobalAveragePooling1D,
        (False, 2): keras.layers.GlobalAveragePooling2D,
    }["Max" in name, spatial]
    layer = layer_type(keepdims=True, name=site.name)
    return KerasValue(layer(x.tensor), x.layout)


def constant_pad(site, module, x):
    """``nn.ZeroPad``/``ConstantPad(value=0)`` -> ``ZeroPadding1D``/``2D``."""
    name = type(module).__name__
    if module.value != 0:
        raise site.unsupported(
            f"{name}(value={module.value})", "Keras pads with zeros only"
        )
    spatial = 1 if name.endswith("1d") else 2
    x = as_channels_last(tensor_arg(site, x), spatial)
    flat = list(
        module.padding
    )  # (left, right[, top, bottom]): last axis first
    pads = [tuple(flat[i : i + 2]) for i in range(0, len(flat), 2)][::-1]
    return KerasValue(zero_padding(x.tensor, pads), x.layout)


def _feature_order(x: KerasValue):
    """Index that puts per-feature parameters in Keras's order (after a flatten)."""
    return (
        slice(None) if x.layout.features is None else list(x.layout.features)
    )


def batch_norm(site, module, x):
    """``nn.BatchNorm1d``/``2d`` -> ``BatchNormalization``: momentum ``1 - m``, eps carried."""
    import keras

    x = tensor_arg(site, x)
    name = type(module).__name__
    if module.momentum is None:
        raise site.unsupported(
            f"{name}(momentum=None)", "Keras has no cumulative moving average"
        )
    if not module.track_running_stats:
        raise site.unsupported(
            f"{name}(track_running_stats=False)",
            "it normalizes with batch statistics even in eval mode",
        )
    order = _feature_order(x)
    axis = 1 if x.layout.features is not None else x.layout.keras_axis(1)
    layer = keras.layers.BatchNormalization(
        axis=axis,
        # PyTorch weighs the new batch by momentum, Keras the old average.
        momentum=1.0 - module.momentum,
        epsilon=module.eps,
        center=module.affine,
        scale=module.affine,
        name=site.name,
    )
    out = layer(x.tensor)
    if module.affine:
        layer.gamma.assign(as_array(module.weight)[order])
        layer.beta.assign(as_array(module.bias)[order])
    layer.moving_mean.assign(as_array(module.running_mean)[order])
    layer.moving_variance.assign(as_array(module.running_var)[order])
    return KerasValue(out, x.layout)


def layer_norm(site, module, x):
    """``nn.LayerNorm`` -> ``LayerNormalization`` on the same axes, eps carried."""
    import keras

    x = tensor_arg(site, x)
    count = len(module.normalized_shape)
    order = slice(None)
    if count == 1 and x.layout.features is not None:
        axis, order = -1, list(x.layout.features)
    elif count == 1:
        axis = x.layout.keras_axis(-1)
    else:
        x = as_torch_order(x)
        axis = list(range(x.layout.rank - count, x.layout.rank))
    has_bias = module.elementwise_affine and module.bias is not None
    layer = keras.layers.LayerNormalization(
        axis=axis,
        epsilon=module.eps,
        center=has_bias,
        scale=module.elementwise_affine,
        name=site.name,
    )
    out = layer(x.tensor)
    if module.elementwise_affine:
        layer.gamma.assign(as_array(module.weight)[order])
    if has_bias:
        layer.beta.assign(as_array(module.bias)[order])
    return KerasValue(out, x.layout)


def embedding(site, module, x):
    """``nn.Embedding`` -> ``Embedding`` (the same table)."""
    import keras

    x = as_torch_order(tensor_arg(site, x))
    if module.max_norm is not None:
        raise site.unsupported(
            "Embedding(max_norm=...)",
            "Keras embeddings do not renormalize rows",
        )
    layer = keras.layers.Embedding(
        module.num_embeddings, module.embedding_dim, name=site.name
    )
    out = layer(x.tensor)
    layer.embeddings.assign(as_array(module.weight))
    return KerasValue(out, identity(x.layout.rank + 1))


def dropout(site, module, x):
    """``nn.Dropout`` -> ``Dropout`` with the same rate (inactive at inference)."""
    import keras

    x = tensor_arg(site, x)
    layer = keras.layers.Dropout(module.p, name=site.name)
    return same_layout(x, layer(x.tensor))


def passthrough(site, module, x, *args, **kwargs):
    """``nn.Identity``: nothing to add."""
    return x
