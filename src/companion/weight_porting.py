"""Move the digits CNN's weights between PyTorch and Keras, through safetensors files.

The two definitions in :mod:`companion.cnn` compute the same function, but
they store their weights in different layouts. Three things change on the
way from PyTorch to Keras (and back, in reverse):

* **Convolution kernels.** PyTorch keeps ``(out, in, height, width)``
  (OIHW); Keras keeps ``(height, width, in, out)`` (HWIO). A transpose.
* **Dense kernels.** ``torch.nn.Linear.weight`` is ``(out, in)`` and is
  applied as ``x @ W.T``; ``keras.layers.Dense.kernel`` is ``(in, out)`` and
  is applied as ``x @ W``. A transpose.
* **Flatten order.** PyTorch flattens the last feature map ``(C, H, W)``
  channel by channel; Keras flattens ``(H, W, C)`` pixel by pixel. The first
  dense layer after the flatten therefore sees the same numbers in another
  order, and its rows must be permuted. Skip this step and every shape still
  matches, but the logits are wrong.

Biases need no change. Weights are handled as plain dictionaries of NumPy
arrays under layout-independent names (``conv1``, ``conv2``, ``dense1``,
``dense2``), in either the ``"pytorch"`` or the ``"keras"`` layout, and are
written to safetensors files that record their layout in the metadata.

>>> perm = flatten_permutation(channels=2, height=1, width=2)
>>> perm.tolist()  # Keras position k holds PyTorch feature perm[k]
[0, 2, 1, 3]
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> arrays = {
...     "conv1.weight": rng.normal(size=(8, 1, 3, 3)), "conv1.bias": rng.normal(size=8),
...     "conv2.weight": rng.normal(size=(16, 8, 3, 3)), "conv2.bias": rng.normal(size=16),
...     "dense1.weight": rng.normal(size=(32, 64)), "dense1.bias": rng.normal(size=32),
...     "dense2.weight": rng.normal(size=(10, 32)), "dense2.bias": rng.normal(size=10),
... }
>>> arrays = {name: value.astype(np.float32) for name, value in arrays.items()}
>>> keras_arrays = torch_to_keras_arrays(arrays)
>>> keras_arrays["conv1.kernel"].shape, keras_arrays["dense1.kernel"].shape
((3, 3, 1, 8), (64, 32))
>>> back = keras_to_torch_arrays(keras_arrays)
>>> all(np.array_equal(back[name], arrays[name]) for name in arrays)
True
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from companion.validation import check_int

LAYERS = ("conv1", "conv2", "dense1", "dense2")
CONV_LAYERS = LAYERS[:2]
LAYOUTS = ("pytorch", "keras")
#: The name of each layer's kernel in each layout (biases are ``<layer>.bias`` in both).
KERNEL_NAME = {"pytorch": "weight", "keras": "kernel"}
#: Written into every weights file, so a file from elsewhere is refused, not misread.
ARCHITECTURE = "companion.cnn digits CNN"


def parameter_names(layout: str) -> tuple[str, ...]:
    """The keys of a weights dictionary in ``layout``.

    >>> parameter_names("keras")[:2]
    ('conv1.kernel', 'conv1.bias')
    """
    _check_layout(layout)
    return tuple(
        f"{layer}.{part}"
        for layer in LAYERS
        for part in (KERNEL_NAME[layout], "bias")
    )


def _check_layout(layout) -> str:
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    return layout


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
    _check_layout(layout)
    if not isinstance(arrays, dict):
        raise TypeError(
            f"weights must be a dict of arrays, got {type(arrays).__name__}"
        )
    expected = set(parameter_names(layout))
    if set(arrays) != expected:
        missing = sorted(expected - set(arrays))
        unexpected = sorted(set(arrays) - expected)
        raise ValueError(
            f"weights in the {layout} layout need exactly the keys {sorted(expected)}; "
            f"missing {missing}, unexpected {unexpected}"
        )
    checked = {}
    for name in parameter_names(layout):
        value = arrays[name]
        if not isinstance(value, np.ndarray):
            raise TypeError(
                f"{name} must be a numpy array, got {type(value).__name__}"
            )
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


def torch_to_keras_arrays(
    arrays, *, reorder_flatten: bool = True
) -> dict[str, np.ndarray]:
    """Convert weights from the PyTorch layout to the Keras layout.

    With ``reorder_flatten=False`` the first dense layer is only transposed,
    not permuted: shapes still fit, the function computed does not (shown in
    the exercise chapter as the classic porting bug).
    """
    arrays = check_arrays(arrays, "pytorch")
    result = {}
    for layer in CONV_LAYERS:
        result[f"{layer}.kernel"] = arrays[f"{layer}.weight"].transpose(
            2, 3, 1, 0
        )
    dense1 = arrays[
        "dense1.weight"
    ].T  # (in, out), rows in PyTorch's (C, H, W) order
    if reorder_flatten:
        geometry = _flatten_geometry(
            arrays["conv2.weight"].shape[0], dense1.shape[0]
        )
        dense1 = dense1[flatten_permutation(*geometry)]
    result["dense1.kernel"] = dense1
    result["dense2.kernel"] = arrays["dense2.weight"].T
    for layer in LAYERS:
        result[f"{layer}.bias"] = arrays[f"{layer}.bias"]
    return {
        name: np.ascontiguousarray(result[name])
        for name in parameter_names("keras")
    }


def keras_to_torch_arrays(
    arrays, *, reorder_flatten: bool = True
) -> dict[str, np.ndarray]:
    """Convert weights from the Keras layout to the PyTorch layout (inverse of the above)."""
    arrays = check_arrays(arrays, "keras")
    result = {}
    for layer in CONV_LAYERS:
        result[f"{layer}.weight"] = arrays[f"{layer}.kernel"].transpose(
            3, 2, 0, 1
        )
    dense1 = arrays[
        "dense1.kernel"
    ]  # (in, out), rows in Keras's (H, W, C) order
    if reorder_flatten:
        geometry = _flatten_geometry(
            arrays["conv2.kernel"].shape[-1], dense1.shape[0]
        )
        dense1 = dense1[np.argsort(flatten_permutation(*geometry))]
    result["dense1.weight"] = dense1.T
    result["dense2.weight"] = arrays["dense2.kernel"].T
    for layer in LAYERS:
        result[f"{layer}.bias"] = arrays[f"{layer}.bias"]
    return {
        name: np.ascontiguousarray(result[name])
        for name in parameter_names("pytorch")
    }


def convert_arrays(
    arrays, to: str, *, reorder_flatten: bool = True
) -> dict[str, np.ndarray]:
    """Convert weights to the layout ``to`` from the other one."""
    _check_layout(to)
    convert = torch_to_keras_arrays if to == "keras" else keras_to_torch_arrays
    return convert(arrays, reorder_flatten=reorder_flatten)


# --- Models ----------------------------------------------------------------------


def _torch_layers(model):
    """The Conv2d and Linear modules of a PyTorch model, in definition order, by name."""
    from torch import nn

    if not isinstance(model, nn.Module):
        raise TypeError(
            f"model must be a torch.nn.Module, got {type(model).__name__}"
        )
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    denses = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if len(convs) != 2 or len(denses) != 2:
        raise ValueError(
            "expected the digits CNN (2 Conv2d and 2 Linear layers), "
            f"got {len(convs)} Conv2d and {len(denses)} Linear"
        )
    return dict(zip(LAYERS, [*convs, *denses], strict=True))


def _walk_keras_layers(model):
    """Every layer inside a Keras model, depth first, in definition order."""
    for layer in getattr(model, "layers", ()):
        yield layer
        yield from _walk_keras_layers(layer)


def _keras_layers(model):
    """The Conv2D and Dense layers of a Keras model, in definition order, by name."""
    import keras

    if not isinstance(model, keras.Model):
        raise TypeError(
            f"model must be a keras.Model, got {type(model).__name__}"
        )
    layers = list(_walk_keras_layers(model))
    convs = [
        layer for layer in layers if isinstance(layer, keras.layers.Conv2D)
    ]
    denses = [
        layer for layer in layers if isinstance(layer, keras.layers.Dense)
    ]
    if len(convs) != 2 or len(denses) != 2:
        raise ValueError(
            "expected the digits CNN (2 Conv2D and 2 Dense layers), "
            f"got {len(convs)} Conv2D and {len(denses)} Dense"
        )
    if not all(layer.built for layer in (*convs, *denses)):
        raise ValueError(
            "the Keras model has no weights yet: give it an Input or call it once"
        )
    return dict(zip(LAYERS, [*convs, *denses], strict=True))


def torch_model_arrays(model) -> dict[str, np.ndarray]:
    """A PyTorch digits CNN's weights as a dictionary in the ``"pytorch"`` layout (copies)."""
    layers = _torch_layers(model)
    arrays = {}
    for name, module in layers.items():
        arrays[f"{name}.weight"] = module.weight.detach().cpu().numpy().copy()
        arrays[f"{name}.bias"] = module.bias.detach().cpu().numpy().copy()
    return arrays


def keras_model_arrays(model) -> dict[str, np.ndarray]:
    """A Keras digits CNN's weights as a dictionary in the ``"keras"`` layout (copies)."""
    import keras

    arrays = {}
    for name, layer in _keras_layers(model).items():
        arrays[f"{name}.kernel"] = np.array(
            keras.ops.convert_to_numpy(layer.kernel)
        )
        arrays[f"{name}.bias"] = np.array(
            keras.ops.convert_to_numpy(layer.bias)
        )
    return arrays


def _check_shapes(arrays: dict, current: dict, framework: str) -> None:
    for name, value in arrays.items():
        if value.shape != current[name].shape:
            raise ValueError(
                f"{name} has shape {value.shape}, but the {framework} model expects "
                f"{current[name].shape}: the architectures differ"
            )


def load_torch_arrays(model, arrays) -> None:
    """Copy weights in the ``"pytorch"`` layout into a PyTorch digits CNN, in place."""
    import torch

    arrays = check_arrays(arrays, "pytorch")
    layers = _torch_layers(model)
    _check_shapes(arrays, torch_model_arrays(model), "PyTorch")
    with torch.no_grad():
        for name, module in layers.items():
            module.weight.copy_(torch.from_numpy(arrays[f"{name}.weight"]))
            module.bias.copy_(torch.from_numpy(arrays[f"{name}.bias"]))


def load_keras_arrays(model, arrays) -> None:
    """Copy weights in the ``"keras"`` layout into a Keras digits CNN, in place."""
    arrays = check_arrays(arrays, "keras")
    layers = _keras_layers(model)
    _check_shapes(arrays, keras_model_arrays(model), "Keras")
    for name, layer in layers.items():
        layer.kernel.assign(arrays[f"{name}.kernel"])
        layer.bias.assign(arrays[f"{name}.bias"])


def port_torch_to_keras(
    torch_model, keras_model, *, reorder_flatten: bool = True
) -> None:
    """Give ``keras_model`` the weights of ``torch_model``."""
    arrays = torch_to_keras_arrays(
        torch_model_arrays(torch_model), reorder_flatten=reorder_flatten
    )
    load_keras_arrays(keras_model, arrays)


def port_keras_to_torch(
    keras_model, torch_model, *, reorder_flatten: bool = True
) -> None:
    """Give ``torch_model`` the weights of ``keras_model``."""
    arrays = keras_to_torch_arrays(
        keras_model_arrays(keras_model), reorder_flatten=reorder_flatten
    )
    load_torch_arrays(torch_model, arrays)


# --- Files -----------------------------------------------------------------------


def save_weights(arrays, path, layout: str) -> Path:
    """Write weights in ``layout`` to a safetensors file whose metadata names the layout."""
    from safetensors.numpy import save_file

    arrays = check_arrays(arrays, layout)
    path = Path(path)
    metadata = {"layout": layout, "architecture": ARCHITECTURE}
    save_file(
        {name: np.ascontiguousarray(a) for name, a in arrays.items()},
        path,
        metadata,
    )
    return path


def read_layout(path) -> str:
    """The layout recorded in a weights file written by :func:`save_weights`."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no weights file at {path}")
    try:
        with safe_open(str(path), framework="numpy") as handle:
            metadata = handle.metadata() or {}
    except (
        Exception
    ) as error:  # safetensors raises its own error types for bad headers
        raise ValueError(
            f"{path} is not a readable safetensors file ({error})"
        ) from error
    if (
        metadata.get("architecture") != ARCHITECTURE
        or metadata.get("layout") not in LAYOUTS
    ):
        raise ValueError(
            f"{path} was not written by companion.weight_porting "
            f"(metadata {metadata}); expected a layout of {LAYOUTS}"
        )
    return metadata["layout"]


def load_weights(
    path, layout: str | None = None
) -> tuple[dict[str, np.ndarray], str]:
    """Read a weights file; return ``(arrays, layout)``. With ``layout``, insist on it."""
    from safetensors.numpy import load_file

    found = read_layout(path)
    if layout is not None and _check_layout(layout) != found:
        raise ValueError(
            f"{path} holds weights in the {found} layout, expected {layout}"
        )
    arrays = dict(load_file(str(path)))
    return check_arrays(arrays, found), found


def save_torch_weights(model, path) -> Path:
    """Write a PyTorch digits CNN's weights (``"pytorch"`` layout) to a safetensors file."""
    return save_weights(torch_model_arrays(model), path, "pytorch")


def save_keras_weights(model, path) -> Path:
    """Write a Keras digits CNN's weights (``"keras"`` layout) to a safetensors file."""
    return save_weights(keras_model_arrays(model), path, "keras")


def load_torch_weights(model, path) -> None:
    """Load a weights file into a PyTorch digits CNN, converting from Keras if needed."""
    arrays, layout = load_weights(path)
    load_torch_arrays(
        model, arrays if layout == "pytorch" else keras_to_torch_arrays(arrays)
    )


def load_keras_weights(model, path) -> None:
    """Load a weights file into a Keras digits CNN, converting from PyTorch if needed."""
    arrays, layout = load_weights(path)
    load_keras_arrays(
        model, arrays if layout == "keras" else torch_to_keras_arrays(arrays)
    )


def convert_weights_file(
    source, destination, *, reorder_flatten: bool = True
) -> str:
    """Convert a weights file to the other layout; return the layout written."""
    source, destination = Path(source), Path(destination)
    if source.resolve() == destination.resolve():
        raise ValueError(f"source and destination are the same file: {source}")
    arrays, layout = load_weights(source)
    target = "keras" if layout == "pytorch" else "pytorch"
    save_weights(
        convert_arrays(arrays, target, reorder_flatten=reorder_flatten),
        destination,
        target,
    )
    return target


# --- Checks ----------------------------------------------------------------------


def _check_batch(images, labels=None) -> None:
    if not isinstance(images, np.ndarray):
        raise TypeError(
            f"images must be a numpy array, got {type(images).__name__}"
        )
    if images.ndim != 4 or images.shape[1] != 1:
        raise ValueError(
            f"images must be channels-first (N, 1, H, W), got shape {images.shape}"
        )
    if images.dtype != np.float32:
        raise TypeError(f"images must be float32, got {images.dtype}")
    if labels is not None:
        if not isinstance(labels, np.ndarray) or labels.shape != (
            len(images),
        ):
            raise ValueError(
                f"labels must be a numpy array of shape ({len(images)},)"
            )
        if not np.issubdtype(labels.dtype, np.integer):
            raise TypeError(f"labels must be integers, got {labels.dtype}")


def torch_logits(model, images: np.ndarray) -> np.ndarray:
    """Logits of a PyTorch model for channels-first images, as a NumPy array."""
    import torch

    _check_batch(images)
    model.eval()
    with torch.no_grad():
        return model(torch.from_numpy(images)).numpy()


def keras_logits(model, images: np.ndarray) -> np.ndarray:
    """Logits of a Keras model for channels-first images (transposed for it), as NumPy."""
    import keras

    from companion.digits import to_channels_last

    _check_batch(images)
    return np.asarray(
        keras.ops.convert_to_numpy(
            model(to_channels_last(images), training=False)
        )
    )


def torch_gradients(
    model, images: np.ndarray, labels: np.ndarray
) -> dict[str, np.ndarray]:
    """Gradients of the mean cross-entropy for a PyTorch digits CNN (``"pytorch"`` layout)."""
    import torch

    _check_batch(images, labels)
    layers = _torch_layers(model)
    model.zero_grad()
    loss = torch.nn.functional.cross_entropy(
        model(torch.from_numpy(images)),
        torch.from_numpy(labels.astype(np.int64)),
    )
    loss.backward()
    gradients = {}
    for name, module in layers.items():
        gradients[f"{name}.weight"] = module.weight.grad.numpy().copy()
        gradients[f"{name}.bias"] = module.bias.grad.numpy().copy()
    model.zero_grad()
    return gradients


def keras_gradients(
    model, images: np.ndarray, labels: np.ndarray
) -> dict[str, np.ndarray]:
    """The same gradients for a Keras digits CNN (``"keras"`` layout); TensorFlow backend only."""
    import keras

    from companion.digits import to_channels_last

    _check_batch(images, labels)
    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            f"keras_gradients uses tf.GradientTape; Keras runs on {keras.backend.backend()!r}"
        )
    import tensorflow as tf

    layers = _keras_layers(model)
    variables = {}
    for name, layer in layers.items():
        variables[f"{name}.kernel"] = layer.kernel
        variables[f"{name}.bias"] = layer.bias
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    with tf.GradientTape() as tape:
        loss = loss_fn(labels, model(to_channels_last(images), training=True))
    gradients = tape.gradient(loss, variables)
    return {name: gradients[name].numpy() for name in parameter_names("keras")}


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
