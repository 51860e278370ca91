"""Recurrent weights: which mapping of PyTorch's LSTM and GRU weights reproduces its outputs.

PyTorch stacks the gates of ``weight_ih``, ``weight_hh`` and each bias
along the first axis, (i, f, g, o) for an LSTM and (r, z, n) for a GRU,
and keeps two biases. Keras stacks them along the last axis of its
kernels, (i, f, c, o) and (z, r, h), and keeps one LSTM bias and, for a
GRU with ``reset_after=True``, a ``(2, 3H)`` bias.

>>> from companion.porting.pitfalls.recurrent import recurrent_ports
>>> ports = recurrent_ports()
>>> ports["GRU, PyTorch's gate order"].naive > 0.1 > 1e-5 > ports["GRU, PyTorch's gate order"].fixed
True
"""

from __future__ import annotations

import numpy as np

from companion.porting.pitfalls import Measured
from companion.porting.tolerance import relative_difference


def _torch_recurrent(cell: str, seed: int = 0):
    import torch
    from torch import nn

    torch.manual_seed(seed)
    module = (nn.LSTM if cell == "lstm" else nn.GRU)(4, 3, batch_first=True)
    module.eval()
    x = np.random.default_rng(seed).normal(size=(2, 5, 4)).astype(np.float32)
    with torch.no_grad():
        out = module(torch.from_numpy(x))[0].numpy()
    return module, x, out


def _keras_output(cell, module, x, order, biases="both", reset_after=True):
    """Keras's output with ``module``'s weights, gates taken in ``order``."""
    import keras

    if cell == "lstm":
        layer = keras.layers.LSTM(3, return_sequences=True)
    else:
        layer = keras.layers.GRU(
            3, return_sequences=True, reset_after=reset_after
        )
    layer.build(x.shape)

    def gates(array):
        parts = np.split(array, len(order), axis=0)
        return np.concatenate([parts[i] for i in order], axis=0)

    w_ih, w_hh, b_ih, b_hh = (
        getattr(module, name).detach().numpy()
        for name in (
            "weight_ih_l0",
            "weight_hh_l0",
            "bias_ih_l0",
            "bias_hh_l0",
        )
    )
    layer.cell.kernel.assign(gates(w_ih).T)
    layer.cell.recurrent_kernel.assign(gates(w_hh).T)
    if cell == "lstm":
        extra = gates(b_hh) if biases == "both" else 0
        layer.cell.bias.assign(gates(b_ih) + extra)
    elif reset_after:
        layer.cell.bias.assign(np.stack([gates(b_ih), gates(b_hh)]))
    else:  # one bias row: the best a reset_before GRU can hold
        layer.cell.bias.assign(gates(b_ih) + gates(b_hh))
    return np.asarray(layer(x))


def recurrent_ports() -> dict[str, Measured]:
    """Naive and right weight mappings for an LSTM and a GRU (4 inputs, 3 units)."""
    lstm, x, out = _torch_recurrent("lstm")
    gru, gx, gout = _torch_recurrent("gru")
    right_lstm = _keras_output("lstm", lstm, x, (0, 1, 2, 3))
    right_gru = _keras_output("gru", gru, gx, (1, 0, 2))
    fixed_lstm = relative_difference(out, right_lstm)
    fixed_gru = relative_difference(gout, right_gru)
    naive = {
        "LSTM, b_hh left out": (
            out,
            _keras_output("lstm", lstm, x, (0, 1, 2, 3), "ih"),
            fixed_lstm,
        ),
        "LSTM, gates f and g swapped": (
            out,
            _keras_output("lstm", lstm, x, (0, 2, 1, 3)),
            fixed_lstm,
        ),
        "GRU, PyTorch's gate order": (
            gout,
            _keras_output("gru", gru, gx, (0, 1, 2)),
            fixed_gru,
        ),
        "GRU, reset_after=False": (
            gout,
            _keras_output("gru", gru, gx, (1, 0, 2), reset_after=False),
            fixed_gru,
        ),
    }
    return {
        name: Measured(
            name, naive=relative_difference(expected, got), fixed=fixed
        )
        for name, (expected, got, fixed) in naive.items()
    }


def recurrent_shapes() -> dict:
    """Weight shapes and parameter counts of one LSTM and one GRU in each framework."""
    import keras
    from torch import nn

    result = {}
    for name, torch_type, keras_type in (
        ("LSTM", nn.LSTM, keras.layers.LSTM),
        ("GRU", nn.GRU, keras.layers.GRU),
    ):
        module = torch_type(4, 3, batch_first=True)
        layer = keras_type(3)
        layer.build((None, 5, 4))
        result[name] = {
            "PyTorch": {
                n: tuple(p.shape) for n, p in module.named_parameters()
            },
            "Keras": {w.name: tuple(w.shape) for w in layer.weights},
            "parameters": (
                sum(p.numel() for p in module.parameters()),
                layer.count_params(),
            ),
        }
    return result
