"""Train the digits CNN in either framework with the same data order and optimizer settings.

PyTorch gets an explicit loop (the idiomatic way); Keras gets ``compile`` and
``fit`` (its idiomatic way). What is kept equal, so the two runs can be
compared epoch by epoch:

* the mini-batches: epoch ``e`` visits the training images in the order
  :func:`epoch_order` gives for ``(seed, e)``, in both frameworks;
* the optimizer and its settings, including Adam's epsilon, whose defaults
  differ (PyTorch 1e-8, Keras 1e-7);
* the loss (cross-entropy on logits, mean over the batch) and the metric.

Both functions return a :class:`History` with per-epoch loss, accuracy and
wall time, and can report progress after each epoch.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from companion.digits import DigitsSplit, to_channels_last
from companion.validation import (
    check_choice,
    check_instance,
    check_int,
    check_number,
)

OPTIMIZERS = ("adam", "sgd")


@dataclass(frozen=True)
class TrainingConfig:
    """Settings shared by both frameworks' training runs."""

    epochs: int = 10
    batch_size: int = 32
    learning_rate: float = 1e-3
    optimizer: str = "adam"
    momentum: float = 0.9  # used by SGD only
    adam_epsilon: float = 1e-8
    seed: int = 0  # data order

    def __post_init__(self):
        check_int("epochs", self.epochs, minimum=1)
        check_int("batch_size", self.batch_size, minimum=1)
        check_int("seed", self.seed, minimum=0)
        check_number("learning_rate", self.learning_rate, positive=True)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)


@dataclass
class History:
    """Per-epoch results of one training run."""

    framework: str
    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


ProgressCallback = Callable[[int, History], None]


def print_progress(epoch: int, history: History) -> None:
    """A progress callback that prints one line per epoch."""
    print(
        f"[{history.framework}] epoch {epoch + 1}: "
        f"loss {history.train_loss[-1]:.4f}, accuracy {history.train_accuracy[-1]:.3f}, "
        f"val loss {history.val_loss[-1]:.4f}, val accuracy {history.val_accuracy[-1]:.3f} "
        f"({history.epoch_seconds[-1]:.2f} s)",
        flush=True,
    )


def epoch_order(size: int, seed: int, epoch: int) -> np.ndarray:
    """The order in which epoch ``epoch`` visits ``size`` training examples.

    >>> epoch_order(5, seed=0, epoch=0).tolist() == epoch_order(5, seed=0, epoch=0).tolist()
    True
    >>> sorted(epoch_order(5, seed=0, epoch=1).tolist())
    [0, 1, 2, 3, 4]
    """
    return np.random.default_rng([seed, epoch]).permutation(size)


def _check_split(split) -> None:
    check_instance(
        "split", split, DigitsSplit, what="a DigitsSplit (load_digits_split())"
    )


def evaluate_torch(
    model, images: np.ndarray, labels: np.ndarray
) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of a PyTorch model on channels-first images."""
    import torch

    model.eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(images))
        target = torch.from_numpy(labels)
        loss = torch.nn.functional.cross_entropy(logits, target).item()
        accuracy = (logits.argmax(dim=1) == target).float().mean().item()
    return loss, accuracy


def train_torch(
    model,
    split: DigitsSplit,
    config: TrainingConfig = TrainingConfig(),
    progress: ProgressCallback | None = None,
) -> History:
    """Train a PyTorch model in place with an explicit loop; return history."""
    import torch

    _check_split(split)
    check_instance("model", model, torch.nn.Module, what="a torch.nn.Module")
    if config.optimizer == "adam":
        optimizer = torch.optim.Adam(
            model.parameters(),
            lr=config.learning_rate,
            eps=config.adam_epsilon,
        )
    else:
        optimizer = torch.optim.SGD(
            model.parameters(),
            lr=config.learning_rate,
            momentum=config.momentum,
        )
    loss_fn = torch.nn.CrossEntropyLoss()
    images = torch.from_numpy(split.x_train)
    labels = torch.from_numpy(split.y_train)
    history = History("pytorch")
    for epoch in range(config.epochs):
        start = time.perf_counter()
        model.train()
        order = torch.from_numpy(epoch_order(len(images), config.seed, epoch))
        total_loss, correct = 0.0, 0
        for first in range(0, len(order), config.batch_size):
            batch = order[first : first + config.batch_size]
            optimizer.zero_grad()
            logits = model(images[batch])
            loss = loss_fn(logits, labels[batch])
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(batch)
            correct += (logits.argmax(dim=1) == labels[batch]).sum().item()
        history.epoch_seconds.append(time.perf_counter() - start)
        history.train_loss.append(total_loss / len(order))
        history.train_accuracy.append(correct / len(order))
        val_loss, val_accuracy = evaluate_torch(
            model, split.x_val, split.y_val
        )
        history.val_loss.append(val_loss)
        history.val_accuracy.append(val_accuracy)
        if progress is not None:
            progress(epoch, history)
    return history


def compile_keras(model, config: TrainingConfig) -> None:
    """``model.compile`` with the optimizer, loss and metric matching :func:`train_torch`."""
    import keras

    if config.optimizer == "adam":
        optimizer = keras.optimizers.Adam(
            learning_rate=config.learning_rate, epsilon=config.adam_epsilon
        )
    else:
        optimizer = keras.optimizers.SGD(
            learning_rate=config.learning_rate, momentum=config.momentum
        )
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )


def evaluate_keras(
    model, images: np.ndarray, labels: np.ndarray
) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of a compiled Keras model on channels-first images."""
    loss, accuracy = model.evaluate(
        to_channels_last(images), labels, verbose=0
    )
    return float(loss), float(accuracy)


def train_keras(
    model,
    split: DigitsSplit,
    config: TrainingConfig = TrainingConfig(),
    progress: ProgressCallback | None = None,
) -> History:
    """Compile and train a Keras model with ``fit``; return its history.

    Each epoch is one ``fit(..., epochs=1, shuffle=False)`` call on the
    training set put in :func:`epoch_order`, so Keras sees the same batches
    as :func:`train_torch`.
    """
    import keras

    _check_split(split)
    check_instance("model", model, keras.Model, what="a keras.Model")
    compile_keras(model, config)
    images = to_channels_last(split.x_train)
    x_val = to_channels_last(split.x_val)
    history = History("keras")
    for epoch in range(config.epochs):
        order = epoch_order(len(images), config.seed, epoch)
        start = time.perf_counter()
        result = model.fit(
            images[order],
            split.y_train[order],
            batch_size=config.batch_size,
            epochs=1,
            shuffle=False,
            verbose=0,
        )
        history.epoch_seconds.append(time.perf_counter() - start)
        history.train_loss.append(float(result.history["loss"][0]))
        history.train_accuracy.append(float(result.history["accuracy"][0]))
        val_loss, val_accuracy = model.evaluate(x_val, split.y_val, verbose=0)
        history.val_loss.append(float(val_loss))
        history.val_accuracy.append(float(val_accuracy))
        if progress is not None:
            progress(epoch, history)
    return history
