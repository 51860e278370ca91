"""Keras -> PyTorch: :func:`keras_to_torch` and the converters behind it."""

from companion.porting.to_torch.graph import (
    keras_to_torch,
    keras_to_torch_conversion,
)

__all__ = ["keras_to_torch", "keras_to_torch_conversion"]
