"""Weights as dictionaries of NumPy arrays, in the PyTorch or the Keras layout, and the conversion."""

from __future__ import annotations

import math

import numpy as np

from companion.frameworks import KERAS, PYTORCH
from companion.validation import (
    check_choice,
    check_instance,
    check_int,
    check_keys,
)

LAYERS = ("conv1", "conv2", "dense1", "dense2")
CONV_LAYERS = LAYERS[:2]
DENSE_LAYERS = LAYERS[2:]
LAYOUTS = (PYTORCH, KERAS)
#: The name of each layer's kernel in each layout (biases are ``<layer>.bias`` in both).
KERNEL_NAME = {PYTORCH: "weight", KERAS: "kernel"}
#: Written into every weights file, so a file from elsewhere is refused, not misread.
ARCHITECTURE = "companion.cnn digits CNN"


def parameter_names(layout: str) -> tuple[str, ...]:
    """The keys of a weights dictionary in ``layout``.

    >>> parameter_names("keras")[:2]
    ('conv1.kernel', 'conv1.bias')
    """
    check_layout(layout)
    return tuple(
        f"{layer}.{part}"
        for layer in LAYERS
        for part in (KERNEL_NAME[layout], "bias")
    )


def check_layout(layout) -> str:
    """Return ``layout`` if it is one of :data:`LAYOUTS`."""
    return check_choice("layout", layout, LAYOUTS)


def flatten_permutation(channels: int, height: int, width: int) -> np.ndarray:
    """Indices ``perm`` with ``keras_features[k] == torch_features[perm[k]]``.

    PyTorch numbers the flattened features ``c * H * W + h * W + w``; Keras
    numbers them ``h * W * C + w * C + c``.
    """
    for name, value in (
        ("channels", channels),
        ("height", height),
        ("width", width),
    ):
        check_int(name, value, minimum=1)
    torch_index = np.arange(channels * height * width).reshape(
        channels, height, width
    )
    return torch_index.transpose(1, 2, 0).reshape(-1)


def check_arrays(arrays, layout: str) -> dict[str, np.ndarray]:
    """Validate a weights dictionary in ``layout``; return it with float32 NumPy arrays."""
    check_layout(layout)
    check_keys(
        f"weights in the {layout} layout", arrays, parameter_names(layout)
    )
    checked = {}
    for name in parameter_names(layout):
        value = arrays[name]
        check_instance(name, value, np.ndarray, what="a numpy array")
        if not np.issubdtype(value.dtype, np.floating):
            raise TypeError(
                f"{name} must hold floating-point numbers, got {value.dtype}"
            )
        checked[name] = value.astype(np.float32, copy=False)
    kernel = KERNEL_NAME[layout]
    wanted_ndim = {"conv1": 4, "conv2": 4, "dense1": 2, "dense2": 2}
    for layer, ndim in wanted_ndim.items():
        shape = checked[f"{layer}.{kernel}"].shape
        if len(shape) != ndim:
            raise ValueError(
                f"{layer}.{kernel} must have {ndim} dimensions, got shape {shape}"
            )
        out_axis = 0 if layout == "pytorch" else -1
        bias = checked[f"{layer}.bias"].shape
        if bias != (shape[out_axis],):
            raise ValueError(
                f"{layer}.bias has shape {bias}, but {layer}.{kernel} {shape} "
                f"has {shape[out_axis]} outputs"
            )
    return checked


def _flatten_geometry(channels: int, features: int) -> tuple[int, int, int]:
    """``(C, H, W)`` of the last feature map, from its channels and the flattened size."""
    side = math.isqrt(features // channels) if features % channels == 0 else 0
    if side * side * channels != features:
        raise ValueError(
            f"dense1 takes {features} inputs, which is not {channels} channels "
            "times a square feature map"
        )
    return channels, side, side


def _other(layout: str) -> str:
    return "keras" if layout == "pytorch" else "pytorch"


def _dense_in_out(arrays, layer: str, layout: str) -> np.ndarray:
    """A dense layer's kernel as ``(in, out)``, whatever ``layout`` stores."""
    kernel = arrays[f"{layer}.{KERNEL_NAME[layout]}"]
    return kernel.T if layout == "pytorch" else kernel


def _convert(
    arrays, to: str, *, reorder_flatten: bool
) -> dict[str, np.ndarray]:
    """Weights in the other layout converted to ``to``; see the package docstring."""
    source = _other(to)
    arrays = check_arrays(arrays, source)
    kernel = KERNEL_NAME[to]
    # OIHW -> HWIO, or back.
    axes = (2, 3, 1, 0) if to == "keras" else (3, 2, 0, 1)
    result = {
        f"{layer}.{kernel}": arrays[
            f"{layer}.{KERNEL_NAME[source]}"
        ].transpose(axes)
        for layer in CONV_LAYERS
    }
    dense = {
        layer: _dense_in_out(arrays, layer, source) for layer in DENSE_LAYERS
    }
    if reorder_flatten:
        # dense1's rows follow the flatten order of ``source``: (C, H, W)
        # for PyTorch, (H, W, C) for Keras.
        channels = result[f"conv2.{kernel}"].shape[
            0 if to == "pytorch" else -1
        ]
        order = flatten_permutation(
            *_flatten_geometry(channels, dense["dense1"].shape[0])
        )
        dense["dense1"] = dense["dense1"][
            order if to == "keras" else np.argsort(order)
        ]
    for layer, in_out in dense.items():
        result[f"{layer}.{kernel}"] = in_out if to == "keras" else in_out.T
    for layer in LAYERS:
        result[f"{layer}.bias"] = arrays[f"{layer}.bias"]
    return {
        name: np.ascontiguousarray(result[name])
        for name in parameter_names(to)
    }


def torch_to_keras_arrays(
    arrays, *, reorder_flatten: bool = True
) -> dict[str, np.ndarray]:
    """Convert weights from the PyTorch layout to the Keras layout.

    With ``reorder_flatten=False`` the first dense layer is only transposed,
    not permuted: shapes still fit, the function computed does not (shown in
    the exercise chapter as the classic porting bug).
    """
    return _convert(arrays, "keras", reorder_flatten=reorder_flatten)


def keras_to_torch_arrays(
    arrays, *, reorder_flatten: bool = True
) -> dict[str, np.ndarray]:
    """Convert weights from the Keras layout to the PyTorch layout (inverse of the above)."""
    return _convert(arrays, "pytorch", reorder_flatten=reorder_flatten)


def convert_arrays(
    arrays, to: str, *, reorder_flatten: bool = True
) -> dict[str, np.ndarray]:
    """Convert weights to the layout ``to`` from the other one."""
    check_layout(to)
    convert = torch_to_keras_arrays if to == "keras" else keras_to_torch_arrays
    return convert(arrays, reorder_flatten=reorder_flatten)


def max_abs_differences(first, second) -> dict[str, float]:
    """``max |first[k] - second[k]|`` for every key; both dicts must have the same keys/shapes.

    >>> max_abs_differences({"w": np.ones(2)}, {"w": np.array([1.0, 1.5])})
    {'w': 0.5}
    """
    if not isinstance(first, dict) or not isinstance(second, dict):
        raise TypeError("both arguments must be dicts of arrays")
    if set(first) != set(second):
        raise ValueError(
            f"the dicts hold different keys: {sorted(set(first) ^ set(second))}"
        )
    result = {}
    for name in first:
        a, b = np.asarray(first[name]), np.asarray(second[name])
        if a.shape != b.shape:
            raise ValueError(f"{name}: shapes differ, {a.shape} and {b.shape}")
        result[name] = float(
            np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)))
        )
    return result
