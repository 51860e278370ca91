"""One small CNN for the 8x8 digits, defined once per framework with the same architecture.

Both models compute the same function when given the same weights:

    conv 3x3, 8 filters, same padding -> ReLU -> max-pool 2x2
    conv 3x3, 16 filters, same padding -> ReLU -> max-pool 2x2
    flatten (16 x 2 x 2 = 64) -> dense 32 -> ReLU -> dense 10 (logits)

The PyTorch model takes channels-first input ``(N, 1, 8, 8)``; the Keras
model takes channels-last input ``(N, 8, 8, 1)``, each framework's default.
The one place where that matters beyond the input is the flatten: PyTorch
flattens in (channel, row, column) order and Keras in (row, column,
channel) order, so the first dense layer sees its inputs in a different
order. Moving weights between the two must permute that layer's rows.

>>> config = CNNConfig()
>>> config.flat_features
64
>>> parameter_count(config)
3658
"""

from __future__ import annotations

from dataclasses import dataclass

from companion.digits import IMAGE_SIZE, NUM_CLASSES
from companion.reproducibility import seeded_torch
from companion.validation import check_instance, check_int

#: The CNN's number of convolutions (each followed by a ReLU and a 2x2 pool).
CONV_LAYERS = 2


@dataclass(frozen=True)
class CNNConfig:
    """Layer sizes of the digits CNN."""

    conv_channels: tuple[int, int] = (8, 16)
    hidden_units: int = 32
    num_classes: int = NUM_CLASSES
    image_size: int = IMAGE_SIZE

    def __post_init__(self):
        sizes = [
            *self.conv_channels,
            self.hidden_units,
            self.num_classes,
            self.image_size,
        ]
        if len(self.conv_channels) != CONV_LAYERS:
            raise ValueError(
                f"conv_channels must hold two sizes, got {self.conv_channels}"
            )
        for size in sizes:
            check_int("every layer size", size, minimum=1)
        if self.image_size % 4:
            raise ValueError(
                f"image_size must be divisible by 4 (two 2x2 pools), got {self.image_size}"
            )

    @property
    def pooled_size(self) -> int:
        return self.image_size // 4

    @property
    def flat_features(self) -> int:
        return self.conv_channels[1] * self.pooled_size**2


def parameter_count(config: CNNConfig = CNNConfig()) -> int:
    """Trainable parameters of the architecture (the same in both frameworks)."""
    c1, c2 = config.conv_channels
    conv = (1 * 9 + 1) * c1 + (c1 * 9 + 1) * c2
    dense = (config.flat_features + 1) * config.hidden_units
    dense += (config.hidden_units + 1) * config.num_classes
    return conv + dense


def build_torch_cnn(config: CNNConfig = CNNConfig(), seed: int | None = None):
    """The CNN as a ``torch.nn.Sequential``; input ``(N, 1, 8, 8)``, output logits ``(N, 10)``.

    With ``seed``, the initial weights come from a generator seeded with it, so
    they are the same on every run (PyTorch's default initialization).

    >>> import torch
    >>> model = build_torch_cnn(seed=0)
    >>> model(torch.zeros(2, 1, 8, 8)).shape
    torch.Size([2, 10])
    >>> sum(p.numel() for p in model.parameters())
    3658
    """
    from torch import nn

    check_instance("config", config, CNNConfig)
    c1, c2 = config.conv_channels
    with seeded_torch(seed):
        return nn.Sequential(
            nn.Conv2d(1, c1, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(config.flat_features, config.hidden_units),
            nn.ReLU(),
            nn.Linear(config.hidden_units, config.num_classes),
        )


def build_keras_cnn(config: CNNConfig = CNNConfig(), seed: int | None = None):
    """The CNN as a ``keras.Sequential``; input ``(N, 8, 8, 1)``, output logits ``(N, 10)``.

    With ``seed``, each layer's initializers are seeded (Keras's default
    initializers: Glorot uniform kernels, zero biases).

    >>> import numpy as np
    >>> model = build_keras_cnn(seed=0)
    >>> model(np.zeros((2, 8, 8, 1), dtype="float32")).shape
    TensorShape([2, 10])
    >>> model.count_params()
    3658
    """
    import keras

    check_instance("config", config, CNNConfig)
    c1, c2 = config.conv_channels

    def kernel_init(offset: int):
        return keras.initializers.GlorotUniform(
            seed=None if seed is None else seed + offset
        )

    size = config.image_size
    return keras.Sequential(
        [
            keras.Input(shape=(size, size, 1)),
            keras.layers.Conv2D(
                c1, 3, padding="same", kernel_initializer=kernel_init(0)
            ),
            keras.layers.ReLU(),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(
                c2, 3, padding="same", kernel_initializer=kernel_init(1)
            ),
            keras.layers.ReLU(),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(
                config.hidden_units, kernel_initializer=kernel_init(2)
            ),
            keras.layers.ReLU(),
            keras.layers.Dense(
                config.num_classes, kernel_initializer=kernel_init(3)
            ),
        ],
        name="digits_cnn",
    )
