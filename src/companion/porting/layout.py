"""How one tensor is laid out in PyTorch and in Keras, and the weight layouts that follow.

A converted model computes the same numbers as the original, but a tensor
can sit in memory in another order: an image is ``(N, C, H, W)`` in PyTorch
and ``(N, H, W, C)`` in Keras. A :class:`Layout` records that relation for
one tensor: ``keras_tensor == torch_tensor.permute(order)``, and, for a
flattened tensor, which PyTorch feature each Keras feature holds
(``keras[:, k] == torch[:, features[k]]``). The batch axis stays first in
both frameworks.

>>> layout = channels_last(4)
>>> layout.order
(0, 2, 3, 1)
>>> import numpy as np
>>> image = np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)   # (N, C, H, W)
>>> to_keras_array(image, layout).shape                   # (N, H, W, C)
(2, 4, 5, 3)
>>> np.array_equal(to_torch_array(to_keras_array(image, layout), layout), image)
True
>>> flat = flattened(layout, (2, 3, 4, 5))
>>> flat.features[:4]   # Keras's first features: pixel (0, 0) of channels 0, 1, 2, then pixel (0, 1)
(0, 20, 40, 1)
>>> np.array_equal(
...     to_keras_array(image.reshape(2, -1), flat),
...     to_keras_array(image, layout).reshape(2, -1),
... )
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from companion.validation import check_instance, check_int


@dataclass(frozen=True)
class Layout:
    """``keras == torch.permute(order)``, then ``keras == keras[:, features]`` if given."""

    order: tuple[int, ...]
    features: tuple[int, ...] | None = None

    def __post_init__(self):
        if not isinstance(self.order, tuple):
            raise TypeError(
                f"order must be a tuple, got {type(self.order).__name__}"
            )
        if sorted(self.order) != list(range(len(self.order))):
            raise ValueError(
                f"order must be a permutation of 0..rank-1, got {self.order}"
            )
        if self.order and self.order[0] != 0:
            raise ValueError(
                f"the batch axis must stay first, got order {self.order}"
            )
        if self.features is not None:
            if len(self.order) != 2:
                raise ValueError(
                    "features applies to rank-2 (flattened) tensors only"
                )
            if sorted(self.features) != list(range(len(self.features))):
                raise ValueError("features must be a permutation of 0..F-1")

    @property
    def rank(self) -> int:
        return len(self.order)

    @property
    def is_identity(self) -> bool:
        """Both frameworks hold the tensor in the same order."""
        return self.order == tuple(range(self.rank)) and self.features is None

    def keras_axis(self, torch_axis: int) -> int:
        """The Keras axis that holds PyTorch axis ``torch_axis`` (negative counts from the end).

        >>> channels_last(4).keras_axis(1)
        3
        """
        check_int("torch_axis", torch_axis)
        if not -self.rank <= torch_axis < self.rank:
            raise ValueError(
                f"axis {torch_axis} is out of range for rank {self.rank}"
            )
        return self.order.index(torch_axis % self.rank)

    def torch_axis(self, keras_axis: int) -> int:
        """The PyTorch axis that holds Keras axis ``keras_axis``.

        >>> channels_last(4).torch_axis(-1)
        1
        """
        check_int("keras_axis", keras_axis)
        if not -self.rank <= keras_axis < self.rank:
            raise ValueError(
                f"axis {keras_axis} is out of range for rank {self.rank}"
            )
        return self.order[keras_axis % self.rank]


def identity(rank: int) -> Layout:
    """The same order in both frameworks (dense features, sequences ``(N, T, F)``)."""
    check_int("rank", rank, minimum=1)
    return Layout(tuple(range(rank)))


def channels_last(rank: int) -> Layout:
    """PyTorch's ``(N, C, *spatial)`` held as Keras's ``(N, *spatial, C)``."""
    check_int("rank", rank, minimum=3)
    return Layout((0, *range(2, rank), 1))


def inverse(permutation) -> tuple[int, ...]:
    """The permutation that undoes ``permutation``.

    >>> inverse((0, 2, 3, 1))
    (0, 3, 1, 2)
    """
    return tuple(int(i) for i in np.argsort(np.asarray(permutation)))


def keras_permutation(current: Layout, wanted: Layout) -> tuple[int, ...]:
    """Axes to transpose a Keras tensor by, to go from ``current`` to ``wanted`` (no features).

    >>> keras_permutation(channels_last(4), identity(4))   # NHWC -> NCHW
    (0, 3, 1, 2)
    """
    _check_same_rank(current, wanted)
    return tuple(inverse(current.order)[i] for i in wanted.order)


def torch_permutation(current: Layout, wanted: Layout) -> tuple[int, ...]:
    """Axes to permute a PyTorch tensor by, so that the same Keras tensor has layout ``wanted``.

    >>> torch_permutation(channels_last(4), identity(4))   # NCHW -> NHWC
    (0, 2, 3, 1)
    """
    _check_same_rank(current, wanted)
    undo = inverse(wanted.order)
    return tuple(current.order[i] for i in undo)


def _check_same_rank(current: Layout, wanted: Layout) -> None:
    for name, value in (("current", current), ("wanted", wanted)):
        if not isinstance(value, Layout):
            raise TypeError(
                f"{name} must be a Layout, got {type(value).__name__}"
            )
        if value.features is not None:
            raise ValueError(
                f"{name} has a feature permutation: undo it first"
            )
    if current.rank != wanted.rank:
        raise ValueError(f"ranks differ: {current.rank} and {wanted.rank}")


def unified_layouts(layouts) -> list[Layout]:
    """The layout each of several tensors takes before they are combined.

    Unchanged if they share one already; the first's if they share a rank
    and the first holds no reordered features; otherwise each tensor's
    :func:`identity` layout (the same order in both frameworks).

    >>> unified_layouts([identity(4), channels_last(4)])
    [Layout(order=(0, 1, 2, 3), features=None), Layout(order=(0, 1, 2, 3), features=None)]
    >>> unified_layouts([channels_last(4), identity(2)])
    [Layout(order=(0, 1, 2, 3), features=None), Layout(order=(0, 1), features=None)]
    >>> unified_layouts([(0, 1)])
    Traceback (most recent call last):
        ...
    TypeError: layout 0 must be a Layout, got tuple
    """
    layouts = list(layouts)
    for index, layout in enumerate(layouts):
        check_instance(f"layout {index}", layout, Layout, what="a Layout")
    if len(set(layouts)) <= 1:
        return layouts
    first = layouts[0]
    if (
        len({layout.rank for layout in layouts}) == 1
        and first.features is None
    ):
        return [first] * len(layouts)
    return [identity(layout.rank) for layout in layouts]


def permuted(layout: Layout, torch_dims) -> Layout:
    """The layout after ``torch_tensor.permute(torch_dims)``, with the Keras tensor unchanged.

    >>> permuted(identity(3), (0, 2, 1)).order   # (N, T, F) -> (N, F, T) in PyTorch only
    (0, 2, 1)
    """
    dims = tuple(int(d) % layout.rank for d in torch_dims)
    if sorted(dims) != list(range(layout.rank)):
        raise ValueError(
            f"{torch_dims} is not a permutation of rank {layout.rank}"
        )
    return Layout(tuple(inverse(dims)[i] for i in layout.order))


def keras_permuted(layout: Layout, keras_dims) -> Layout:
    """The layout after ``keras_tensor.transpose(keras_dims)``, with the PyTorch tensor unchanged.

    >>> keras_permuted(identity(3), (0, 2, 1)).order
    (0, 2, 1)
    """
    dims = tuple(int(d) for d in keras_dims)
    if sorted(dims) != list(range(layout.rank)):
        raise ValueError(
            f"{keras_dims} is not a permutation of rank {layout.rank}"
        )
    return Layout(tuple(layout.order[i] for i in dims))


def reduced(layout: Layout, torch_axes, keepdims: bool) -> Layout:
    """The layout after reducing ``torch_axes`` (not the batch axis).

    >>> reduced(channels_last(4), (2, 3), keepdims=False).order   # mean over H, W
    (0, 1)
    """
    axes = {int(a) % layout.rank for a in torch_axes}
    if 0 in axes:
        raise ValueError("the batch axis cannot be reduced")
    if keepdims:
        return Layout(layout.order)
    kept = [a for a in layout.order if a not in axes]
    renumber = {axis: rank for rank, axis in enumerate(sorted(kept))}
    return Layout(tuple(renumber[a] for a in kept))


def flattened(layout: Layout, torch_shape) -> Layout:
    """The layout after flattening every axis but the batch, in each framework's own order.

    PyTorch flattens its ``(C, H, W)``, Keras its ``(H, W, C)``: ``features[k]``
    is the PyTorch feature that Keras holds at position ``k``.

    >>> flattened(channels_last(4), (1, 2, 1, 2)).features
    (0, 2, 1, 3)
    """
    shape = tuple(int(s) for s in torch_shape)
    if len(shape) != layout.rank:
        raise ValueError(f"shape {shape} does not have rank {layout.rank}")
    if layout.features is not None:
        return layout
    index = np.arange(int(np.prod(shape[1:]))).reshape(shape[1:])
    keras_order = np.transpose(index, [axis - 1 for axis in layout.order[1:]])
    features = tuple(int(i) for i in keras_order.reshape(-1))
    if features == tuple(range(len(features))):
        return identity(2)
    return Layout((0, 1), features)


def to_keras_array(array, layout: Layout) -> np.ndarray:
    """A PyTorch-layout NumPy array rearranged into the Keras layout."""
    array = _check_array(array, layout)
    result = np.transpose(array, layout.order)
    if layout.features is not None:
        result = result[:, list(layout.features)]
    return np.ascontiguousarray(result)


def to_torch_array(array, layout: Layout) -> np.ndarray:
    """A Keras-layout NumPy array rearranged into the PyTorch layout."""
    array = _check_array(array, layout)
    if layout.features is not None:
        array = array[:, list(inverse(layout.features))]
    return np.ascontiguousarray(np.transpose(array, inverse(layout.order)))


def _check_array(array, layout: Layout) -> np.ndarray:
    if not isinstance(array, np.ndarray):
        raise TypeError(
            f"array must be a numpy array, got {type(array).__name__}"
        )
    if not isinstance(layout, Layout):
        raise TypeError(
            f"layout must be a Layout, got {type(layout).__name__}"
        )
    if array.ndim != layout.rank:
        raise ValueError(
            f"array has rank {array.ndim}, the layout rank {layout.rank}"
        )
    return array


# --- Padding ---------------------------------------------------------------------------


def same_padding(
    size: int, kernel: int, stride: int = 1, dilation: int = 1
) -> tuple[int, int]:
    """``(before, after)`` padding of TensorFlow's ``padding="same"`` along one axis.

    TensorFlow makes the output ``ceil(size / stride)`` long and puts the odd
    pixel of padding *after*. With stride 2 the padding depends on the input
    size, and is often not symmetric, which PyTorch's ``padding=p`` always is.

    >>> same_padding(8, kernel=3, stride=2)   # 8 -> 4 outputs: 1 pixel, after only
    (0, 1)
    >>> same_padding(7, kernel=3, stride=2)   # 7 -> 4 outputs: 2 pixels, one each side
    (1, 1)
    >>> same_padding(8, kernel=3)
    (1, 1)
    """
    for name, value in (
        ("size", size),
        ("kernel", kernel),
        ("stride", stride),
        ("dilation", dilation),
    ):
        check_int(name, value, minimum=1)
    out = -(-size // stride)
    span = dilation * (kernel - 1) + 1
    total = max((out - 1) * stride + span - size, 0)
    return total // 2, total - total // 2


def torch_same_padding(kernel: int, dilation: int = 1) -> tuple[int, int]:
    """``(before, after)`` of PyTorch's ``padding="same"`` (stride 1 only): the odd pixel after.

    >>> torch_same_padding(4)
    (1, 2)
    """
    check_int("kernel", kernel, minimum=1)
    check_int("dilation", dilation, minimum=1)
    total = dilation * (kernel - 1)
    return total // 2, total - total // 2


# --- Weights ---------------------------------------------------------------------------


def conv_kernel_to_keras(weight: np.ndarray) -> np.ndarray:
    """PyTorch ``(out, in, *k)`` convolution weights as a Keras ``(*k, in, out)`` kernel.

    >>> conv_kernel_to_keras(np.zeros((8, 3, 5, 4))).shape
    (5, 4, 3, 8)
    """
    weight = _check_kernel(weight)
    return np.ascontiguousarray(
        np.transpose(weight, (*range(2, weight.ndim), 1, 0))
    )


def conv_kernel_to_torch(kernel: np.ndarray) -> np.ndarray:
    """A Keras ``(*k, in, out)`` kernel as PyTorch ``(out, in, *k)`` weights (inverse)."""
    kernel = _check_kernel(kernel)
    spatial = kernel.ndim - 2
    return np.ascontiguousarray(
        np.transpose(kernel, (spatial + 1, spatial, *range(spatial)))
    )


def dense_kernel_to_keras(weight: np.ndarray, features=None) -> np.ndarray:
    """``nn.Linear``'s ``(out, in)`` weight as a ``Dense`` ``(in, out)`` kernel.

    ``features`` is the flattened input's layout (``Layout.features``): after
    a flatten, Keras's feature ``i`` is PyTorch's feature ``features[i]``, so
    the kernel's rows are taken in that order.

    >>> weight = np.arange(6.0).reshape(2, 3)  # 2 outputs, 3 inputs
    >>> dense_kernel_to_keras(weight, features=(2, 0, 1))[:, 0]
    array([2., 0., 1.])
    """
    kernel = _check_matrix(weight).T
    return kernel if features is None else kernel[list(features)]


def dense_kernel_to_torch(kernel: np.ndarray, features=None) -> np.ndarray:
    """A ``Dense`` ``(in, out)`` kernel as ``nn.Linear``'s ``(out, in)`` weight (inverse).

    >>> weight = np.arange(6.0).reshape(2, 3)
    >>> kernel = dense_kernel_to_keras(weight, features=(2, 0, 1))
    >>> np.array_equal(dense_kernel_to_torch(kernel, features=(2, 0, 1)), weight)
    True
    """
    kernel = _check_matrix(kernel)
    if features is not None:
        kernel = kernel[list(inverse(features))]
    return np.ascontiguousarray(kernel.T)


def _check_matrix(array) -> np.ndarray:
    if not isinstance(array, np.ndarray) or array.ndim != 2:
        raise TypeError(
            f"a dense kernel must be a 2-D numpy array, got {type(array).__name__}"
            + (
                f" of {array.ndim} axes"
                if isinstance(array, np.ndarray)
                else ""
            )
        )
    return array


def _check_kernel(array) -> np.ndarray:
    if not isinstance(array, np.ndarray):
        raise TypeError(
            f"kernel must be a numpy array, got {type(array).__name__}"
        )
    if array.ndim < 3:
        raise ValueError(
            f"a convolution kernel has at least 3 dimensions, got {array.shape}"
        )
    return array


#: Where each Keras gate block comes from in PyTorch's order (and back: both are involutions).
#: LSTM: PyTorch (i, f, g, o), Keras (i, f, c, o): the same. GRU: PyTorch (r, z, n), Keras (z, r, h).
GATE_ORDER = {"lstm": (0, 1, 2, 3), "gru": (1, 0, 2)}


def reorder_gates(array: np.ndarray, cell: str, axis: int = 0) -> np.ndarray:
    """Swap the gate blocks of recurrent weights between PyTorch's and Keras's order.

    >>> reorder_gates(np.array([10, 11, 20, 21, 30, 31]), "gru").tolist()   # r r z z n n
    [20, 21, 10, 11, 30, 31]
    """
    if cell not in GATE_ORDER:
        raise ValueError(
            f"cell must be one of {sorted(GATE_ORDER)}, got {cell!r}"
        )
    if not isinstance(array, np.ndarray):
        raise TypeError(
            f"array must be a numpy array, got {type(array).__name__}"
        )
    blocks = np.split(array, len(GATE_ORDER[cell]), axis=axis)
    return np.concatenate([blocks[i] for i in GATE_ORDER[cell]], axis=axis)
