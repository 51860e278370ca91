"""The digits CNN, built alike in PyTorch and Keras, and seeded without side effects."""

import numpy as np
import pytest
import torch

from companion.cnn import CNNConfig, build_keras_cnn, build_torch_cnn, parameter_count


def test_both_models_have_the_counted_parameters(parameter_counts):
    config = CNNConfig(conv_channels=(4, 6), hidden_units=12)
    expected = parameter_count(config)
    models = build_torch_cnn(config, seed=0), build_keras_cnn(config, seed=0)
    assert parameter_counts(*models) == (expected, expected)


def test_seeded_builds_repeat_and_leave_global_state_alone():
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
