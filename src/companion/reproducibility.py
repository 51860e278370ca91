"""Seed every random source, and pin thread counts, in both frameworks.

>>> import random
>>> seed_everything(7, frameworks=())
7
>>> first = random.random()
>>> _ = seed_everything(7, frameworks=())
>>> random.random() == first
True
"""

from __future__ import annotations

import os
import random

import numpy as np

from companion.validation import check_int

FRAMEWORKS = ("torch", "tensorflow")


def _check_frameworks(frameworks) -> tuple[str, ...]:
    if isinstance(frameworks, str):
        raise TypeError(
            f"frameworks must be a tuple of names, e.g. ({frameworks!r},)"
        )
    unknown = [name for name in frameworks if name not in FRAMEWORKS]
    if unknown:
        raise ValueError(
            f"unknown framework(s) {unknown}; expected any of {FRAMEWORKS}"
        )
    return tuple(frameworks)


def seed_everything(
    seed: int, frameworks: tuple[str, ...] = FRAMEWORKS
) -> int:
    """Seed Python, NumPy and the given frameworks; return the seed.

    For TensorFlow this also turns on op determinism, which makes the few ops
    that pick a nondeterministic kernel raise or choose a deterministic one.
    PyTorch is set to use deterministic algorithms where they exist and to
    warn (not fail) where they do not.
    """
    check_int("seed", seed)
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    frameworks = _check_frameworks(frameworks)
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    # The legacy global generator is what np.random.rand & co. draw from.
    np.random.seed(seed)  # noqa: NPY002
    if "torch" in frameworks:
        import torch

        torch.manual_seed(seed)
        torch.use_deterministic_algorithms(True, warn_only=True)
    if "tensorflow" in frameworks:
        import keras
        import tensorflow as tf

        keras.utils.set_random_seed(seed)
        tf.config.experimental.enable_op_determinism()
    return seed


def pin_threads(
    count: int, frameworks: tuple[str, ...] = FRAMEWORKS
) -> dict[str, int]:
    """Use ``count`` threads for intra-op work in each framework; return what is set.

    TensorFlow accepts this only before its runtime starts (before the first
    op runs); afterwards it raises ``RuntimeError``, which we turn into a
    clear message.
    """
    check_int("count", count, minimum=1)
    frameworks = _check_frameworks(frameworks)
    settings = {}
    if "torch" in frameworks:
        import torch

        torch.set_num_threads(count)
        settings["torch"] = torch.get_num_threads()
    if "tensorflow" in frameworks:
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(count)
        except RuntimeError as error:
            raise RuntimeError(
                "TensorFlow's thread pool is fixed once its runtime has started; "
                "call pin_threads before running any TensorFlow op"
            ) from error
        settings["tensorflow"] = (
            tf.config.threading.get_intra_op_parallelism_threads()
        )
    return settings
