"""The digits split every chapter uses, and the layout change for Keras."""

import numpy as np
import pytest

from companion.digits import load_digits_split, to_channels_last


def test_split_is_deterministic_and_disjoint():
    a, b = load_digits_split(seed=3), load_digits_split(seed=3)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert sum(a.sizes().values()) == 1797
    c = load_digits_split(seed=4)
    assert not np.array_equal(a.y_train, c.y_train)


def test_every_class_is_in_every_split():
    split = load_digits_split()
    for labels in (split.y_train, split.y_val, split.y_test):
        assert set(labels.tolist()) == set(range(10))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"seed": 1.5}, TypeError, "seed must be an int"),
        ({"test_fraction": 0}, ValueError, "between 0 and 1"),
        ({"validation_fraction": "0.1"}, TypeError, "must be a number"),
        ({"test_fraction": 0.6, "validation_fraction": 0.4}, ValueError, "leave images"),
    ],
)
def test_split_validation(kwargs, error, message):
    with pytest.raises(error, match=message):
        load_digits_split(**kwargs)


def test_channels_last_moves_the_channel_axis():
    images = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    moved = to_channels_last(images)
    assert moved.shape == (2, 4, 5, 3)
    assert moved[1, 2, 3, 0] == images[1, 0, 2, 3]
    with pytest.raises(ValueError, match="4 dimensions"):
        to_channels_last(images[0])
    with pytest.raises(TypeError, match="numpy array"):
        to_channels_last([[1.0]])
