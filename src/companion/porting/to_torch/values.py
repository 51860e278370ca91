"""What the Keras -> PyTorch converters pass around, and the layout helpers they share.

Every converted tensor is a :class:`TorchValue`: its node in the
``torch.fx`` graph being written, its value on the example input (so every
shape is concrete), and its :class:`~companion.porting.layout.Layout`
relative to the Keras tensor it stands for. A :class:`Site` adds modules
and calls to the graph on a converter's behalf.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from companion.porting.errors import UnsupportedLayerError
from companion.porting.layout import (
    Layout,
    channels_last,
    identity,
    torch_permutation,
    unified_layouts,
)


@dataclass
class TorchValue:
    """A converted tensor: its fx node, its value on the example, its layout."""

    node: object
    example: object
    layout: Layout


@dataclass
class Stacked:
    """A Keras list of per-direction final states (``keras.ops.stack``)."""

    items: list


@dataclass
class Site:
    """Where a converter works: the Keras layer, its path, a name for the PyTorch module."""

    builder: object  # the graph builder of companion.porting.to_torch.graph
    layer: object
    path: str
    name: str

    def unsupported(
        self, what: str, reason: str = ""
    ) -> UnsupportedLayerError:
        return UnsupportedLayerError(what, self.path, reason)

    def module(self, module, *args, suffix: str = "", **kwargs) -> TorchValue:
        """Add ``module`` under this site's name and call it (the result keeps
        the first input's layout)."""
        return self.builder.call_module(
            f"{self.name}{suffix}", module, args, kwargs
        )

    def function(self, function, *args, layout=None, **kwargs) -> TorchValue:
        return self.builder.call(function, args, kwargs, layout=layout)

    def method(self, name: str, *args, layout=None, **kwargs) -> TorchValue:
        return self.builder.call(
            name, args, kwargs, layout=layout, method=True
        )


def as_layout(site: Site, value: TorchValue, wanted: Layout) -> TorchValue:
    """The same Keras tensor held by a PyTorch tensor in layout ``wanted``."""
    import torch

    if value.layout == wanted:
        return value
    if value.layout.features is not None:
        order = torch.tensor(value.layout.features)
        index = site.builder.constant(f"{site.name}_order", order)
        value = site.function(
            torch.index_select, value, 1, index, layout=identity(2)
        )
    if value.layout != wanted:
        dims = torch_permutation(value.layout, wanted)
        value = site.method("permute", value, *dims, layout=wanted)
    return value


def as_keras_order(site: Site, value: TorchValue) -> TorchValue:
    """The tensor laid out exactly as in Keras (for reshapes, slices, recurrences)."""
    return as_layout(site, value, identity(value.layout.rank))


def as_channels_first(
    site: Site, value: TorchValue, spatial: int
) -> TorchValue:
    """A Keras image held channels-first, as PyTorch's layers want it."""
    return as_layout(site, value, channels_last(spatial + 2))


def tensor_arg(site: Site, value, what: str = "input") -> TorchValue:
    if not isinstance(value, TorchValue):
        raise site.unsupported(
            f"{type(site.layer).__name__} with a non-tensor {what}",
            f"got {type(value).__name__}",
        )
    return value


def unified(site: Site, values: list) -> list[TorchValue]:
    """Tensors brought to one layout: the first's, or Keras's if ranks or features differ."""
    values = [tensor_arg(site, v) for v in values]
    wanted = unified_layouts(v.layout for v in values)
    return [
        as_layout(site, v, layout)
        for v, layout in zip(values, wanted, strict=True)
    ]


def as_array(variable) -> np.ndarray:
    """A Keras variable as a float32 NumPy array."""
    import keras

    return np.asarray(keras.ops.convert_to_numpy(variable), dtype=np.float32)


def assign(module, **arrays) -> None:
    """Copy NumPy arrays into ``module``'s parameters and buffers of those names."""
    import torch

    with torch.no_grad():
        for name, array in arrays.items():
            getattr(module, name).copy_(
                torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))
            )


def check_channels_last(site: Site) -> None:
    if getattr(site.layer, "data_format", "channels_last") != "channels_last":
        raise site.unsupported(
            f"{type(site.layer).__name__}(data_format='channels_first')",
            "only channels_last is translated",
        )


def spatial_sizes(value: TorchValue) -> tuple[int, ...]:
    """The spatial sizes of a channels-first PyTorch tensor."""
    return tuple(int(s) for s in value.example.shape[2:])


def bias_of(layer) -> dict:
    """``{"bias": array}`` for a layer with a bias, ``{}`` without."""
    return {"bias": as_array(layer.bias)} if layer.use_bias else {}
