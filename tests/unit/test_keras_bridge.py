"""One CNN as native PyTorch and as Keras on a backend, each in its own process."""

import numpy as np
import pytest

from companion.cnn import build_torch_cnn
from companion.cnn_arrays import max_abs_difference
from companion.digits import load_digits_split
from companion.keras_bridge import compare_backends


def test_keras_on_torch_matches_native_pytorch():
    import torch

    from companion.distributed.plan import TrainingPlan
    from companion.distributed.runs import single_process

    keras = compare_backends(("keras-torch",), steps=3)["keras-torch"]
    native = single_process("pytorch", TrainingPlan(steps=3))
    start = build_torch_cnn(seed=0)
    with torch.no_grad():
        logits = start(torch.from_numpy(load_digits_split(seed=0).x_test)).numpy()
    assert np.abs(logits - keras.logits).max() < 1e-5
    assert max_abs_difference(native.weights, keras.weights) < 1e-5
    assert keras.details["backend"] == "torch"
    assert keras.details["model is a torch.nn.Module"] is True
    assert keras.details["TensorFlow imported"] is False
    assert keras.details["keras.distribution"].startswith("AttributeError")
    assert len(keras.step_seconds) == 3


def test_variants_are_checked():
    with pytest.raises(ValueError, match="each of variants must be one of"):
        compare_backends(("keras-jax",))
    with pytest.raises(TypeError, match="list or tuple of names"):
        compare_backends("pytorch")
