"""The one rule of the checks: a wrong type raises TypeError, a wrong value ValueError."""

from pathlib import Path

import numpy as np
import pytest

from companion.validation import (
    check_choice,
    check_directory,
    check_fraction,
    check_images,
    check_instance,
    check_int,
    check_labels,
    check_names,
    check_number,
    check_rank,
    check_text,
)

CHOICES = ("train", "predict")
BATCH = np.zeros((2, 1, 8, 8), dtype=np.float32)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: check_int("n", "3"), TypeError, "n must be an int, got str"),
        (lambda: check_int("n", True), TypeError, "n must be an int, got bool"),
        (lambda: check_int("n", 0, minimum=1), ValueError, "n must be at least 1"),
        (lambda: check_choice("task", 1, CHOICES), TypeError, "task must be a string"),
        (lambda: check_choice("task", "fit", CHOICES), ValueError, "task must be one of"),
        (lambda: check_names("tasks", "train", CHOICES), TypeError, "list or tuple"),
        (lambda: check_names("tasks", [], CHOICES), ValueError, "at least one"),
        (lambda: check_names("tasks", ["fit"], CHOICES), ValueError, "each of tasks"),
        (lambda: check_instance("config", [], dict), TypeError, "config must be a dict"),
        (lambda: check_text("name", 3), TypeError, "name must be a string"),
        (lambda: check_text("name", ""), ValueError, "must not be empty"),
        (lambda: check_number("rate", "1"), TypeError, "rate must be a number"),
        (lambda: check_number("rate", float("nan")), ValueError, "finite"),
        (lambda: check_number("rate", -1.0, positive=True), ValueError, "positive"),
        (lambda: check_fraction("share", None), TypeError, "share must be a number"),
        (lambda: check_fraction("share", 1), ValueError, "between 0 and 1"),
        (lambda: check_rank("batch", (2,), ("N", "C")), ValueError, "must be 2-D"),
        (lambda: check_directory("out", 3), TypeError, "out must be a path"),
        (lambda: check_images([BATCH]), TypeError, "numpy array"),
        (lambda: check_images(BATCH[:0]), ValueError, "at least one image"),
        (lambda: check_images(BATCH.astype(int)), TypeError, "floating point"),
        (lambda: check_images(BATCH, layout="NCHW"), ValueError, "layout must be one of"),
        (
            lambda: check_images(BATCH, layout="channels-last", channels=1),
            ValueError,
            r"channels-last \(N, H, W, 1\)",
        ),
        (lambda: check_labels(np.zeros(2), 2), TypeError, "integers"),
        (lambda: check_labels(np.zeros(3, dtype=int), 2), ValueError, r"shape \(2,\)"),
    ],
)
def test_a_wrong_type_is_a_type_error_and_a_wrong_value_a_value_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_checks_return_what_they_checked(tmp_path):
    assert check_int("n", np.int64(3)) == 3
    assert check_choice("task", "train", {"train": 1}) == "train"
    assert check_names("tasks", ["train", "predict"], CHOICES) == CHOICES
    assert check_fraction("share", 0.25) == 0.25
    assert check_directory("out", str(tmp_path)) == Path(tmp_path)
    checked = check_images(BATCH.astype(np.float64), layout="channels-first", channels=1)
    assert checked.dtype == np.float32
    assert checked.flags["C_CONTIGUOUS"]
