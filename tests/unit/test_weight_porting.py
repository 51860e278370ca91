"""Weight porting between the PyTorch and Keras digits CNNs: layouts, files, equal outputs."""

import numpy as np
import pytest
import torch
from safetensors.numpy import save_file
from torch import nn

from companion.cnn import build_keras_cnn, build_torch_cnn
from companion.weight_porting import (
    check_arrays,
    convert_weights_file,
    flatten_permutation,
    keras_gradients,
    keras_logits,
    keras_model_arrays,
    keras_to_torch_arrays,
    load_keras_weights,
    load_torch_arrays,
    load_torch_weights,
    load_weights,
    max_abs_differences,
    parameter_names,
    port_weights,
    read_layout,
    save_keras_weights,
    save_torch_weights,
    save_weights,
    torch_gradients,
    torch_logits,
    torch_model_arrays,
    torch_to_keras_arrays,
)

TOLERANCE = 1e-5  # float32 logits and gradients


def scaled_torch_cnn(seed: int, scale: float = 1.0):
    """A torch CNN whose weights are random and, with scale > 1, far from initialization."""
    model = build_torch_cnn(seed=seed)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.mul_(scale)
    return model


def test_flatten_permutation_matches_the_two_flatten_orders():
    channels, height, width = 3, 2, 4
    feature_map = np.random.default_rng(0).normal(size=(channels, height, width))
    torch_flat = feature_map.reshape(-1)  # (C, H, W) order
    keras_flat = feature_map.transpose(1, 2, 0).reshape(-1)  # (H, W, C) order
    perm = flatten_permutation(channels, height, width)
    np.testing.assert_array_equal(keras_flat, torch_flat[perm])
    assert sorted(perm.tolist()) == list(range(channels * height * width))


@pytest.mark.parametrize(
    ("args", "error"),
    [((0, 2, 2), ValueError), ((2.0, 2, 2), TypeError), ((2, 2, True), TypeError)],
)
def test_flatten_permutation_validates(args, error):
    with pytest.raises(error):
        flatten_permutation(*args)


def test_array_conversion_round_trips_exactly():
    arrays = torch_model_arrays(build_torch_cnn(seed=3))
    back = keras_to_torch_arrays(torch_to_keras_arrays(arrays))
    assert max_abs_differences(arrays, back) == dict.fromkeys(arrays, 0.0)
    keras_arrays = torch_to_keras_arrays(arrays)
    assert keras_arrays["conv2.kernel"].shape == (3, 3, 8, 16)  # HWIO
    assert keras_arrays["dense1.kernel"].shape == (64, 32)
    # The first conv kernel is a pure transpose: weight[o, i, h, w] == kernel[h, w, i, o].
    assert keras_arrays["conv1.kernel"][2, 1, 0, 5] == arrays["conv1.weight"][5, 0, 2, 1]


def test_torch_to_keras_gives_equal_logits_and_gradients(split):
    torch_model = scaled_torch_cnn(seed=1, scale=3.0)
    keras_model = build_keras_cnn(seed=1)
    port_weights(torch_model, keras_model)
    logit_gap = np.abs(
        torch_logits(torch_model, split.x_test) - keras_logits(keras_model, split.x_test)
    ).max()
    assert logit_gap <= TOLERANCE
    images, labels = split.x_train[:64], split.y_train[:64]
    ported = keras_to_torch_arrays(keras_gradients(keras_model, images, labels))
    gaps = max_abs_differences(torch_gradients(torch_model, images, labels), ported)
    assert max(gaps.values()) <= TOLERANCE
    # Gradients are not trivially zero, so equal gradients mean something.
    assert np.abs(torch_gradients(torch_model, images, labels)["dense1.weight"]).max() > 1e-3


def test_keras_to_torch_gives_equal_logits(split):
    keras_model = build_keras_cnn(seed=4)
    torch_model = build_torch_cnn(seed=9)
    port_weights(keras_model, torch_model)
    gap = np.abs(torch_logits(torch_model, split.x_val) - keras_logits(keras_model, split.x_val))
    assert gap.max() <= TOLERANCE


def test_skipping_the_flatten_reorder_keeps_shapes_but_breaks_logits(split):
    torch_model = scaled_torch_cnn(seed=2, scale=3.0)
    keras_model = build_keras_cnn()
    port_weights(torch_model, keras_model, reorder_flatten=False)  # no shape error
    gap = np.abs(torch_logits(torch_model, split.x_test) - keras_logits(keras_model, split.x_test))
    assert gap.max() > 0.1


def test_porting_works_for_a_subclassed_module_too(split):
    class DigitsCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
            self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
            self.dense1 = nn.Linear(64, 32)
            self.dense2 = nn.Linear(32, 10)

        def forward(self, x):
            x = nn.functional.max_pool2d(nn.functional.relu(self.conv1(x)), 2)
            x = nn.functional.max_pool2d(nn.functional.relu(self.conv2(x)), 2)
            return self.dense2(nn.functional.relu(self.dense1(x.flatten(1))))

    torch.manual_seed(0)
    module = DigitsCNN()
    # Same parameter creation order as companion.cnn, so the same seed gives the same weights.
    same = max_abs_differences(
        torch_model_arrays(module), torch_model_arrays(build_torch_cnn(seed=0))
    )
    assert max(same.values()) == 0.0
    keras_model = build_keras_cnn()
    port_weights(module, keras_model)
    gap = np.abs(torch_logits(module, split.x_test) - keras_logits(keras_model, split.x_test))
    assert gap.max() <= TOLERANCE


def test_files_record_their_layout_and_round_trip(tmp_path, split):
    torch_model = build_torch_cnn(seed=5)
    torch_file = save_torch_weights(torch_model, tmp_path / "t.safetensors")
    assert read_layout(torch_file) == "pytorch"
    keras_file = tmp_path / "k.safetensors"
    assert convert_weights_file(torch_file, keras_file) == "keras"
    arrays, layout = load_weights(keras_file)
    assert layout == "keras"
    assert set(arrays) == set(parameter_names("keras"))

    keras_model = build_keras_cnn()
    load_keras_weights(keras_model, keras_file)
    gap = np.abs(torch_logits(torch_model, split.x_test) - keras_logits(keras_model, split.x_test))
    assert gap.max() <= TOLERANCE
    # A loader converts from the other layout by itself.
    other = build_torch_cnn(seed=6)
    load_torch_weights(other, keras_file)
    assert (
        max(
            max_abs_differences(torch_model_arrays(other), torch_model_arrays(torch_model)).values()
        )
        == 0.0
    )
    again = save_keras_weights(keras_model, tmp_path / "k2.safetensors")
    assert (
        max_abs_differences(load_weights(again)[0], keras_model_arrays(keras_model))["conv1.kernel"]
        == 0.0
    )


def test_file_errors_are_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="no weights file"):
        read_layout(tmp_path / "missing.safetensors")
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"not a safetensors file")
    with pytest.raises(ValueError, match="not a readable safetensors file"):
        read_layout(garbage)

    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": np.zeros(2, np.float32)}, foreign)
    with pytest.raises(ValueError, match=r"not written by companion\.weight_porting"):
        load_weights(foreign)
    torch_file = save_torch_weights(build_torch_cnn(), tmp_path / "t.safetensors")
    with pytest.raises(ValueError, match="expected keras"):
        load_weights(torch_file, layout="keras")
    with pytest.raises(ValueError, match="same file"):
        convert_weights_file(torch_file, torch_file)


def test_weight_dicts_are_validated():
    arrays = torch_model_arrays(build_torch_cnn())
    with pytest.raises(ValueError, match="missing"):
        check_arrays({k: v for k, v in arrays.items() if k != "conv1.bias"}, "pytorch")
    with pytest.raises(TypeError, match="numpy array"):
        check_arrays({**arrays, "conv1.bias": [0.0] * 8}, "pytorch")
    with pytest.raises(TypeError, match="floating-point"):
        check_arrays({**arrays, "conv1.bias": np.zeros(8, np.int32)}, "pytorch")
    with pytest.raises(ValueError, match="4 dimensions"):
        check_arrays({**arrays, "conv1.weight": np.zeros((8, 9), np.float32)}, "pytorch")
    with pytest.raises(ValueError, match="outputs"):
        check_arrays({**arrays, "conv1.bias": np.zeros(7, np.float32)}, "pytorch")
    with pytest.raises(ValueError, match="layout must be one of"):
        check_arrays(arrays, "jax")
    with pytest.raises(ValueError, match="square feature map"):
        torch_to_keras_arrays({**arrays, "dense1.weight": np.zeros((32, 63), np.float32)})
    with pytest.raises(TypeError, match="dict"):
        save_weights([1, 2], "x.safetensors", "pytorch")


def test_models_of_another_architecture_are_refused():
    wider = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Linear(4, 2))
    with pytest.raises(ValueError, match="2 Conv2d and 2 Linear"):
        torch_model_arrays(wider)
    with pytest.raises(TypeError, match=r"torch\.nn\.Module"):
        torch_model_arrays(build_keras_cnn())
    with pytest.raises(TypeError, match=r"keras\.Model"):
        keras_model_arrays(build_torch_cnn())
    bigger = build_torch_cnn()
    arrays = torch_model_arrays(bigger)
    arrays["dense2.weight"] = np.zeros((11, 32), np.float32)
    arrays["dense2.bias"] = np.zeros(11, np.float32)
    with pytest.raises(ValueError, match="architectures differ"):
        load_torch_arrays(bigger, arrays)


def test_batches_are_validated(split):
    model = build_torch_cnn()
    with pytest.raises(ValueError, match="channels-first"):
        torch_logits(model, split.x_test.transpose(0, 2, 3, 1))
    with pytest.raises(TypeError, match="floating point"):
        torch_logits(model, (split.x_test * 16).astype(np.uint8))
    # Any floating-point precision is taken, and computed in float32.
    assert torch_logits(model, split.x_test.astype(np.float64)).dtype == np.float32
    with pytest.raises(ValueError, match="labels"):
        torch_gradients(model, split.x_test[:4], split.y_test[:3])
    with pytest.raises(TypeError, match="integers"):
        torch_gradients(model, split.x_test[:4], split.y_test[:4].astype(np.float32))


def test_max_abs_differences_validates():
    with pytest.raises(ValueError, match="different keys"):
        max_abs_differences({"a": np.zeros(1)}, {"b": np.zeros(1)})
    with pytest.raises(ValueError, match="shapes differ"):
        max_abs_differences({"a": np.zeros(1)}, {"a": np.zeros(2)})
