"""Training the CNN in either framework on the same batches, with the same settings."""

import numpy as np
import pytest

from companion.cnn import build_keras_cnn, build_torch_cnn
from companion.training import History, TrainingConfig, epoch_order, train_keras, train_torch

QUICK = TrainingConfig(epochs=2, batch_size=64, learning_rate=3e-3)


def test_torch_training_learns_and_repeats(split):
    first = train_torch(build_torch_cnn(seed=1), split, QUICK)
    second = train_torch(build_torch_cnn(seed=1), split, QUICK)
    assert first.train_loss == second.train_loss  # same weights, same batches, CPU: identical
    assert first.train_loss[-1] < first.train_loss[0]
    assert first.val_accuracy[-1] > 0.3  # chance is 0.1
    assert len(first.epoch_seconds) == 2


def test_keras_training_learns(split):
    history = train_keras(build_keras_cnn(seed=1), split, QUICK)
    assert history.framework == "keras"
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.val_accuracy[-1] > 0.3


def test_progress_is_reported_once_per_epoch(split):
    seen = []
    train_torch(
        build_torch_cnn(seed=0), split, QUICK, progress=lambda epoch, _history: seen.append(epoch)
    )
    assert seen == [0, 1]


def test_epoch_orders_differ_between_epochs_but_not_between_calls():
    assert not np.array_equal(epoch_order(100, 0, 0), epoch_order(100, 0, 1))
    np.testing.assert_array_equal(epoch_order(100, 3, 2), epoch_order(100, 3, 2))


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"epochs": 0}, ValueError),
        ({"batch_size": 2.0}, TypeError),
        ({"optimizer": "lbfgs"}, ValueError),
        ({"learning_rate": 0}, ValueError),
        ({"seed": -1}, ValueError),
    ],
)
def test_training_config_validation(kwargs, error):
    with pytest.raises(error):
        TrainingConfig(**kwargs)


def test_training_rejects_wrong_inputs(split):
    with pytest.raises(TypeError, match="DigitsSplit"):
        train_torch(build_torch_cnn(), (split.x_train, split.y_train), QUICK)
    with pytest.raises(TypeError, match=r"torch\.nn\.Module"):
        train_torch(build_keras_cnn(), split, QUICK)
    with pytest.raises(TypeError, match=r"keras\.Model"):
        train_keras(build_torch_cnn(), split, QUICK)


def test_history_serializes():
    assert History("pytorch").as_dict()["framework"] == "pytorch"
