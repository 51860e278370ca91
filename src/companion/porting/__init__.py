"""Move a model and its weights between PyTorch and Keras, layer by layer, checked.

>>> from companion.porting import torch_to_keras, keras_to_torch, UnsupportedLayerError
>>> issubclass(UnsupportedLayerError, TypeError)
True

``torch_to_keras(module, example_input)`` takes a PyTorch module and a
NumPy example in PyTorch's layout and returns a Keras functional model;
``keras_to_torch(model, example_input)`` takes a Keras model and an example
in Keras's layout and returns a ``torch.fx.GraphModule``. Each converted
model takes inputs and gives outputs in its own framework's usual layout
(images channels-last in Keras, channels-first in PyTorch; sequences batch
first in both), and both functions run the two models on the example and
compare their outputs before returning (:mod:`companion.porting.tolerance`
states the float32 tolerance and why).

Importing this package loads neither framework: each function imports what
it needs when it is called.
"""

from __future__ import annotations

from companion.porting.conversion import Conversion
from companion.porting.errors import OutputMismatchError, UnsupportedLayerError
from companion.porting.tolerance import DEFAULT_RTOL, relative_difference


def torch_to_keras(module, example_input, *, rtol: float = DEFAULT_RTOL):
    """A Keras model computing ``module``'s function; see
    :func:`companion.porting.to_keras.graph.torch_to_keras`."""
    from companion.porting.to_keras import torch_to_keras as convert

    return convert(module, example_input, rtol=rtol)


def keras_to_torch(model, example_input, *, rtol: float = DEFAULT_RTOL):
    """A PyTorch module computing ``model``'s function; see
    :func:`companion.porting.to_torch.graph.keras_to_torch`."""
    from companion.porting.to_torch import keras_to_torch as convert

    return convert(model, example_input, rtol=rtol)


def torch_to_keras_conversion(
    module, example_input, *, rtol: float = DEFAULT_RTOL
) -> Conversion:
    """:func:`torch_to_keras` with the layouts and measured differences."""
    from companion.porting.to_keras import torch_to_keras_conversion as convert

    return convert(module, example_input, rtol=rtol)


def keras_to_torch_conversion(
    model, example_input, *, rtol: float = DEFAULT_RTOL
) -> Conversion:
    """:func:`keras_to_torch` with the layouts and measured differences."""
    from companion.porting.to_torch import keras_to_torch_conversion as convert

    return convert(model, example_input, rtol=rtol)


__all__ = [
    "DEFAULT_RTOL",
    "Conversion",
    "OutputMismatchError",
    "UnsupportedLayerError",
    "keras_to_torch",
    "keras_to_torch_conversion",
    "relative_difference",
    "torch_to_keras",
    "torch_to_keras_conversion",
]
