"""The digits CNN's weights as NumPy arrays, in either framework's layout.

The scaling chapter starts every run, in every process and in both
frameworks, from one set of initial weights. They travel as a dict of NumPy
arrays named and shaped as PyTorch's ``state_dict`` of
:func:`companion.cnn.build_torch_cnn` holds them (``"0.weight"``,
``"0.bias"``, ...), saved with :func:`numpy.savez`. :func:`keras_arrays`
turns them into the list ``keras_model.set_weights`` takes, and
:func:`torch_layout` turns a Keras model's weights back, so that weights
from both frameworks can be compared element by element. The three layout
changes are those of the exercise chapter: convolution kernels OIHW to
HWIO, dense kernels transposed, and the first dense layer's rows
reordered from PyTorch's (channel, row, column) flatten order to Keras's
(row, column, channel).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> arrays = {name: rng.normal(size=shape).astype("float32")
...           for name, shape in TORCH_SHAPES.items()}
>>> [w.shape for w in keras_arrays(arrays)][:3]
[(3, 3, 1, 8), (8,), (3, 3, 8, 16)]
>>> back = torch_layout(keras_arrays(arrays))
>>> max_abs_difference(arrays, back)
0.0
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from companion.cnn import CNNConfig
from companion.validation import check_instance

_CONFIG = CNNConfig()

#: Parameter names and shapes of ``build_torch_cnn().state_dict()``.
TORCH_SHAPES = {
    "0.weight": (8, 1, 3, 3),
    "0.bias": (8,),
    "3.weight": (16, 8, 3, 3),
    "3.bias": (16,),
    "7.weight": (32, _CONFIG.flat_features),
    "7.bias": (32,),
    "9.weight": (10, 32),
    "9.bias": (10,),
}
_POOLED = _CONFIG.pooled_size
_CHANNELS = _CONFIG.conv_channels[1]


def _check_arrays(arrays) -> dict[str, np.ndarray]:
    check_instance("arrays", arrays, dict, what="a dict of arrays")
    missing = sorted(set(TORCH_SHAPES) - set(arrays))
    if missing:
        raise ValueError(f"arrays lacks the parameters {missing}")
    for name, shape in TORCH_SHAPES.items():
        if tuple(np.shape(arrays[name])) != shape:
            raise ValueError(
                f"arrays[{name!r}] must have shape {shape}, "
                f"got {tuple(np.shape(arrays[name]))}"
            )
    return {name: np.asarray(arrays[name]) for name in TORCH_SHAPES}


def keras_arrays(arrays: dict[str, np.ndarray]) -> list[np.ndarray]:
    """PyTorch-layout ``arrays`` as the list ``keras_model.set_weights`` takes."""
    arrays = _check_arrays(arrays)
    hidden = arrays["7.weight"].reshape(-1, _CHANNELS, _POOLED, _POOLED)
    hidden = hidden.transpose(0, 2, 3, 1).reshape(len(hidden), -1)
    return [
        np.ascontiguousarray(w, dtype=np.float32)
        for w in (
            arrays["0.weight"].transpose(2, 3, 1, 0),
            arrays["0.bias"],
            arrays["3.weight"].transpose(2, 3, 1, 0),
            arrays["3.bias"],
            hidden.T,
            arrays["7.bias"],
            arrays["9.weight"].T,
            arrays["9.bias"],
        )
    ]


def torch_layout(weights: list) -> dict[str, np.ndarray]:
    """A Keras CNN's ``get_weights()`` (or its variables) in PyTorch's names and layout."""
    if isinstance(weights, dict) or len(weights) != len(TORCH_SHAPES):
        raise ValueError(
            f"weights must be the {len(TORCH_SHAPES)} arrays of the Keras CNN, "
            "in order"
        )
    w = [np.asarray(v, dtype=np.float32) for v in weights]
    hidden = w[4].T.reshape(-1, _POOLED, _POOLED, _CHANNELS)
    hidden = hidden.transpose(0, 3, 1, 2).reshape(len(hidden), -1)
    layout = (
        w[0].transpose(3, 2, 0, 1),
        w[1],
        w[2].transpose(3, 2, 0, 1),
        w[3],
        hidden,
        w[5],
        w[6].T,
        w[7],
    )
    return {
        name: np.ascontiguousarray(array)
        for name, array in zip(TORCH_SHAPES, layout, strict=True)
    }


def torch_arrays(model) -> dict[str, np.ndarray]:
    """A PyTorch CNN's parameters as NumPy arrays (copies), by ``state_dict`` name."""
    return {
        name: value.detach().cpu().numpy().copy()
        for name, value in model.state_dict().items()
    }


def load_into_torch(model, arrays: dict[str, np.ndarray]) -> None:
    """Copy PyTorch-layout ``arrays`` into ``model`` (a ``build_torch_cnn`` model)."""
    import torch

    arrays = _check_arrays(arrays)
    model.load_state_dict(
        {
            name: torch.from_numpy(value.copy())
            for name, value in arrays.items()
        }
    )


def max_abs_difference(first: dict, second: dict) -> float:
    """The largest element-wise ``|first - second|`` over all parameters.

    >>> max_abs_difference({"a": np.ones(2)}, {"a": np.zeros(2)})
    1.0
    """
    if set(first) != set(second):
        raise ValueError(
            f"the two sets of weights name different parameters: "
            f"{sorted(set(first) ^ set(second))}"
        )
    return max(
        float(np.max(np.abs(np.asarray(first[k]) - np.asarray(second[k]))))
        for k in first
    )


def save_arrays(path, arrays: dict[str, np.ndarray]) -> Path:
    """Write ``arrays`` to ``path`` (``.npz``) atomically; return the path."""
    path = Path(path)
    partial = path.with_name(path.name + ".partial.npz")
    np.savez(partial, **arrays)
    partial.replace(path)
    return path


def load_arrays(path) -> dict[str, np.ndarray]:
    """The arrays :func:`save_arrays` wrote."""
    with np.load(Path(path)) as data:
        return {name: data[name] for name in data.files}
