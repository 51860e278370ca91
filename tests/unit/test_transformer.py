"""The small transformer encoder classifier, built alike in PyTorch and Keras."""

import numpy as np
import pytest
import torch

from companion.transformer import (
    TransformerConfig,
    build_keras_transformer,
    build_torch_transformer,
    parameter_count,
    synthetic_batch,
)


def test_transformer_has_the_same_parameter_count_in_both_frameworks(parameter_counts):
    config = TransformerConfig(sequence_length=8, model_dim=16, num_heads=2, feed_forward_dim=32)
    expected = parameter_count(config)
    models = build_torch_transformer(config, seed=0), build_keras_transformer(config, seed=0)
    assert parameter_counts(*models) == (expected, expected)


def test_transformer_is_seeded_and_gives_logits():
    config = TransformerConfig(sequence_length=8, model_dim=16, num_heads=2, feed_forward_dim=32)
    x, y = synthetic_batch(config, batch_size=3, seed=5)
    assert np.array_equal(x, synthetic_batch(config, batch_size=3, seed=5)[0])
    first = build_torch_transformer(config, seed=1)(torch.from_numpy(x))
    second = build_torch_transformer(config, seed=1)(torch.from_numpy(x))
    assert first.shape == (3, 10)
    assert torch.equal(first, second)
    assert y.min() >= 0
    assert y.max() < 10


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"model_dim": 10, "num_heads": 4}, ValueError, "divisible"),
        ({"num_heads": 0}, ValueError, "num_heads must be at least 1"),
        ({"sequence_length": 2.5}, TypeError, "int"),
    ],
)
def test_transformer_config_is_validated(kwargs, error, message):
    with pytest.raises(error, match=message):
        TransformerConfig(**kwargs)


def test_synthetic_batch_rejects_bad_sizes():
    with pytest.raises(ValueError, match="at least 1"):
        synthetic_batch(TransformerConfig(), batch_size=0)
    with pytest.raises(TypeError, match="TransformerConfig"):
        synthetic_batch({"model_dim": 64}, batch_size=2)
