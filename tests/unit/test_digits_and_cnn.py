import numpy as np
import pytest

from companion.cnn import CNNConfig, build_keras_cnn, build_torch_cnn, parameter_count
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


def test_both_models_have_the_counted_parameters():
    config = CNNConfig(conv_channels=(4, 6), hidden_units=12)
    torch_model = build_torch_cnn(config, seed=0)
    keras_model = build_keras_cnn(config, seed=0)
    expected = parameter_count(config)
    assert sum(p.numel() for p in torch_model.parameters()) == expected
    assert keras_model.count_params() == expected


def test_seeded_builds_repeat_and_leave_global_state_alone():
    import torch

    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    first = build_torch_cnn(seed=5)
    after = torch.rand(1)
    assert torch.equal(before, after)  # building with a seed did not consume global draws
    second = build_torch_cnn(seed=5)
    for p, q in zip(first.parameters(), second.parameters(), strict=True):
        assert torch.equal(p, q)
    k1, k2 = build_keras_cnn(seed=5), build_keras_cnn(seed=5)
    for w1, w2 in zip(k1.get_weights(), k2.get_weights(), strict=True):
        np.testing.assert_array_equal(w1, w2)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"conv_channels": (8,)}, ValueError),
        ({"hidden_units": 0}, ValueError),
        ({"hidden_units": 2.5}, TypeError),
        ({"image_size": 10}, ValueError),
    ],
)
def test_config_validation(kwargs, error):
    with pytest.raises(error):
        CNNConfig(**kwargs)


def test_builders_reject_a_non_config():
    with pytest.raises(TypeError, match="CNNConfig"):
        build_torch_cnn({"hidden_units": 3})
    with pytest.raises(TypeError, match="CNNConfig"):
        build_keras_cnn({"hidden_units": 3})
