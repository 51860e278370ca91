import numpy as np
import pytest
import tensorflow as tf
import torch

from companion.reproducibility import pin_threads, seed_everything


def test_seeding_repeats_torch_and_tensorflow_draws():
    seed_everything(123)
    first = (torch.rand(3), tf.random.uniform([3]).numpy(), np.random.rand(3))  # noqa: NPY002
    seed_everything(123)
    second = (torch.rand(3), tf.random.uniform([3]).numpy(), np.random.rand(3))  # noqa: NPY002
    assert torch.equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    np.testing.assert_array_equal(first[2], second[2])


def test_different_seeds_give_different_draws():
    seed_everything(1, frameworks=("pytorch",))
    a = torch.rand(4)
    seed_everything(2, frameworks=("pytorch",))
    assert not torch.equal(a, torch.rand(4))


@pytest.mark.parametrize(
    ("seed", "error", "message"),
    [
        ("7", TypeError, "seed must be an int"),
        (True, TypeError, "seed must be an int"),
        (-1, ValueError, r"seed must be in \[0, 2\*\*32\)"),
        (2**32, ValueError, "seed must be in"),
    ],
)
def test_seed_validation(seed, error, message):
    with pytest.raises(error, match=message):
        seed_everything(seed, frameworks=())


def test_unknown_framework_is_named_in_the_error():
    with pytest.raises(ValueError, match=r"each of frameworks must be one of .*, got 'jax'"):
        seed_everything(0, frameworks=("jax",))


def test_framework_given_as_a_string_is_rejected():
    with pytest.raises(TypeError, match="tuple of names"):
        seed_everything(0, frameworks="pytorch")


def test_pin_threads_sets_torch_threads():
    before = torch.get_num_threads()
    try:
        assert pin_threads(1, frameworks=("pytorch",)) == {"torch": 1}
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize(
    ("count", "error"), [(0, ValueError), (1.5, TypeError), (False, TypeError)]
)
def test_pin_threads_validation(count, error):
    with pytest.raises(error):
        pin_threads(count, frameworks=())


def test_pin_threads_after_tensorflow_started_explains_why_it_fails():
    tf.constant(1.0) + 1  # starts TensorFlow's runtime
    with pytest.raises(RuntimeError, match="before running any TensorFlow op"):
        pin_threads(1, frameworks=("tensorflow",))


def test_prepare_chapter_checks_its_arguments():
    from companion.reproducibility import prepare_chapter

    with pytest.raises(ValueError, match="seed must be in"):
        prepare_chapter(seed=-1)
    with pytest.raises(TypeError, match="threads must be an int"):
        prepare_chapter(threads=1.5)


def test_prepare_chapter_leaves_the_frameworks_as_eager_seeding_would():
    """Configured as each loads, the frameworks draw what they draw when
    seeded after loading; loading one does not shift Python's or NumPy's draws."""
    from companion.processes import run_python

    draws = (
        "import random, numpy as np, torch, keras\n"
        "dense = keras.layers.Dense(2)\n"
        "dense.build((None, 3))\n"
        "print(random.random(), np.random.rand(), torch.randn(2).tolist(),"
        " np.asarray(dense.kernel).ravel().tolist(), torch.get_num_threads())\n"
    )
    eager = (
        "from companion.reproducibility import pin_threads, seed_everything\n"
        "pin_threads(1)\n"
        "seed_everything(0)\n"
    )
    lazy = "from companion.reproducibility import prepare_chapter\nprepare_chapter()\n"
    eager_draws = run_python(["-c", eager + draws]).stdout
    lazy_draws = run_python(["-c", lazy + draws]).stdout
    assert lazy_draws == eager_draws
    assert lazy_draws.strip().endswith(" 1")
