"""Argument checks shared by the companion's functions and configurations.

One rule everywhere: a value of the wrong *type* raises ``TypeError``, a
value of the right type that is out of range or not among the choices
raises ``ValueError``. Each message names the argument and says what was
expected. Every check returns the value (converted where it says so), so a
function can check and assign in one line.

>>> check_int("epochs", 3, minimum=1)
3
>>> check_int("epochs", 0, minimum=1)
Traceback (most recent call last):
    ...
ValueError: epochs must be at least 1, got 0
>>> check_int("epochs", 2.5)
Traceback (most recent call last):
    ...
TypeError: epochs must be an int, got float
>>> check_choice("task", "train", ("train", "predict"))
'train'
>>> check_choice("task", "fit", ("train", "predict"))
Traceback (most recent call last):
    ...
ValueError: task must be one of ('train', 'predict'), got 'fit'
>>> check_fraction("test_fraction", 1.5)
Traceback (most recent call last):
    ...
ValueError: test_fraction must be between 0 and 1 (exclusive), got 1.5
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Callable, Iterable
from os import PathLike
from pathlib import Path

import numpy as np

#: The two ways the book lays out a batch of images.
IMAGE_LAYOUTS = ("channels-first", "channels-last")
#: A batch of images has four axes: (N, C, H, W) or (N, H, W, C).
IMAGE_RANK = 4


def check_int(
    name: str,
    value,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    """Return ``value`` as an int if it is one (a bool is not), within the bounds.

    NumPy integers are accepted. ``TypeError`` for a non-integer,
    ``ValueError`` below ``minimum`` or above ``maximum``.

    >>> check_int("level", 4, minimum=0, maximum=3)
    Traceback (most recent call last):
        ...
    ValueError: level must be at most 3, got 4
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {value}")
    return int(value)


def _shown(choices) -> tuple:
    return (
        tuple(sorted(choices)) if isinstance(choices, set) else tuple(choices)
    )


def check_choice(name: str, value, choices: Iterable):
    """Return ``value`` if it is one of ``choices`` (a tuple, a dict's keys, a set).

    Where every choice is a string, a value that is not one raises
    ``TypeError``.

    >>> check_choice("device", None, ("cpu", "cuda"))
    Traceback (most recent call last):
        ...
    TypeError: device must be a string, one of ('cpu', 'cuda'), got NoneType
    """
    choices = _shown(choices)
    if all(isinstance(c, str) for c in choices) and not isinstance(value, str):
        raise TypeError(
            f"{name} must be a string, one of {choices}, "
            f"got {type(value).__name__}"
        )
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_names(name: str, values, choices: Iterable) -> tuple:
    """Return ``values``, a non-empty list or tuple of ``choices``, as a tuple.

    >>> check_names("models", ["cnn"], ("cnn", "transformer"))
    ('cnn',)
    >>> check_names("models", "cnn", ("cnn", "transformer"))
    Traceback (most recent call last):
        ...
    TypeError: models must be a list or tuple of names, e.g. ['cnn']
    """
    if isinstance(values, str):
        raise TypeError(
            f"{name} must be a list or tuple of names, e.g. [{values!r}]"
        )
    if not isinstance(values, Iterable):
        raise TypeError(
            f"{name} must be a list or tuple of names, "
            f"got {type(values).__name__}"
        )
    values = tuple(values)
    if not values:
        raise ValueError(f"{name} must name at least one of {_shown(choices)}")
    for value in values:
        check_choice(f"each of {name}", value, choices)
    return values


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def check_instance(name: str, value, kind, *, what: str | None = None):
    """Return ``value`` if it is an instance of ``kind`` (a type or a tuple of types).

    ``what`` names the expected kind in the message (default: the type's
    name with its article).

    >>> check_instance("config", {}, dict)
    {}
    >>> check_instance("record", 3, str, what="an export record")
    Traceback (most recent call last):
        ...
    TypeError: record must be an export record, got int
    """
    if not isinstance(value, kind):
        if what is None:
            names = [
                k.__name__
                for k in (kind if isinstance(kind, tuple) else (kind,))
            ]
            what = f"{_article(names[0])} {' or '.join(names)}"
        raise TypeError(f"{name} must be {what}, got {type(value).__name__}")
    return value


def check_text(name: str, value) -> str:
    """Return ``value`` if it is a non-empty string.

    >>> check_text("module", "")
    Traceback (most recent call last):
        ...
    ValueError: module must not be empty
    """
    check_instance(name, value, str, what="a string")
    if not value:
        raise ValueError(f"{name} must not be empty")
    return value


def check_rank(name: str, shape, axes: tuple[str, ...]) -> tuple[int, ...]:
    """Return ``shape`` as a tuple if it has one size per name in ``axes``.

    >>> check_rank("batch", (2, 3, 4), ("inputs", "features"))
    Traceback (most recent call last):
        ...
    ValueError: batch must be 2-D (inputs, features), got shape (2, 3, 4)
    """
    shape = tuple(shape)
    if len(shape) != len(axes):
        raise ValueError(
            f"{name} must be {len(axes)}-D ({', '.join(axes)}), got shape {shape}"
        )
    return shape


def check_sizes(config, names: Iterable[str]) -> None:
    """Check that each field ``names`` of ``config`` is a positive int (a layer size, say).

    >>> from types import SimpleNamespace
    >>> check_sizes(SimpleNamespace(hidden=8, classes=0), ("hidden", "classes"))
    Traceback (most recent call last):
        ...
    ValueError: classes must be at least 1, got 0
    """
    for name in names:
        check_int(name, getattr(config, name), minimum=1)


class Sizes:
    """Base of the frozen dataclass configurations whose ``int`` fields are all sizes.

    Each such field must be a positive int; fields of other types are the
    subclass's to check (it calls ``super().__post_init__()`` first).

    >>> @dataclasses.dataclass(frozen=True)
    ... class Layer(Sizes):
    ...     width: int = 4
    ...     scale: float = 0.5
    >>> Layer(width=0)
    Traceback (most recent call last):
        ...
    ValueError: width must be at least 1, got 0
    >>> Layer(width=2.0)
    Traceback (most recent call last):
        ...
    TypeError: width must be an int, got float
    """

    def __post_init__(self):
        sizes = [
            f.name for f in dataclasses.fields(self) if f.type in (int, "int")
        ]
        check_sizes(self, sizes)


def check_keys(name: str, mapping, keys: Iterable[str]) -> dict:
    """Return ``mapping`` if it is a dict with exactly the keys ``keys``.

    >>> check_keys("weights", {"bias": 0, "extra": 1}, ("kernel", "bias"))
    Traceback (most recent call last):
        ...
    ValueError: weights must have exactly the keys ['bias', 'kernel']; missing ['kernel'], unexpected ['extra']
    """
    keys = set(keys)
    check_instance(
        name, mapping, dict, what=f"a dict with the keys {sorted(keys)}"
    )
    if set(mapping) != keys:
        missing, unexpected = (
            sorted(keys - set(mapping)),
            sorted(set(mapping) - keys),
        )
        raise ValueError(
            f"{name} must have exactly the keys {sorted(keys)}; "
            f"missing {missing}, unexpected {unexpected}"
        )
    return mapping


def check_shapes(name: str, arrays, expected: dict[str, tuple]) -> None:
    """Check that ``arrays[key]`` has the shape ``expected[key]`` for every key.

    >>> check_shapes("weights", {"bias": np.zeros(3)}, {"bias": (4,)})
    Traceback (most recent call last):
        ...
    ValueError: weights['bias'] has shape (3,), expected (4,)
    """
    for key, shape in expected.items():
        found = tuple(np.shape(arrays[key]))
        if found != tuple(shape):
            raise ValueError(
                f"{name}[{key!r}] has shape {found}, expected {tuple(shape)}"
            )


def check_callable(name: str, value) -> Callable:
    """Return ``value`` if it can be called.

    >>> check_callable("function", 3)
    Traceback (most recent call last):
        ...
    TypeError: function must be callable, got int
    """
    if not callable(value):
        raise TypeError(f"{name} must be callable, got {type(value).__name__}")
    return value


def check_number(name: str, value, *, positive: bool = False) -> float:
    """Return ``value`` as a float if it is a finite real number (a bool is not).

    >>> check_number("learning_rate", 0.0, positive=True)
    Traceback (most recent call last):
        ...
    ValueError: learning_rate must be a positive finite number, got 0.0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not np.isfinite(value) or (positive and value <= 0):
        kind = "a positive finite number" if positive else "a finite number"
        raise ValueError(f"{name} must be {kind}, got {value}")
    return float(value)


def check_fraction(name: str, value, *, allow_one: bool = False) -> float:
    """Return ``value`` as a float if it is a number between 0 and 1.

    0 is never allowed; 1 only with ``allow_one`` (a confidence threshold of 1
    means "never stop early").

    >>> check_fraction("threshold", 1, allow_one=True)
    1.0
    >>> check_fraction("threshold", 0, allow_one=True)
    Traceback (most recent call last):
        ...
    ValueError: threshold must be in (0, 1], got 0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if allow_one and not 0 < value <= 1:
        raise ValueError(f"{name} must be in (0, 1], got {value}")
    if not allow_one and not 0 < value < 1:
        raise ValueError(
            f"{name} must be between 0 and 1 (exclusive), got {value}"
        )
    return float(value)


def check_directory(name: str, path) -> Path:
    """Return ``path`` as a :class:`~pathlib.Path` if it names an existing directory.

    >>> check_directory("out", "/no/such/place")
    Traceback (most recent call last):
        ...
    ValueError: out must be an existing directory, got /no/such/place
    """
    check_instance(name, path, (str, PathLike), what="a path")
    path = Path(path)
    if not path.is_dir():
        raise ValueError(f"{name} must be an existing directory, got {path}")
    return path


def check_images(
    images,
    *,
    layout: str | None = None,
    channels: int | None = None,
    name: str = "images",
) -> np.ndarray:
    """Return a 4-D batch of images as contiguous float32, checked.

    ``layout`` is ``"channels-first"`` (``N, C, H, W``, PyTorch's and the
    digits split's) or ``"channels-last"`` (``N, H, W, C``, Keras's), or
    ``None`` for either (an exported artifact's input, say); ``channels``,
    if given, is the size the channel axis must have. Floating-point arrays
    of any precision are accepted and converted.

    >>> check_images(np.zeros((2, 1, 8, 8)), layout="channels-first", channels=1).dtype
    dtype('float32')
    >>> check_images(np.zeros((2, 8, 8, 1)), layout="channels-first", channels=1)
    Traceback (most recent call last):
        ...
    ValueError: images must be channels-first (N, 1, H, W), got shape (2, 8, 8, 1)
    >>> check_images(np.zeros((2, 8, 8)))
    Traceback (most recent call last):
        ...
    ValueError: images must have 4 dimensions (batch first), got shape (2, 8, 8)
    >>> check_images(np.zeros((2, 1, 8, 8), dtype=np.uint8))
    Traceback (most recent call last):
        ...
    TypeError: images must be floating point, got dtype uint8
    """
    if layout is not None:
        check_choice("layout", layout, IMAGE_LAYOUTS)
    check_instance(name, images, np.ndarray, what="a numpy array")
    if images.ndim != IMAGE_RANK:
        raise ValueError(
            f"{name} must have 4 dimensions (batch first), got shape {images.shape}"
        )
    if len(images) < 1:
        raise ValueError(f"{name} must hold at least one image")
    if not np.issubdtype(images.dtype, np.floating):
        raise TypeError(
            f"{name} must be floating point, got dtype {images.dtype}"
        )
    if layout is not None and channels is not None:
        axis, shape = (
            (1, f"(N, {channels}, H, W)")
            if layout == "channels-first"
            else (3, f"(N, H, W, {channels})")
        )
        if images.shape[axis] != channels:
            raise ValueError(
                f"{name} must be {layout} {shape}, got shape {images.shape}"
            )
    return np.ascontiguousarray(images, dtype=np.float32)


def check_labels(labels, count: int, *, name: str = "labels") -> np.ndarray:
    """Return ``labels`` if it is a 1-D integer array with one label per image.

    >>> check_labels(np.array([1, 2]), 3)
    Traceback (most recent call last):
        ...
    ValueError: labels must have shape (3,), one per image, got (2,)
    """
    check_instance(name, labels, np.ndarray, what="a numpy array")
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"{name} must be integers, got dtype {labels.dtype}")
    if labels.shape != (count,):
        raise ValueError(
            f"{name} must have shape ({count},), one per image, got {labels.shape}"
        )
    return labels
