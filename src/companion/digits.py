"""The 8x8 handwritten digits that ship with scikit-learn, split the same way for both frameworks.

The data set is bundled with scikit-learn, so the book needs no download:
1,797 greyscale images of 8x8 pixels with values 0 to 16, labels 0 to 9.
:func:`load_digits_split` scales pixels to [0, 1], shuffles with a fixed
seed and returns channels-first arrays (``N, 1, 8, 8``, PyTorch's layout);
:func:`to_channels_last` gives Keras's layout (``N, 8, 8, 1``).

>>> split = load_digits_split(seed=0)
>>> split.x_train.shape, split.x_train.dtype, split.y_train.dtype
((1258, 1, 8, 8), dtype('float32'), dtype('int64'))
>>> len(split.x_val), len(split.x_test)
(180, 359)
>>> float(split.x_train.max()) <= 1.0
True
>>> to_channels_last(split.x_test).shape
(359, 8, 8, 1)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from companion.validation import (
    IMAGE_RANK,
    check_fraction,
    check_instance,
    check_int,
)

NUM_CLASSES = 10
IMAGE_SIZE = 8


@dataclass(frozen=True)
class DigitsSplit:
    """Train, validation and test arrays; images channels-first, float32 in [0, 1]."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    def sizes(self) -> dict[str, int]:
        return {
            "train": len(self.x_train),
            "validation": len(self.x_val),
            "test": len(self.x_test),
        }


def load_digits_split(
    seed: int = 0, test_fraction: float = 0.2, validation_fraction: float = 0.1
) -> DigitsSplit:
    """Load, scale, shuffle (with ``seed``) and split the digits.

    The test split takes ``test_fraction`` of all images, the validation split
    ``validation_fraction``, and training the rest.
    """
    from sklearn.datasets import load_digits

    check_int("seed", seed)
    test_fraction = check_fraction("test_fraction", test_fraction)
    validation_fraction = check_fraction(
        "validation_fraction", validation_fraction
    )
    if test_fraction + validation_fraction >= 1:
        raise ValueError(
            "test_fraction + validation_fraction must leave images for training, "
            f"got {test_fraction} + {validation_fraction}"
        )
    bunch = load_digits()
    images = (bunch.images / 16.0).astype(np.float32)[:, np.newaxis, :, :]
    labels = bunch.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(images))
    images, labels = images[order], labels[order]
    n_test = round(len(images) * test_fraction)
    n_val = round(len(images) * validation_fraction)
    return DigitsSplit(
        x_train=images[n_test + n_val :],
        y_train=labels[n_test + n_val :],
        x_val=images[n_test : n_test + n_val],
        y_val=labels[n_test : n_test + n_val],
        x_test=images[:n_test],
        y_test=labels[:n_test],
    )


def to_channels_last(images: np.ndarray) -> np.ndarray:
    """``N, C, H, W`` to ``N, H, W, C`` (a copy, contiguous)."""
    check_instance("images", images, np.ndarray, what="a numpy array")
    if images.ndim != IMAGE_RANK:
        raise ValueError(
            f"images must have 4 dimensions (N, C, H, W), got shape {images.shape}"
        )
    return np.ascontiguousarray(images.transpose(0, 2, 3, 1))
