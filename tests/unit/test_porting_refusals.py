"""What the converters refuse, how they say so, and what they return when they succeed."""

import re

import numpy as np
import pytest

from companion.porting import (
    OutputMismatchError,
    UnsupportedLayerError,
    keras_to_torch,
    torch_to_keras,
)
from companion.porting.zoo import keras_models, torch_models


def zoo_model(zoo, name):
    return next(model for model in zoo if model.name == name)


def test_an_unsupported_torch_module_is_named_with_its_path():
    from torch import nn

    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Sequential(nn.ReLU(), nn.Upsample(scale_factor=2)))
    with pytest.raises(UnsupportedLayerError, match=r"Upsample at '1\.1'") as info:
        torch_to_keras(model, np.zeros((1, 1, 6, 6), np.float32))
    assert (info.value.layer_type, info.value.path) == ("Upsample", "1.1")
    assert isinstance(info.value, TypeError)


def test_an_unsupported_function_names_the_module_that_calls_it():
    import torch
    from torch import nn

    class Block(nn.Module):
        def forward(self, x):
            return torch.roll(x, 1)

    class Outer(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = Block()

        def forward(self, x):
            return self.block(x)

    with pytest.raises(UnsupportedLayerError, match=r"roll at 'block \(roll\)'"):
        torch_to_keras(Outer(), np.zeros((1, 3), np.float32))


def test_an_untraceable_forward_is_refused():
    from torch import nn

    class Branchy(nn.Module):
        def forward(self, x):
            return x if x.sum() > 0 else -x

    with pytest.raises(UnsupportedLayerError, match=r"torch\.fx cannot trace"):
        torch_to_keras(Branchy(), np.zeros((1, 3), np.float32))


@pytest.mark.parametrize(
    ("make", "what"),
    [
        (
            lambda nn: nn.Conv2d(2, 2, 3, padding=1, padding_mode="reflect"),
            "padding_mode='reflect'",
        ),
        (lambda nn: nn.Conv2d(2, 2, 3, stride=2, dilation=2), "stride>1, dilation>1"),
        (lambda nn: nn.MaxPool2d(2, ceil_mode=True), "ceil_mode=True"),
        (lambda nn: nn.MaxPool2d(3, stride=2, padding=1), r"MaxPool2d\(padding=1\)"),
        (lambda nn: nn.BatchNorm2d(2, momentum=None), "momentum=None"),
        (lambda nn: nn.AdaptiveAvgPool2d(2), "output_size=2"),
        (lambda nn: nn.LSTM(8, 3, num_layers=2, batch_first=True), "num_layers=2"),
        (lambda nn: nn.GRU(8, 3), "batch_first=False"),
        (lambda nn: nn.Softplus(beta=2.0), "beta"),
    ],
)
def test_unsupported_torch_settings(make, what):
    from torch import nn

    layer = make(nn)
    shape = (2, 4, 8) if isinstance(layer, nn.RNNBase) else (2, 2, 8, 8)
    with pytest.raises(UnsupportedLayerError, match=what):
        torch_to_keras(nn.Sequential(layer), np.zeros(shape, np.float32))


def test_an_unsupported_keras_layer_is_named_with_its_path():
    import keras

    inner = keras.Sequential([keras.Input((4, 4, 2)), keras.layers.UpSampling2D()], name="decoder")
    inputs = keras.Input((4, 4, 2))
    model = keras.Model(inputs, inner(keras.layers.ReLU(name="act")(inputs)), name="outer")
    with pytest.raises(UnsupportedLayerError, match=r"UpSampling2D at 'outer/decoder/") as info:
        keras_to_torch(model, np.zeros((1, 4, 4, 2), np.float32))
    assert info.value.layer_type == "UpSampling2D"


@pytest.mark.parametrize(
    ("layer", "shape", "what"),
    [
        (lambda k: k.layers.GRU(3, reset_after=False), (2, 4, 5), "reset_after=False"),
        (lambda k: k.layers.LSTM(3, activation="relu"), (2, 4, 5), "activation=relu"),
        (
            lambda k: k.layers.AveragePooling2D(2, strides=1, padding="same"),
            (1, 4, 4, 2),
            "count_include_pad",
        ),
        (lambda k: k.layers.MultiHeadAttention(2, 3), (1, 4, 8), r"num_heads \* key_dim"),
        (
            lambda k: k.layers.Conv2D(2, 3, data_format="channels_first"),
            (1, 2, 6, 6),
            "channels_first",
        ),
    ],
)
def test_unsupported_keras_settings(layer, shape, what):
    import keras

    inputs = keras.Input(shape[1:])
    built = layer(keras)
    if isinstance(built, keras.layers.MultiHeadAttention):
        outputs = built(inputs, inputs)
    else:
        outputs = built(inputs)
    with pytest.raises(UnsupportedLayerError, match=what):
        keras_to_torch(keras.Model(inputs, outputs), np.zeros(shape, np.float32))


def test_a_round_trip_that_needs_minus_infinity_padding_is_refused():
    """keras_to_torch pads with -inf before asymmetric max pooling; Keras cannot say -inf."""
    model, example = zoo_model(keras_models(), "MaxPooling2D same, asymmetric").build(0)
    module = keras_to_torch(model, example)
    with pytest.raises(UnsupportedLayerError, match=re.escape("ConstantPad2d(value=-inf)")):
        torch_to_keras(module, example.transpose(0, 3, 1, 2))


@pytest.mark.parametrize(
    ("name", "target", "wrong"),
    [
        # Forget to reorder the GRU gates (r, z) -> (z, r).
        ("GRU", "reorder_gates", lambda array, _cell, _axis=0: array),
        # Forget to reorder the Dense rows after a flatten.
        (
            "Flatten + Linear (flatten order)",
            "flattened",
            lambda _layout, _shape: __import__("companion.porting.layout").porting.layout.identity(
                2
            ),
        ),
    ],
)
def test_a_wrong_port_is_caught_before_returning(monkeypatch, name, target, wrong):
    from companion.porting.to_keras import functions, sequences

    module, example = zoo_model(torch_models(), name).build(0)
    owner = sequences if target == "reorder_gates" else functions
    monkeypatch.setattr(owner, target, wrong)
    with pytest.raises(
        OutputMismatchError, match=r"relative difference [0-9.e-]+ > tolerance"
    ) as info:
        torch_to_keras(module, example)
    assert info.value.relative_difference > 1e-2


def test_argument_types_and_values():
    import keras
    from torch import nn

    example = np.zeros((1, 2), np.float32)
    with pytest.raises(TypeError, match=r"torch\.nn\.Module"):
        torch_to_keras("model", example)
    with pytest.raises(TypeError, match=r"keras\.Model"):
        keras_to_torch(nn.Linear(2, 2), example)
    with pytest.raises(TypeError, match="numpy array"):
        torch_to_keras(nn.Linear(2, 2), [[0.0, 1.0]])
    with pytest.raises(ValueError, match="batch axis"):
        torch_to_keras(nn.Linear(2, 2), np.zeros((0, 2), np.float32))
    with pytest.raises(ValueError, match="positive"):
        torch_to_keras(nn.Linear(2, 2), example, rtol=0)
    with pytest.raises(TypeError, match="rtol must be a number"):
        torch_to_keras(nn.Linear(2, 2), example, rtol="1e-5")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="takes 1 inputs"):
        keras_to_torch(model, (example, example))


def test_training_mode_is_restored():
    from torch import nn

    module = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5)).train()
    torch_to_keras(module, np.ones((3, 2), np.float32))
    assert module.training


def test_the_converted_keras_model_uses_idiomatic_layers():
    from torch import nn

    module = nn.Sequential(
        nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(64, 3)
    )
    model = torch_to_keras(module, np.zeros((1, 1, 8, 8), np.float32))
    kinds = [type(layer).__name__ for layer in model.layers]
    # 8 -> 4 with stride 2: TensorFlow's 'same' pads (0, 1), PyTorch's padding=1 (1, 1).
    assert kinds == ["InputLayer", "ZeroPadding2D", "Conv2D", "ReLU", "Flatten", "Dense"]
    assert model.get_layer("_0").padding == "valid"


def test_the_converted_torch_module_is_readable_code():
    import keras

    model = keras.Sequential(
        [
            keras.Input((9, 9, 2)),
            keras.layers.Conv2D(3, 3, strides=2, padding="same"),
            keras.layers.GlobalAveragePooling2D(),
        ]
    )
    module = keras_to_torch(model, np.zeros((1, 9, 9, 2), np.float32))
    assert "torch.mean" in module.code
    (conv,) = [m for m in module.children() if type(m).__name__ == "Conv2d"]
    assert conv.padding == (1, 1)  # 9 -> 5 with stride 2: symmetric, no extra layer
    assert not module.training


def test_the_converted_keras_model_saves_and_loads(tmp_path):
    import keras

    module, example = zoo_model(torch_models(), "transformer block").build(5)
    model = torch_to_keras(module, example)
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    np.testing.assert_array_equal(np.asarray(loaded(example)), np.asarray(model(example)))


def test_the_converted_torch_module_saves_and_loads(tmp_path):
    import torch

    model, example = zoo_model(keras_models(), "transformer block").build(6)
    module = keras_to_torch(model, example)
    torch.save(module, tmp_path / "module.pt")
    loaded = torch.load(tmp_path / "module.pt", weights_only=False)
    tokens = torch.from_numpy(example)
    with torch.no_grad():
        np.testing.assert_array_equal(loaded(tokens).numpy(), module(tokens).numpy())
