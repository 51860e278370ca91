"""Small random models of every layer the converters support, in both frameworks.

Each :class:`ZooModel` has a name, the layer *family* it exercises (the
rows of :data:`FAMILIES`), and a factory that takes a NumPy generator and
returns ``(model, example_input)``: PyTorch models take channels-first
examples, Keras models channels-last. Weights are drawn at random (and so
are BatchNorm's running statistics, so that inference mode is really
exercised). The unit tests convert every one of them; the porting chapter
converts one per family and prints the largest relative difference.

>>> from companion.porting.zoo import FAMILIES, torch_models, keras_models
>>> len(FAMILIES)
14
>>> families = {m.family for m in torch_models()} | {m.family for m in keras_models()}
>>> families == set(FAMILIES)
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from companion.validation import check_choice, check_instance

#: The supported layers, grouped as the porting chapter's tolerance table lists them.
FAMILIES = (
    "Linear / Dense",
    "convolution",
    "transposed convolution",
    "pooling",
    "BatchNorm",
    "LayerNorm",
    "Embedding",
    "Dropout",
    "Flatten, reshape, padding",
    "activations",
    "LSTM",
    "GRU",
    "attention",
    "graphs (residual, concatenation, mean)",
)

DIRECTIONS = ("torch_to_keras", "keras_to_torch")


@dataclass(frozen=True)
class ZooModel:
    """One random model: what it is called, what it exercises, how to make it."""

    name: str
    family: str
    factory: Callable

    def __post_init__(self):
        check_choice("family", self.family, FAMILIES)

    def build(self, seed: int = 0):
        """``(model, example_input)`` drawn from ``numpy.random.default_rng(seed)``."""
        return self.factory(np.random.default_rng(seed))


def torch_models() -> list[ZooModel]:
    """The PyTorch models (converted by ``torch_to_keras``)."""
    from companion.porting.zoo import torch_zoo

    return torch_zoo.models()


def keras_models() -> list[ZooModel]:
    """The Keras models (converted by ``keras_to_torch``)."""
    from companion.porting.zoo import keras_zoo

    return keras_zoo.models()


def models(direction: str) -> list[ZooModel]:
    """The zoo converted in ``direction`` (``"torch_to_keras"`` or ``"keras_to_torch"``).

    >>> models("onnx")
    Traceback (most recent call last):
        ...
    ValueError: direction must be one of ('torch_to_keras', 'keras_to_torch'), got 'onnx'
    """
    check_choice("direction", direction, DIRECTIONS)
    return torch_models() if direction == "torch_to_keras" else keras_models()


def one_per_family(zoo: list[ZooModel]) -> list[ZooModel]:
    """The first model of each family, in the order of :data:`FAMILIES`."""
    check_instance("zoo", zoo, list)
    first: dict[str, ZooModel] = {}
    for model in zoo:
        first.setdefault(model.family, model)
    return [first[f] for f in FAMILIES if f in first]


def largest_differences(direction: str, zoo=None, seed: int = 0) -> dict:
    """Convert every model of ``zoo`` (default: the whole zoo); family -> worst difference.

    The difference is the converter's own check on the example input:
    ``max |converted - original| / max |original|``.
    """
    from companion import porting

    convert = {
        "torch_to_keras": porting.torch_to_keras_conversion,
        "keras_to_torch": porting.keras_to_torch_conversion,
    }[check_choice("direction", direction, DIRECTIONS)]
    worst: dict[str, float] = {}
    for model in models(direction) if zoo is None else zoo:
        original, example = model.build(seed)
        difference = convert(original, example).relative_difference
        worst[model.family] = max(worst.get(model.family, 0.0), difference)
    return {f: worst[f] for f in FAMILIES if f in worst}


def random_normal(rng, shape, scale: float = 1.0) -> np.ndarray:
    """float32 normal numbers (the zoo's inputs and weights)."""
    return rng.normal(scale=scale, size=shape).astype(np.float32)


def random_variances(rng, shape) -> np.ndarray:
    """float32 numbers in [0.5, 2): running variances far from BatchNorm's initial 1."""
    return rng.uniform(0.5, 2.0, size=shape).astype(np.float32)
