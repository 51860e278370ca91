"""PyTorch -> Keras: :func:`torch_to_keras` and the converters behind it."""

from companion.porting.to_keras.graph import (
    torch_to_keras,
    torch_to_keras_conversion,
)

__all__ = ["torch_to_keras", "torch_to_keras_conversion"]
