"""The porting chapter's two models, written once in each framework, and a short training.

A small residual CNN and a small GRU classifier for the 8 x 8 digits of
:mod:`companion.digits`: the CNN reads images, the GRU reads each image as
8 time steps of 8 pixels (one row per step). Each is trained briefly in
the framework it was written in, then moved to the other one by the
converter.

>>> import numpy as np
>>> images = np.zeros((2, 1, 8, 8), np.float32)
>>> as_sequences(images).shape  # (N, time steps, features)
(2, 8, 8)
"""

from __future__ import annotations

import numpy as np

from companion.validation import check_images, check_int, check_labels


def as_sequences(images: np.ndarray) -> np.ndarray:
    """Digits ``(N, 1, 8, 8)`` as sequences ``(N, 8, 8)``: row by row."""
    images = check_images(images, layout="channels-first", channels=1)
    return np.ascontiguousarray(images[:, 0])


def torch_residual_cnn(seed: int = 0):
    """Conv -> BatchNorm -> ReLU, a residual convolution, global mean, 10 logits."""
    import torch
    from torch import nn

    from companion.reproducibility import seeded_torch

    class ResidualCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(1, 16, 3, padding=1)
            self.norm = nn.BatchNorm2d(16)
            self.block = nn.Conv2d(16, 16, 3, padding=1)
            self.head = nn.Linear(16, 10)

        def forward(self, x):
            y = torch.relu(self.norm(self.stem(x)))
            y = torch.relu(y + self.block(y))  # the residual addition
            return self.head(y.mean(dim=(2, 3)))

    with seeded_torch(seed):
        return ResidualCNN()


def keras_residual_cnn(seed: int = 0):
    """The same architecture as a Keras functional model (channels last).

    Its BatchNormalization is given PyTorch's momentum and epsilon, so that
    the two models also train alike (see the porting chapter).
    """
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((8, 8, 1), name="images")
    y = layers.Conv2D(16, 3, padding="same", name="stem")(inputs)
    y = layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name="norm")(y)
    y = layers.ReLU(name="relu")(y)
    block = layers.Conv2D(16, 3, padding="same", name="block")(y)
    y = layers.Add(name="residual")([y, block])
    y = layers.ReLU(name="relu_out")(y)
    y = layers.GlobalAveragePooling2D(name="pool")(y)
    outputs = layers.Dense(10, name="head")(y)
    return keras.Model(inputs, outputs, name="residual_cnn")


def torch_gru_classifier(seed: int = 0):
    """A GRU over the image rows; the last step's state gives 10 logits."""
    from torch import nn

    from companion.reproducibility import seeded_torch

    class GRUClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(8, 16, batch_first=True)
            self.head = nn.Linear(16, 10)

        def forward(self, rows):
            sequence, _ = self.gru(rows)
            return self.head(sequence[:, -1])

    with seeded_torch(seed):
        return GRUClassifier()


def keras_gru_classifier(seed: int = 0):
    """The same classifier in Keras (``reset_after=True``, Keras 3's default)."""
    import keras

    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((8, 8), name="rows"),
            keras.layers.GRU(16, name="gru"),
            keras.layers.Dense(10, name="head"),
        ],
        name="gru_classifier",
    )


def train_torch(model, inputs, labels, *, epochs: int = 3, seed: int = 0):
    """A few epochs of Adam (learning rate 0.01, batches of 32); the model, trained."""
    import torch

    check_int("epochs", epochs, minimum=1)
    labels = check_labels(labels, len(inputs))
    generator = torch.Generator().manual_seed(seed)
    x, y = torch.from_numpy(inputs), torch.from_numpy(labels)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    model.train()
    for _ in range(epochs):
        for batch in torch.randperm(len(x), generator=generator).split(32):
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x[batch]), y[batch])
            loss.backward()
            optimizer.step()
    return model.eval()


def train_keras(model, inputs, labels, *, epochs: int = 3, seed: int = 0):
    """The same training with ``fit`` (cross-entropy from logits); the model, trained."""
    import keras

    check_int("epochs", epochs, minimum=1)
    labels = check_labels(labels, len(inputs))
    keras.utils.set_random_seed(seed)
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(inputs, labels, batch_size=32, epochs=epochs, verbose=0)
    return model


def accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    """The share of rows whose largest logit is the label.

    >>> accuracy(np.array([[0.0, 1.0], [2.0, 0.0]]), np.array([1, 1]))
    0.5
    """
    return float(np.mean(np.argmax(logits, axis=1) == labels))


def torch_logits(model, inputs: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        return model.eval()(torch.from_numpy(inputs)).numpy()


def keras_logits(model, inputs: np.ndarray) -> np.ndarray:
    return np.asarray(model(inputs, training=False))
