"""Read weights out of the digits CNN in either framework, load them in, port them across."""

from __future__ import annotations

import numpy as np

from companion.digits import to_channels_last
from companion.logits import keras_logits, torch_logits
from companion.validation import check_images, check_instance, check_labels
from companion.weight_porting.arrays import (
    CONV_LAYERS,
    DENSE_LAYERS,
    LAYERS,
    check_arrays,
    keras_to_torch_arrays,
    parameter_names,
    torch_to_keras_arrays,
)


def _torch_layers(model):
    """The Conv2d and Linear modules of a PyTorch model, in definition order, by name."""
    from torch import nn

    check_instance("model", model, nn.Module, what="a torch.nn.Module")
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    denses = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if len(convs) != len(CONV_LAYERS) or len(denses) != len(DENSE_LAYERS):
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

    check_instance("model", model, keras.Model, what="a keras.Model")
    layers = list(_walk_keras_layers(model))
    convs = [
        layer for layer in layers if isinstance(layer, keras.layers.Conv2D)
    ]
    denses = [
        layer for layer in layers if isinstance(layer, keras.layers.Dense)
    ]
    if len(convs) != len(CONV_LAYERS) or len(denses) != len(DENSE_LAYERS):
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


def port_weights(source, target, *, reorder_flatten: bool = True) -> None:
    """Give ``target`` the weights of ``source``, in place: PyTorch to Keras or back.

    The direction follows the source: a ``torch.nn.Module`` ports to a Keras
    model, anything else is read as a Keras model and ports to PyTorch. With
    ``reorder_flatten=False`` the first dense layer keeps the source's row
    order, the silent mistake the porting chapter shows.
    """
    from torch import nn

    if isinstance(source, nn.Module):
        arrays = torch_model_arrays(source)
        load_keras_arrays(
            target,
            torch_to_keras_arrays(arrays, reorder_flatten=reorder_flatten),
        )
    else:
        arrays = keras_model_arrays(source)
        load_torch_arrays(
            target,
            keras_to_torch_arrays(arrays, reorder_flatten=reorder_flatten),
        )


def _check_batch(images, labels) -> tuple[np.ndarray, np.ndarray]:
    """Channels-first digits (as :mod:`companion.logits` takes them) and their labels."""
    images = check_images(images, layout="channels-first", channels=1)
    return images, check_labels(labels, len(images))


def torch_gradients(
    model, images: np.ndarray, labels: np.ndarray
) -> dict[str, np.ndarray]:
    """Gradients of the mean cross-entropy for a PyTorch digits CNN (``"pytorch"`` layout)."""
    import torch

    images, labels = _check_batch(images, labels)
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

    images, labels = _check_batch(images, labels)
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


__all__ = [
    "keras_gradients",
    "keras_logits",
    "keras_model_arrays",
    "load_keras_arrays",
    "load_torch_arrays",
    "port_weights",
    "torch_gradients",
    "torch_logits",
    "torch_model_arrays",
]
