"""What the PyTorch -> Keras converters pass around, and the layout helpers they share.

Every converted tensor is a :class:`KerasValue`: the Keras tensor and its
:class:`~companion.porting.layout.Layout` relative to the PyTorch tensor it
stands for. A converter that needs another layout calls :func:`as_layout`,
which adds a ``Permute`` (or, for a flattened tensor whose features are in
another order, a ``keras.ops.take``) only when the layout really differs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from companion.porting.errors import UnsupportedLayerError
from companion.porting.layout import (
    Layout,
    channels_last,
    identity,
    inverse,
    keras_permutation,
    unified_layouts,
)


@dataclass
class KerasValue:
    """A converted tensor: the Keras tensor and how it relates to the PyTorch one."""

    tensor: object
    layout: Layout


@dataclass
class Stacked:
    """A PyTorch ``(directions, N, H)`` final state: one Keras tensor per direction."""

    items: list


@dataclass
class Opaque:
    """A value that is no tensor in the Keras graph: a shape, a size, a constant."""

    value: object


@dataclass
class Site:
    """Where a converter works: the fx node's name and path, its values on the example."""

    node: object
    name: str
    path: str
    output: object  # what this node produced on the example input
    input_shapes: list = field(default_factory=list)

    def unsupported(
        self, what: str, reason: str = ""
    ) -> UnsupportedLayerError:
        return UnsupportedLayerError(what, self.path, reason)


def as_layout(value: KerasValue, wanted: Layout) -> KerasValue:
    """The same tensor rearranged in Keras so that its layout is ``wanted``."""
    import keras

    if value.layout == wanted:
        return value
    tensor, layout = value.tensor, value.layout
    if layout.features is not None:
        order = np.asarray(inverse(layout.features))
        tensor = keras.ops.take(tensor, order, axis=1)
        layout = identity(2)
    if layout != wanted:
        dims = keras_permutation(layout, wanted)
        tensor = keras.layers.Permute(dims[1:])(tensor)
    return KerasValue(tensor, wanted)


def as_torch_order(value: KerasValue) -> KerasValue:
    """The tensor laid out exactly as in PyTorch (for reshapes, slices, recurrences)."""
    return as_layout(value, identity(value.layout.rank))


def as_channels_last(value: KerasValue, spatial: int) -> KerasValue:
    """The tensor as a Keras image, channels last, for ``spatial`` dimensions."""
    return as_layout(value, channels_last(spatial + 2))


def unified(values: list) -> list:
    """Tensors brought to one layout: the first's, or PyTorch's if ranks or features differ."""
    wanted = iter(
        unified_layouts(v.layout for v in values if isinstance(v, KerasValue))
    )
    return [
        as_layout(v, next(wanted)) if isinstance(v, KerasValue) else v
        for v in values
    ]


def tensor_arg(site: Site, value, what: str = "input") -> KerasValue:
    """``value`` if it is a converted tensor, else the error naming ``site``."""
    if not isinstance(value, KerasValue):
        raise site.unsupported(
            f"non-tensor {what}", f"got {type(value).__name__}"
        )
    return value


def same_layout(x: KerasValue, tensor) -> KerasValue:
    """``tensor`` with ``x``'s layout (elementwise layers keep it)."""
    return KerasValue(tensor, x.layout)


def as_array(parameter) -> np.ndarray:
    """A PyTorch parameter or buffer as a float32 NumPy array."""
    return parameter.detach().cpu().numpy().astype(np.float32)


def per_axis(value, size: int) -> tuple:
    """``3`` -> ``(3, 3)``; a tuple stays as it is.

    >>> per_axis(3, 2), per_axis((1, 2), 2)
    ((3, 3), (1, 2))
    """
    return tuple(value) if isinstance(value, tuple | list) else (value,) * size
