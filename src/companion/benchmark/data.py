"""The fixed batch every mode of a (model, task) pair is timed on."""

from __future__ import annotations

import numpy as np

from companion.benchmark.modes import MODELS, TASKS
from companion.benchmark.settings import DEFAULT_TRANSFORMER
from companion.digits import load_digits_split
from companion.transformer import TransformerConfig, synthetic_batch
from companion.validation import check_choice, check_int


def benchmark_batch(
    model: str,
    task: str,
    batch_size: int,
    config: TransformerConfig = DEFAULT_TRANSFORMER,
) -> tuple[np.ndarray, np.ndarray]:
    """The fixed batch a (model, task) pair is timed on: images or sequences, and labels.

    CNN batches are digits (training images for ``train``, test images for
    ``predict``, repeated cyclically if the batch is larger than the split),
    channels-first; transformer batches are random sequences.

    >>> x, y = benchmark_batch("cnn", "train", 64)
    >>> x.shape, y.shape
    ((64, 1, 8, 8), (64,))
    >>> benchmark_batch("cnn", "predict", 1000)[0].shape
    (1000, 1, 8, 8)
    """
    check_choice("model", model, MODELS)
    check_choice("task", task, TASKS)
    check_int("batch_size", batch_size, minimum=1)
    if model == "transformer":
        return synthetic_batch(
            config, batch_size, seed=0 if task == "train" else 1
        )
    split = load_digits_split(seed=0)
    images, labels = (
        (split.x_train, split.y_train)
        if task == "train"
        else (split.x_test, split.y_test)
    )
    return (
        np.resize(images, (batch_size, *images.shape[1:])),
        np.resize(labels, (batch_size,)),
    )
