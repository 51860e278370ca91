"""The porting pitfalls, measured: each naive port misses, each fix agrees.

The bounds are loose on purpose: they say which side of the tolerance each
measurement falls on (a real mismatch is far above 1e-5, a fix at float32
round-off far below), not the exact numbers the chapter prints.
"""

import numpy as np
import pytest

from companion.porting import DEFAULT_RTOL
from companion.porting.pitfalls import Measured, layers, numerics, recurrent, training

MISMATCH = 1e-4  # every naive port below misses by at least this much


@pytest.mark.parametrize(
    "measure",
    [
        layers.batchnorm_epsilon,
        layers.layernorm_epsilon,
        layers.gelu_approximation,
        layers.same_padding_stride_two,
        numerics.interpolation,
        numerics.tf32_matmul,
        training.gradient_clipping,
    ],
    ids=lambda f: f.__name__,
)
def test_the_naive_port_misses_silently_and_the_fix_agrees(measure):
    measured = measure()
    assert measured.silent
    assert measured.naive > MISMATCH
    assert measured.fixed <= DEFAULT_RTOL


def test_stride_two_same_padding_agrees_on_odd_sizes_and_pytorch_refuses_it():
    odd = layers.same_padding_stride_two(size=9)
    # TensorFlow pads (1, 1) there, as padding=1 does: the same sums, though
    # not always in the same order (1.1e-07 on an AMD EPYC with AVX2, 0 elsewhere).
    assert odd.naive <= 1e-6
    refusal = odd.details["PyTorch padding='same' with stride 2"]
    assert refusal.startswith("RuntimeError")
    assert "strided" in refusal


def test_the_defaults_are_read_from_the_frameworks():
    defaults = layers.normalization_defaults()
    assert defaults["PyTorch BatchNorm2d"] == {"momentum": 0.1, "eps": 1e-5}
    assert defaults["Keras BatchNormalization"] == {"momentum": 0.99, "epsilon": 1e-3}
    assert layers.gelu_defaults()["keras.ops.gelu"] is True
    optimizers = training.optimizer_defaults()
    assert optimizers["AdamW"]["PyTorch weight_decay"] == 0.01
    assert optimizers["AdamW"]["Keras weight_decay"] == 0.004


def test_recurrent_weights_need_the_gate_order_and_both_biases():
    ports = recurrent.recurrent_ports()
    assert set(ports) == {
        "LSTM, b_hh left out",
        "LSTM, gates f and g swapped",
        "GRU, PyTorch's gate order",
        "GRU, reset_after=False",
    }
    for measured in ports.values():
        assert measured.naive > 0.1
        assert measured.fixed <= DEFAULT_RTOL
    shapes = recurrent.recurrent_shapes()
    assert shapes["LSTM"]["parameters"] == (108, 96)  # one bias vector fewer in Keras
    assert shapes["GRU"]["parameters"] == (81, 81)


def test_batchnorm_statistics_diverge_under_the_copied_momentum():
    result = training.batchnorm_training(steps=5)
    copied, mapped = "Keras, momentum 0.1 (copied)", "Keras, momentum 0.9 (1 - 0.1)"
    assert result["mean difference"][copied] > 0.1
    assert result["mean difference"][mapped] <= DEFAULT_RTOL
    # The variances still differ: unbiased batch variance in PyTorch, biased in Keras.
    assert result["variance difference"][mapped] > 0.01
    assert result["unbiased rule replayed vs PyTorch"] <= DEFAULT_RTOL
    assert result["biased rule replayed vs Keras"] <= DEFAULT_RTOL
    assert result["means"]["PyTorch, momentum 0.1"].shape == (5, 4)


def test_loss_conventions():
    losses = training.loss_conventions()
    assert not losses["arguments swapped"].silent  # Keras rejects (logits, labels)
    assert losses["from_logits"].naive > 0.5
    assert losses["from_logits"].fixed <= DEFAULT_RTOL
    assert losses["reduction"].naive > 0.5
    assert losses["reduction"].fixed <= DEFAULT_RTOL


def test_adamw_defaults_drift_apart():
    measured = training.adamw(steps=20)
    assert measured.naive > MISMATCH > measured.fixed


def test_initializers_differ_in_spread():
    measured = layers.initializers()
    assert measured.naive > 0.5  # Glorot's spread is about twice PyTorch's here
    assert measured.fixed < 0.05  # sampling noise only


def test_round_off_is_far_below_the_mistakes():
    numbers = numerics.round_off_and_mistakes()
    round_off = [v for k, v in numbers.items() if k.startswith("round-off")]
    mistakes = [v for k, v in numbers.items() if k.startswith("mistake")]
    assert max(round_off) < DEFAULT_RTOL / 10 < min(mistakes)
    by_depth = numerics.round_off_by_depth(depths=(1, 16))
    assert by_depth[1] <= by_depth[16] < DEFAULT_RTOL


def test_tf32_rounding_keeps_ten_mantissa_bits():
    values = np.array([1 + 2**-10, 1 + 2**-12, 3.0], np.float32)
    assert numerics.tf32_round(values).tolist() == [1 + 2**-10, 1.0, 3.0]
    with pytest.raises(TypeError, match="numpy array"):
        numerics.tf32_round([1.0])


def test_measured_needs_exactly_one_kind_of_naive_result():
    with pytest.raises(ValueError, match="either naive"):
        Measured("x", fixed=0.0)
    with pytest.raises(ValueError, match="either naive"):
        Measured("x", naive=1.0, naive_error="E", fixed=0.0)
    with pytest.raises(TypeError, match="name"):
        Measured(3, naive=1.0)
