"""Keras's recurrent layers and attention as PyTorch modules.

Keras's LSTM has one bias, PyTorch's two that it adds: the Keras bias goes
into ``bias_ih`` and ``bias_hh`` is zero. A Keras GRU with
``reset_after=True`` (Keras 3's default) keeps its input and recurrent
biases as the two rows of a ``(2, 3H)`` bias, which are PyTorch's two; its
gates (z, r, h) become PyTorch's (r, z, n). ``reset_after=False`` applies
the reset gate before the recurrent product, a formula PyTorch's GRU does
not have, and is refused.
"""

from __future__ import annotations

import inspect
import operator

import numpy as np

from companion.porting.layout import identity, reorder_gates
from companion.porting.to_torch.values import (
    as_array,
    as_keras_order,
    assign,
    tensor_arg,
)


def _recurrent_kind(layer) -> str:
    import keras

    if isinstance(layer, keras.layers.LSTM):
        return "lstm"
    if isinstance(layer, keras.layers.GRU):
        return "gru"
    return ""


def _check_recurrent(site, layer, kind: str) -> None:
    name = type(layer).__name__
    activation = layer.activation.__name__
    recurrent_activation = layer.recurrent_activation.__name__
    if activation != "tanh" or recurrent_activation != "sigmoid":
        raise site.unsupported(
            f"{name}(activation={activation}, "
            f"recurrent_activation={recurrent_activation})",
            "PyTorch's cells use tanh and sigmoid",
        )
    if layer.go_backwards or layer.stateful:
        raise site.unsupported(f"{name}(go_backwards or stateful)")
    if kind == "gru" and not layer.reset_after:
        raise site.unsupported(
            "GRU(reset_after=False)",
            "PyTorch's GRU applies the reset gate after the recurrent "
            "product (reset_after=True)",
        )


def recurrent_weights(layer, kind: str, suffix: str) -> dict:
    """PyTorch's parameter arrays for one direction of a Keras LSTM or GRU."""
    cell = layer.cell
    arrays = {
        f"weight_ih_l0{suffix}": reorder_gates(as_array(cell.kernel).T, kind),
        f"weight_hh_l0{suffix}": reorder_gates(
            as_array(cell.recurrent_kernel).T, kind
        ),
    }
    if not layer.use_bias:
        return arrays
    bias = as_array(cell.bias)
    if kind == "lstm":  # one bias: all of it in b_ih, none in b_hh
        arrays[f"bias_ih_l0{suffix}"] = bias
        arrays[f"bias_hh_l0{suffix}"] = np.zeros_like(bias)
    else:  # reset_after GRU: row 0 the input bias, row 1 the recurrent one
        arrays[f"bias_ih_l0{suffix}"] = reorder_gates(bias[0], kind)
        arrays[f"bias_hh_l0{suffix}"] = reorder_gates(bias[1], kind)
    return arrays


def _recurrent_module(site, layers, kind: str, x, bidirectional: bool):
    """Add one ``nn.LSTM``/``nn.GRU``; the sequence and each direction's final states."""
    from torch import nn

    first = layers[0]
    module_type = nn.LSTM if kind == "lstm" else nn.GRU
    module = module_type(
        int(x.example.shape[-1]),
        first.units,
        batch_first=True,
        bias=first.use_bias,
        bidirectional=bidirectional,
    )
    arrays = {}
    for layer, suffix in zip(layers, ("", "_reverse"), strict=False):
        arrays.update(recurrent_weights(layer, kind, suffix))
    assign(module, **arrays)
    out = site.module(module, x)

    def item(value, index, rank):
        return site.function(
            operator.getitem, value, index, layout=identity(rank)
        )

    sequence, states = item(out, 0, 3), item(out, 1, 3)
    finals = (
        [item(states, 0, 3), item(states, 1, 3)]
        if kind == "lstm"
        else [states]
    )
    directions = 2 if bidirectional else 1
    per_direction = [
        [item(f, d, 2) for f in finals] for d in range(directions)
    ]
    return sequence, per_direction


def recurrent(site, layer, x, mask=None, initial_state=None, training=None):
    """``LSTM``/``GRU`` -> ``nn.LSTM``/``nn.GRU``, batch first."""
    x = tensor_arg(site, x)
    kind = _recurrent_kind(layer)
    if mask is not None or initial_state is not None:
        raise site.unsupported(
            f"{type(layer).__name__} with a mask or initial state"
        )
    _check_recurrent(site, layer, kind)
    x = as_keras_order(site, x)
    sequence, (states,) = _recurrent_module(site, [layer], kind, x, False)
    main = sequence if layer.return_sequences else states[0]
    return [main, *states] if layer.return_state else main


def _check_bidirectional(site, layer, kind, mask, initial_state) -> None:
    forward, backward = layer.forward_layer, layer.backward_layer
    if (
        not kind
        or _recurrent_kind(backward) != kind
        or layer.merge_mode != "concat"
    ):
        raise site.unsupported(
            f"Bidirectional({type(forward).__name__}, "
            f"merge_mode={layer.merge_mode!r})",
            "only LSTM or GRU with merge_mode='concat'",
        )
    if mask is not None or initial_state is not None:
        raise site.unsupported("Bidirectional with a mask or initial state")
    _check_recurrent(site, forward, kind)
    if (
        backward.units != forward.units
        or backward.use_bias != forward.use_bias
    ):
        raise site.unsupported(
            "Bidirectional with different forward and backward layers"
        )


def bidirectional(
    site, layer, x, mask=None, initial_state=None, training=None
):
    """``Bidirectional(LSTM | GRU)`` -> one ``nn.LSTM``/``nn.GRU(bidirectional=True)``."""
    import torch

    x = tensor_arg(site, x)
    forward, backward = layer.forward_layer, layer.backward_layer
    kind = _recurrent_kind(forward)
    _check_bidirectional(site, layer, kind, mask, initial_state)
    x = as_keras_order(site, x)
    sequence, (ahead, behind) = _recurrent_module(
        site, [forward, backward], kind, x, True
    )
    if layer.return_sequences:
        main = sequence
    else:  # the backward direction's final state is its output at t = 0
        main = site.function(
            torch.cat, [ahead[0], behind[0]], dim=1, layout=identity(2)
        )
    return [main, *ahead, *behind] if layer.return_state else main


def _check_attention(site, layer, bound) -> None:
    masks = ("query_mask", "value_mask", "key_mask", "attention_mask")
    if any(bound.get(k) is not None for k in masks) or bound.get(
        "use_causal_mask"
    ):
        raise site.unsupported(
            "MultiHeadAttention with a mask", "masks are not translated"
        )
    if layer.attention_axes not in (None, (1,), [1]):
        raise site.unsupported(
            f"MultiHeadAttention(attention_axes={layer.attention_axes})"
        )


def _attention_module(site, layer, weights, key, value):
    """``nn.MultiheadAttention`` holding the Keras layer's projections."""
    from torch import nn

    embed, heads, depth = weights[0].shape
    bias = layer.use_bias
    fits = (
        heads * depth == embed
        and (layer.value_dim or depth) == depth
        and all(int(t.example.shape[-1]) == embed for t in (key, value))
        and weights[-2 if bias else -1].shape[-1] == embed
    )
    if not fits:
        raise site.unsupported(
            f"MultiHeadAttention(num_heads={heads}, key_dim={depth}) "
            f"on width {embed}",
            "PyTorch's MultiheadAttention needs num_heads * key_dim == "
            "the width of query, key and value",
        )
    step = 2 if bias else 1
    kernels = [w.reshape(embed, embed).T for w in weights[0:6:step]]
    module = nn.MultiheadAttention(embed, heads, bias=bias, batch_first=True)
    arrays = {"in_proj_weight": np.concatenate(kernels)}
    if bias:
        biases = [b.reshape(-1) for b in weights[1:6:2]]
        arrays["in_proj_bias"] = np.concatenate(biases)
    assign(module, **arrays)
    out_kernel = weights[6 if bias else 3].reshape(embed, embed).T
    out_bias = {"bias": weights[7]} if bias else {}
    assign(module.out_proj, weight=out_kernel, **out_bias)
    return module


def attention(site, layer, *args, **kwargs):
    """``MultiHeadAttention`` -> ``nn.MultiheadAttention`` (batch first)."""
    bound = inspect.signature(layer.call).bind(*args, **kwargs).arguments
    _check_attention(site, layer, bound)
    query = as_keras_order(site, tensor_arg(site, bound["query"], "query"))
    value = as_keras_order(site, tensor_arg(site, bound["value"], "value"))
    key = bound.get("key")
    key = (
        value
        if key is None
        else as_keras_order(site, tensor_arg(site, key, "key"))
    )
    module = _attention_module(site, layer, layer.get_weights(), key, value)
    scores = bool(bound.get("return_attention_scores"))
    out = site.module(
        module,
        query,
        key,
        value,
        need_weights=scores,
        average_attn_weights=False,
    )
    result = site.function(operator.getitem, out, 0, layout=identity(3))
    if not scores:
        return result
    weights = site.function(operator.getitem, out, 1, layout=identity(4))
    return [result, weights]
