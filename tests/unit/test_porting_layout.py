"""companion.porting's layout arithmetic and tolerance checks, in NumPy alone."""

import itertools

import numpy as np
import pytest

from companion.porting import layout as L
from companion.porting.errors import OutputMismatchError, UnsupportedLayerError
from companion.porting.tolerance import (
    DEFAULT_RTOL,
    check_example_inputs,
    compare_outputs,
    relative_difference,
)


@pytest.mark.parametrize("rank", [3, 4, 5])
def test_keras_and_torch_permutations_undo_each_other(rank):
    array = np.random.default_rng(rank).normal(size=tuple(range(2, rank + 2)))
    for order in itertools.permutations(range(1, rank)):
        layout = L.Layout((0, *order))
        keras = L.to_keras_array(array, layout)
        assert np.array_equal(L.to_torch_array(keras, layout), array)
        # Moving the Keras tensor to the identity layout gives PyTorch's back ...
        assert np.array_equal(
            np.transpose(keras, L.keras_permutation(layout, L.identity(rank))), array
        )
        # ... and permuting PyTorch's instead gives the Keras tensor.
        assert np.array_equal(
            np.transpose(array, L.torch_permutation(layout, L.identity(rank))), keras
        )


def test_a_torch_permute_keeps_the_keras_tensor():
    array = np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)
    layout = L.channels_last(4)
    dims = (0, 3, 1, 2)
    moved = L.permuted(layout, dims)
    assert np.array_equal(
        L.to_keras_array(np.transpose(array, dims), moved), L.to_keras_array(array, layout)
    )


def test_flattened_features_follow_both_flatten_orders():
    array = np.random.default_rng(0).normal(size=(2, 3, 4, 5))
    layout = L.channels_last(4)
    flat = L.flattened(layout, array.shape)
    keras_flat = L.to_keras_array(array, layout).reshape(2, -1)
    assert np.array_equal(L.to_keras_array(array.reshape(2, -1), flat), keras_flat)


def test_the_digits_cnn_flatten_order():
    # 16 channels of 2 x 2: Keras's first four features are channels 0-3 of
    # the top-left pixel, four apart in PyTorch's order.
    flat = L.flattened(L.channels_last(4), (1, 16, 2, 2))
    assert list(flat.features[:8]) == [0, 4, 8, 12, 16, 20, 24, 28]


def test_same_padding_is_asymmetric_for_stride_two_on_even_sizes():
    assert L.same_padding(8, 3, 2) == (0, 1)
    assert L.same_padding(9, 3, 2) == (1, 1)
    assert L.same_padding(8, 4, 1) == (1, 2)
    assert L.torch_same_padding(4) == (1, 2)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_reordering_gates_twice_changes_nothing(cell):
    array = np.arange(24.0).reshape(12, 2)
    assert np.array_equal(L.reorder_gates(L.reorder_gates(array, cell), cell), array)


def test_layout_and_helper_argument_errors():
    with pytest.raises(ValueError, match="batch axis"):
        L.Layout((1, 0, 2))
    with pytest.raises(TypeError, match="tuple"):
        L.Layout([0, 1])
    with pytest.raises(ValueError, match="cell"):
        L.reorder_gates(np.zeros(6), "rnn")
    with pytest.raises(TypeError, match="numpy array"):
        L.to_keras_array([1, 2], L.identity(1))
    with pytest.raises(ValueError, match="at least 1"):
        L.same_padding(0, 3)
    with pytest.raises(TypeError, match="int"):
        L.same_padding(8.0, 3)


def test_relative_difference_is_against_the_output_scale():
    reference = np.array([100.0, 0.001])
    # A round-off-sized error on the small element is small against the scale.
    nudged = reference + np.array([0, 1e-5])
    assert relative_difference(reference, nudged) == pytest.approx(1e-7)
    assert relative_difference(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_difference(np.zeros(3), np.ones(3)) == float("inf")


def test_unified_layouts_follow_the_first_or_fall_back_to_identity():
    nhwc, nchw = L.channels_last(4), L.identity(4)
    flat = L.flattened(nhwc, (2, 3, 4, 5))
    # Already shared (or nothing to unify): unchanged.
    assert L.unified_layouts([nhwc, nhwc]) == [nhwc, nhwc]
    assert L.unified_layouts([]) == []
    # One rank, no reordered features first: every tensor takes the first's.
    assert L.unified_layouts([nhwc, nchw, nchw]) == [nhwc] * 3
    assert L.unified_layouts(iter([nchw, nhwc])) == [nchw] * 2
    # Ranks differ, or the first is flattened with reordered features: identity each.
    assert L.unified_layouts([nhwc, L.identity(2)]) == [nchw, L.identity(2)]
    assert L.unified_layouts([flat, L.identity(2)]) == [L.identity(2)] * 2
    with pytest.raises(TypeError, match="layout 1 must be a Layout, got tuple"):
        L.unified_layouts([nhwc, (0, 2, 3, 1)])


def test_the_tolerance_sits_between_round_off_and_mistakes():
    # One float32 step relative to the scale is 1.2e-7; GELU's tanh
    # approximation for the exact one, the subtlest mistake measured, ~1.2e-4.
    assert 50 * np.finfo(np.float32).eps < DEFAULT_RTOL <= 1.2e-4 / 10


def test_compare_outputs_reports_shape_and_count_mismatches():
    with pytest.raises(OutputMismatchError, match="shape"):
        compare_outputs([np.zeros(2)], [np.zeros(3)], 1e-5)
    with pytest.raises(OutputMismatchError, match="2 outputs, expected 1"):
        compare_outputs([np.zeros(2)], [np.zeros(2), np.zeros(2)], 1e-5)
    assert compare_outputs([np.ones(2)], [np.ones(2)], 1e-5) == [0.0]


def test_example_inputs_are_checked():
    assert len(check_example_inputs((np.zeros((1, 2)), np.zeros((1, 3))))) == 2
    with pytest.raises(TypeError, match="hold numbers"):
        check_example_inputs(np.array([["a"]]))
    with pytest.raises(TypeError, match="numpy array"):
        check_example_inputs(())


def test_errors_name_what_and_where():
    error = UnsupportedLayerError("Upsample", "decoder.3", "no Keras layer")
    assert isinstance(error, TypeError)
    assert (error.layer_type, error.path) == ("Upsample", "decoder.3")
    assert str(error) == "cannot convert Upsample at 'decoder.3': no Keras layer"
    mismatch = OutputMismatchError(0.5, 1e-5)
    assert isinstance(mismatch, ValueError)
    assert mismatch.tolerance == 1e-5


def test_importing_the_packages_loads_no_framework():
    from companion.processes import run_python

    code = (
        "import sys, companion.porting, companion.porting.zoo, companion.rosetta; "
        "print(sorted(m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules))"
    )
    done = run_python(["-c", code])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
