"""Fixtures the companion's unit tests share.

``tests/conftest.py`` provides ``digits_split`` (the split every chapter
uses); here it is also ``split``, the name the unit tests use, and the two
digits CNNs are built once per module from seed 0. Treat them as read-only,
or copy what a test changes. ``linear_onnx`` writes the smallest ONNX
classifier the deployment tests run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
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


@pytest.fixture(scope="session")
def linear_onnx():
    """``linear_onnx(path, weight, image_shape)``: flatten images, multiply by ``weight``.

    A one-layer ONNX model taking ``(batch, *image_shape)`` images to
    ``(batch, weight.shape[1])`` logits, saved at ``path``, which it returns.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    def write(path: Path, weight: np.ndarray, image_shape) -> Path:
        classes = weight.shape[1]
        graph = helper.make_graph(
            [
                helper.make_node("Flatten", ["images"], ["flat"]),
                helper.make_node("MatMul", ["flat", "weight"], ["logits"]),
            ],
            "linear",
            [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["batch", *image_shape])],
            [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", classes])],
            [numpy_helper.from_array(weight.astype(np.float32), "weight")],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        onnx.save(model, str(path))
        return path

    return write
