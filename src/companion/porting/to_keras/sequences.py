"""PyTorch's recurrent layers, attention and activations as Keras layers.

The recurrent weights need the most care. PyTorch's LSTM gates are
(i, f, g, o) and Keras's (i, f, c, o): the same order, so the kernels are
only transposed, but PyTorch keeps two bias vectors that Keras holds as
their sum. PyTorch's GRU gates are (r, z, n) and Keras's (z, r, h): the
first two swap. Keras 3's GRU defaults to ``reset_after=True``, which is
PyTorch's formula, and keeps both biases as the two rows of a ``(2, 3H)``
bias.
"""

from __future__ import annotations

import numpy as np

from companion.porting.layout import identity, reorder_gates
from companion.porting.to_keras.values import (
    KerasValue,
    Opaque,
    Stacked,
    as_array,
    as_torch_order,
    same_layout,
    tensor_arg,
)


def _check_recurrent(site, module, states) -> None:
    name = type(module).__name__
    if states:
        raise site.unsupported(
            f"{name} with initial states", "call it on the input only"
        )
    for setting, wanted in (
        ("num_layers", 1),
        ("batch_first", True),
        ("proj_size", 0),
    ):
        if getattr(module, setting, wanted) != wanted:
            raise site.unsupported(
                f"{name}({setting}={getattr(module, setting)})",
                f"only {setting}={wanted} is translated",
            )


def _keras_recurrent_layer(module, cell: str, name: str):
    import keras

    common = {
        "use_bias": module.bias,
        "return_sequences": True,
        "return_state": True,
    }
    if cell == "lstm":
        layer = keras.layers.LSTM(module.hidden_size, **common)
    else:
        layer = keras.layers.GRU(
            module.hidden_size, reset_after=True, **common
        )
    if module.bidirectional:
        return keras.layers.Bidirectional(
            layer, merge_mode="concat", name=name
        )
    layer.name = name
    return layer


def recurrent(site, module, x, *states):
    """``nn.LSTM``/``nn.GRU`` (one layer, batch first) -> ``LSTM``/``GRU``, maybe bidirectional.

    Returns what PyTorch returns: the sequence and the final state(s), each
    final state a :class:`Stacked` of one batch-first tensor per direction.
    """
    from torch import nn

    x = as_torch_order(tensor_arg(site, x))
    cell = "lstm" if isinstance(module, nn.LSTM) else "gru"
    _check_recurrent(site, module, states)
    layer = _keras_recurrent_layer(module, cell, site.name)
    outputs = layer(x.tensor)
    cells = (
        [layer.forward_layer.cell, layer.backward_layer.cell]
        if module.bidirectional
        else [layer.cell]
    )
    for suffix, keras_cell in zip(("", "_reverse"), cells, strict=False):
        assign_recurrent(keras_cell, module, suffix, cell)
    sequence = KerasValue(outputs[0], identity(3))
    per_state = 2 if cell == "lstm" else 1
    finals = outputs[1:]
    stacks = [
        Stacked([KerasValue(t, identity(2)) for t in finals[k::per_state]])
        for k in range(per_state)
    ]
    if cell == "lstm":
        return sequence, tuple(stacks)
    return sequence, stacks[0]


def assign_recurrent(keras_cell, module, suffix: str, cell: str) -> None:
    """Copy one direction's weights from PyTorch into a Keras cell."""
    w_ih = as_array(getattr(module, f"weight_ih_l0{suffix}"))
    w_hh = as_array(getattr(module, f"weight_hh_l0{suffix}"))
    keras_cell.kernel.assign(reorder_gates(w_ih, cell).T)
    keras_cell.recurrent_kernel.assign(reorder_gates(w_hh, cell).T)
    if not module.bias:
        return
    b_ih = reorder_gates(
        as_array(getattr(module, f"bias_ih_l0{suffix}")), cell
    )
    b_hh = reorder_gates(
        as_array(getattr(module, f"bias_hh_l0{suffix}")), cell
    )
    # An LSTM adds both biases; a reset_after GRU keeps them apart, one row each.
    keras_cell.bias.assign(
        b_ih + b_hh if cell == "lstm" else np.stack([b_ih, b_hh])
    )


def _check_attention(site, module, masked: bool) -> None:
    if not module.batch_first:
        raise site.unsupported(
            "MultiheadAttention(batch_first=False)",
            "only batch_first=True is translated",
        )
    if (
        not module._qkv_same_embed_dim  # kdim or vdim given
        or module.bias_k is not None
        or module.add_zero_attn
    ):
        raise site.unsupported(
            "MultiheadAttention(kdim/vdim, add_bias_kv or add_zero_attn)"
        )
    if masked:
        raise site.unsupported(
            "MultiheadAttention with a mask", "masks are not translated"
        )


def _attention_weights(module) -> list[np.ndarray]:
    """PyTorch's packed projections as Keras's per-head kernels, in Keras's order."""
    embed, heads = module.embed_dim, module.num_heads
    depth = embed // heads
    has_bias = module.in_proj_bias is not None
    w = as_array(module.in_proj_weight)
    weights = []
    for index in range(3):  # query, key, value: (E, E) blocks used as x @ W.T
        block = slice(index * embed, (index + 1) * embed)
        weights.append(w[block].T.reshape(embed, heads, depth))
        if has_bias:
            bias = as_array(module.in_proj_bias)[block]
            weights.append(bias.reshape(heads, depth))
    out_kernel = as_array(module.out_proj.weight).T
    weights.append(out_kernel.reshape(heads, depth, embed))
    if has_bias:
        weights.append(as_array(module.out_proj.bias))
    return weights


def attention(
    site,
    module,
    query,
    key,
    value,
    key_padding_mask=None,
    need_weights=True,
    attn_mask=None,
    average_attn_weights=True,
    is_causal=False,
):
    """``nn.MultiheadAttention`` (batch first) -> ``MultiHeadAttention``."""
    import keras

    masked = key_padding_mask is not None or attn_mask is not None or is_causal
    _check_attention(site, module, masked)
    query, key, value = (
        as_torch_order(tensor_arg(site, t, name))
        for t, name in ((query, "query"), (key, "key"), (value, "value"))
    )
    heads = module.num_heads
    layer = keras.layers.MultiHeadAttention(
        heads,
        module.embed_dim // heads,
        use_bias=module.in_proj_bias is not None,
        name=site.name,
    )
    out, scores = layer(
        query.tensor,
        value.tensor,
        key=key.tensor,
        return_attention_scores=True,
    )
    layer.set_weights(_attention_weights(module))
    if not need_weights:
        return KerasValue(out, identity(3)), Opaque(None)
    if average_attn_weights:
        scores = keras.ops.mean(scores, axis=1)
    return KerasValue(out, identity(3)), KerasValue(
        scores, identity(len(scores.shape))
    )


# --- Activations -----------------------------------------------------------------

#: PyTorch activations whose Keras counterpart is a named activation, no setting.
NAMED_ACTIVATIONS = {
    "SiLU": "silu",
    "Sigmoid": "sigmoid",
    "Tanh": "tanh",
    "Mish": "mish",
    "SELU": "selu",
    "Softsign": "softsign",
    "Hardsigmoid": "hard_sigmoid",
    "Hardswish": "hard_silu",
    "LogSigmoid": "log_sigmoid",
    "Tanhshrink": "tanh_shrink",
}


def _relu(site, x, setting):
    import keras

    return keras.layers.ReLU(name=site.name)(x.tensor)


def _relu6(site, x, setting):
    import keras

    return keras.layers.ReLU(max_value=6.0, name=site.name)(x.tensor)


def _leaky_relu(site, x, setting):
    import keras

    # PyTorch's default slope is 0.01; Keras's layer defaults to 0.3.
    slope = setting("negative_slope", 0.01)
    return keras.layers.LeakyReLU(negative_slope=slope, name=site.name)(
        x.tensor
    )


def _elu(site, x, setting):
    import keras

    alpha = setting("alpha", 1.0)
    return keras.layers.ELU(alpha=alpha, name=site.name)(x.tensor)


def _gelu(site, x, setting):
    import keras

    if setting("approximate", "none") == "tanh":
        return keras.ops.gelu(x.tensor, approximate=True)
    # Activation("gelu") is exact (erf); keras.ops.gelu would approximate.
    return keras.layers.Activation("gelu", name=site.name)(x.tensor)


def _softplus(site, x, setting):
    import keras

    if setting("beta", 1.0) != 1.0:
        raise site.unsupported(
            "Softplus(beta != 1)", "Keras's softplus has no beta"
        )
    return keras.layers.Activation("softplus", name=site.name)(x.tensor)


def _softmax_axis(site, kind, x, setting) -> int:
    dim = setting("dim", None)
    if dim is None:
        raise site.unsupported(f"{kind}(dim=None)", "give the axis explicitly")
    return 1 if x.layout.features is not None else x.layout.keras_axis(dim)


def _softmax(site, x, setting):
    import keras

    axis = _softmax_axis(site, "Softmax", x, setting)
    return keras.layers.Softmax(axis=axis, name=site.name)(x.tensor)


def _log_softmax(site, x, setting):
    import keras

    axis = _softmax_axis(site, "LogSoftmax", x, setting)
    return keras.ops.log_softmax(x.tensor, axis=axis)


SPECIAL_ACTIVATIONS = {
    "ReLU": _relu,
    "ReLU6": _relu6,
    "LeakyReLU": _leaky_relu,
    "ELU": _elu,
    "GELU": _gelu,
    "Softplus": _softplus,
    "Softmax": _softmax,
    "LogSoftmax": _log_softmax,
}

#: Every PyTorch activation the converter translates (module class names).
ACTIVATIONS = (*SPECIAL_ACTIVATIONS, *NAMED_ACTIVATIONS)


def activation_module(site, module, x):
    """An activation module (``nn.ReLU()``, ``nn.GELU("tanh")``...) as a Keras layer."""
    return activation(site, type(module).__name__, module, x)


def activation(site, kind: str, module, x, **options):
    """Elementwise activations keep the layout (they commute with any permutation)."""
    import keras

    x = tensor_arg(site, x)

    def setting(name, default):
        if module is not None:
            return getattr(module, name, default)
        return options.get(name, default)

    if kind in NAMED_ACTIVATIONS:
        layer = keras.layers.Activation(
            NAMED_ACTIVATIONS[kind], name=site.name
        )
        return same_layout(x, layer(x.tensor))
    if kind in SPECIAL_ACTIVATIONS:
        return same_layout(x, SPECIAL_ACTIVATIONS[kind](site, x, setting))
    raise site.unsupported(kind, "no Keras translation for this activation")
