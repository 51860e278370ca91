"""Fixtures the companion's unit tests share.

``tests/conftest.py`` provides ``digits_split`` (the split every chapter
uses); here it is also ``split``, the name the unit tests use, and the two
digits CNNs are built once per module from seed 0. Treat them as read-only,
or copy what a test changes.
"""

from __future__ import annotations

import pytest

from companion.cnn import build_keras_cnn, build_torch_cnn


@pytest.fixture(scope="session")
def split(digits_split):
    """The digits, split as every chapter splits them (seed 0)."""
    return digits_split


@pytest.fixture
def parameter_counts():
    """``parameter_counts(torch_model, keras_model)``: both models' parameter counts."""

    def count(torch_model, keras_model) -> tuple[int, int]:
        torch_count = sum(p.numel() for p in torch_model.parameters())
        return torch_count, keras_model.count_params()

    return count


@pytest.fixture(scope="module")
def torch_cnn():
    """The PyTorch digits CNN, initialized from seed 0."""
    return build_torch_cnn(seed=0)


@pytest.fixture(scope="module")
def keras_cnn():
    """The Keras digits CNN, initialized from seed 0."""
    return build_keras_cnn(seed=0)
