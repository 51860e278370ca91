"""Moving the digits CNN's weights between PyTorch's layout and Keras's."""

import numpy as np
import pytest

from companion.cnn import build_keras_cnn, build_torch_cnn
from companion.cnn_arrays import (
    TORCH_SHAPES,
    keras_arrays,
    load_arrays,
    load_into_torch,
    max_abs_difference,
    save_arrays,
    torch_arrays,
    torch_layout,
)


def test_ported_weights_give_the_same_logits():
    import torch

    torch_model = build_torch_cnn(seed=0)
    keras_model = build_keras_cnn()
    keras_model.set_weights(keras_arrays(torch_arrays(torch_model)))
    images = np.random.default_rng(0).random((5, 1, 8, 8), dtype=np.float32)
    with torch.no_grad():
        expected = torch_model(torch.from_numpy(images)).numpy()
    got = np.asarray(keras_model(images.transpose(0, 2, 3, 1)))
    assert np.abs(got - expected).max() < 1e-5


def test_round_trip_and_files(tmp_path):
    arrays = torch_arrays(build_torch_cnn(seed=1))
    assert max_abs_difference(arrays, torch_layout(keras_arrays(arrays))) == 0.0
    path = save_arrays(tmp_path / "w.npz", arrays)
    assert max_abs_difference(load_arrays(path), arrays) == 0.0
    model = build_torch_cnn(seed=2)
    load_into_torch(model, arrays)
    assert max_abs_difference(torch_arrays(model), arrays) == 0.0


def test_wrong_weights_are_rejected():
    arrays = {name: np.zeros(shape, np.float32) for name, shape in TORCH_SHAPES.items()}
    with pytest.raises(TypeError, match="dict of arrays"):
        keras_arrays([1, 2])
    with pytest.raises(ValueError, match="lacks the parameters"):
        keras_arrays({k: v for k, v in arrays.items() if k != "9.bias"})
    with pytest.raises(ValueError, match="must have shape"):
        keras_arrays({**arrays, "0.bias": np.zeros(3)})
    with pytest.raises(ValueError, match="8 arrays of the Keras CNN"):
        torch_layout([np.zeros(1)])
    with pytest.raises(ValueError, match="name different parameters"):
        max_abs_difference({"a": 1}, {"b": 1})
