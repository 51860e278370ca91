"""The recurrent classifier: the same function in four implementations, and clear errors."""

import numpy as np
import pytest
import torch

from companion.recurrent import (
    RNNConfig,
    build_keras_masked_rnn,
    build_tf_rnn,
    build_torch_rnn,
    check_padded_batch,
    check_sequences,
    example_sequences,
    length_mask,
    pad_sequences,
    to_ragged,
    torch_rnn_weights,
)

# Float32 arithmetic in a different order (Python loop, C++ loop, graph loop):
# the routes agree to about 1e-7 in practice; 1e-5 leaves room and still
# catches a wrong transpose or a missing bias by orders of magnitude.
ATOL = 1e-5
CONFIG = RNNConfig(features=3, hidden=8, classes=2)


@pytest.fixture(scope="module")
def models():
    torch_model = build_torch_rnn(CONFIG, seed=0)
    weights = torch_rnn_weights(torch_model)
    return torch_model, weights, build_tf_rnn(weights), build_keras_masked_rnn(weights)


@pytest.fixture(scope="module")
def sequences():
    return example_sequences(lengths=(5, 2, 7, 3), features=3, seed=0)


def rnn_logits(model, sequences):
    with torch.no_grad():
        return model([torch.from_numpy(s) for s in sequences]).numpy()


def test_all_routes_compute_the_same_logits(models, sequences):
    torch_model, _, tf_model, keras_model = models
    reference = rnn_logits(torch_model, sequences)
    padded, lengths = pad_sequences(sequences)
    outputs = {
        "eager": tf_model.eager(sequences).numpy(),
        "ragged": tf_model.ragged(to_ragged(sequences)).numpy(),
        "keras": keras_model([padded, length_mask(lengths, padded.shape[1])]).numpy(),
    }
    for name, logits in outputs.items():
        np.testing.assert_allclose(logits, reference, rtol=0, atol=ATOL, err_msg=name)


def test_the_tolerance_is_tight_enough_to_catch_a_porting_mistake(models, sequences):
    torch_model, weights, _, _ = models
    wrong = dict(weights, bias=weights["bias"] - torch_model.cell.bias_hh.detach().numpy())
    reference = rnn_logits(torch_model, sequences)
    assert np.abs(build_tf_rnn(wrong).eager(sequences).numpy() - reference).max() > 100 * ATOL


def test_a_sequence_only_depends_on_its_own_steps(models, sequences):
    torch_model = models[0]
    together = rnn_logits(torch_model, sequences)
    alone = np.concatenate([rnn_logits(torch_model, [s]) for s in sequences])
    np.testing.assert_allclose(together, alone, rtol=0, atol=1e-6)


def test_masked_padding_does_not_change_the_result(models, sequences):
    keras_model = models[3]
    padded, lengths = pad_sequences(sequences)
    mask = length_mask(lengths, padded.shape[1])
    noisy = padded + (~mask)[..., None] * 100.0  # garbage in the padded steps
    np.testing.assert_allclose(
        keras_model([noisy, mask]).numpy(), keras_model([padded, mask]).numpy(), atol=1e-6
    )


def test_ragged_function_traces_once_for_any_lengths(models):
    tf_model = models[2]
    for lengths in [(1, 4), (9, 2, 3), (5,)]:
        tf_model.ragged(to_ragged(example_sequences(lengths, features=3)))
    assert tf_model.ragged.experimental_get_tracing_count() == 1


def test_same_seed_same_weights_and_the_global_generator_is_untouched():
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    first = build_torch_rnn(CONFIG, seed=7)
    second = build_torch_rnn(CONFIG, seed=7)
    for a, b in zip(first.parameters(), second.parameters(), strict=True):
        assert torch.equal(a, b)
    assert torch.equal(torch.rand(1), expected_next)


def test_weight_layout_is_tensorflows(models):
    _, weights, _, _ = models
    assert weights["input_kernel"].shape == (3, 8)
    assert weights["recurrent_kernel"].shape == (8, 8)
    assert weights["bias"].shape == (8,)
    assert weights["head_kernel"].shape == (8, 2)


@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        ([], ValueError, "sequences is empty"),
        (
            [np.zeros((3, 3, 1))],
            ValueError,
            r"sequence 0 must be 2-D \(steps, features\), got shape \(3, 3, 1\)",
        ),
        ([np.zeros(3)], ValueError, "must be 2-D"),
        ([np.zeros((0, 3))], ValueError, "no steps"),
        ([np.zeros((2, 3)), np.zeros((2, 4))], ValueError, "sequence 1 has 4 features"),
        (np.zeros((2, 5, 3)), TypeError, "not a single array"),
        ("abc", TypeError, "list or tuple"),
        ([[1.0, 2.0]], TypeError, "array or tensor"),
    ],
)
def test_bad_sequences_get_clear_errors(bad, error, message):
    with pytest.raises(error, match=message):
        check_sequences(bad)


def test_wrong_feature_count_names_what_the_model_expects(models):
    torch_model, _, tf_model, _ = models
    with pytest.raises(ValueError, match="the model expects 3"):
        torch_model([torch.zeros(2, 5)])
    with pytest.raises(ValueError, match="the model expects 3"):
        tf_model.eager([np.zeros((2, 5), np.float32)])


def test_a_padded_tensor_given_to_the_loop_model_is_refused(models):
    with pytest.raises(TypeError, match="not a single array"):
        models[0](torch.zeros(2, 5, 3))


@pytest.mark.parametrize(
    ("lengths", "max_steps", "message"),
    [
        ([3, 9], 7, "between 1 and max_steps=7"),
        ([0, 2], 7, "between 1 and max_steps=7"),
        ([], 7, "non-empty 1-D"),
        ([[1, 2]], 7, "non-empty 1-D"),
    ],
)
def test_bad_lengths_get_clear_errors(lengths, max_steps, message):
    with pytest.raises(ValueError, match=message):
        length_mask(np.array(lengths, dtype=np.int64), max_steps)


def test_lengths_must_be_integers():
    with pytest.raises(TypeError, match="integers"):
        length_mask(np.array([1.5, 2.0]), 3)


def test_mismatched_lengths_and_batch_are_refused():
    padded = np.zeros((3, 5, 2), np.float32)
    with pytest.raises(ValueError, match="one length per sequence"):
        check_padded_batch(padded, [5, 2])
    with pytest.raises(ValueError, match="3-D"):
        check_padded_batch(padded[0], [5])
    check_padded_batch(padded, [5, 2, 1])


def test_bad_weights_and_configs_are_refused(models):
    _, weights, _, _ = models
    with pytest.raises(ValueError, match="keys"):
        build_tf_rnn({"input_kernel": weights["input_kernel"]})
    with pytest.raises(ValueError, match="recurrent_kernel"):
        build_keras_masked_rnn(dict(weights, recurrent_kernel=np.zeros((8, 7))))
    with pytest.raises(ValueError, match="hidden must be at least 1"):
        RNNConfig(hidden=0)
    with pytest.raises(TypeError, match="features must be an int"):
        RNNConfig(features=2.5)
    with pytest.raises(TypeError, match="build_torch_rnn"):
        torch_rnn_weights(torch.nn.RNNCell(3, 8))
    with pytest.raises(ValueError, match="each length must be at least 1"):
        example_sequences(lengths=(2, 0))
