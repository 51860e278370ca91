"""A small transformer encoder classifier, defined once per framework with the same architecture.

The performance chapter needs a second model next to the digits CNN: one
whose time goes into matrix products, layer norms and attention rather than
into the framework's per-operation overhead. This is one pre-norm encoder
block over a sequence of feature vectors, then a mean over the sequence and
a linear classifier:

    x -> x + attention(layer_norm(x))
      -> x + dense(gelu(dense(layer_norm(x))))
      -> mean over the sequence -> dense (logits)

Each framework builds it from its standard layers (``nn.MultiheadAttention``
and ``keras.layers.MultiHeadAttention``, ``nn.LayerNorm`` and
``keras.layers.LayerNormalization``, exact GELU in both, layer-norm epsilon
1e-5 in both), so both have the same number of parameters. Inputs are
``(N, sequence_length, model_dim)`` float32 in both frameworks.

>>> config = TransformerConfig()
>>> config.head_dim
16
>>> parameter_count(config)
50634
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from companion.reproducibility import seeded_torch
from companion.validation import Sizes, check_instance, check_int

#: Layer-norm epsilon used by both frameworks (PyTorch's default; Keras's is 1e-3).
LAYER_NORM_EPSILON = 1e-5


@dataclass(frozen=True)
class TransformerConfig(Sizes):
    """Sizes of the encoder classifier."""

    sequence_length: int = 32
    model_dim: int = 64
    num_heads: int = 4
    feed_forward_dim: int = 256
    num_classes: int = 10

    def __post_init__(self):
        super().__post_init__()
        if self.model_dim % self.num_heads:
            raise ValueError(
                f"model_dim ({self.model_dim}) must be divisible by num_heads ({self.num_heads})"
            )

    @property
    def head_dim(self) -> int:
        return self.model_dim // self.num_heads


def parameter_count(config: TransformerConfig = TransformerConfig()) -> int:
    """Trainable parameters of the architecture (the same in both frameworks).

    >>> parameter_count(TransformerConfig(model_dim=8, num_heads=2, feed_forward_dim=16))
    690
    """
    d, f, c = config.model_dim, config.feed_forward_dim, config.num_classes
    layer_norms = 2 * (2 * d)
    attention = 4 * (d * d + d)  # query, key, value and output projections
    feed_forward = (d * f + f) + (f * d + d)
    head = d * c + c
    return layer_norms + attention + feed_forward + head


def synthetic_batch(
    config: TransformerConfig, batch_size: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Random inputs ``(batch_size, sequence_length, model_dim)`` and labels, from ``seed``.

    Timing needs realistic shapes, not meaningful data.

    >>> x, y = synthetic_batch(TransformerConfig(), batch_size=4)
    >>> x.shape, x.dtype, y.shape, y.dtype
    ((4, 32, 64), dtype('float32'), (4,), dtype('int64'))
    """
    check_instance("config", config, TransformerConfig)
    check_int("batch_size", batch_size, minimum=1)
    rng = np.random.default_rng(seed)
    shape = (batch_size, config.sequence_length, config.model_dim)
    x = rng.standard_normal(shape, dtype=np.float32)
    y = rng.integers(0, config.num_classes, size=batch_size, dtype=np.int64)
    return x, y


def build_torch_transformer(
    config: TransformerConfig = TransformerConfig(), seed: int | None = None
):
    """The encoder classifier as a ``torch.nn.Module``; ``(N, T, D)`` in, logits ``(N, C)`` out.

    With ``seed``, the initial weights are the same on every run.

    >>> import torch
    >>> model = build_torch_transformer(seed=0)
    >>> model(torch.zeros(2, 32, 64)).shape
    torch.Size([2, 10])
    >>> sum(p.numel() for p in model.parameters()) == parameter_count()
    True
    """
    from torch import nn

    check_instance("config", config, TransformerConfig)

    class EncoderClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            d = config.model_dim
            self.attention_norm = nn.LayerNorm(d, eps=LAYER_NORM_EPSILON)
            self.attention = nn.MultiheadAttention(
                d, config.num_heads, batch_first=True
            )
            self.feed_forward_norm = nn.LayerNorm(d, eps=LAYER_NORM_EPSILON)
            self.feed_forward = nn.Sequential(
                nn.Linear(d, config.feed_forward_dim),
                nn.GELU(),
                nn.Linear(config.feed_forward_dim, d),
            )
            self.classifier = nn.Linear(d, config.num_classes)

        def forward(self, x):
            h = self.attention_norm(x)
            x = x + self.attention(h, h, h, need_weights=False)[0]
            x = x + self.feed_forward(self.feed_forward_norm(x))
            return self.classifier(x.mean(dim=1))

    with seeded_torch(seed):
        return EncoderClassifier()


def build_keras_transformer(
    config: TransformerConfig = TransformerConfig(), seed: int | None = None
):
    """The encoder classifier as a functional ``keras.Model``; ``(N, T, D)`` in, logits out.

    >>> import numpy as np
    >>> model = build_keras_transformer(seed=0)
    >>> model(np.zeros((2, 32, 64), dtype="float32")).shape
    TensorShape([2, 10])
    >>> model.count_params() == parameter_count()
    True
    """
    import keras

    check_instance("config", config, TransformerConfig)
    layers = keras.layers

    def kernel_init(offset: int):
        return keras.initializers.GlorotUniform(
            seed=None if seed is None else seed + offset
        )

    d = config.model_dim
    inputs = keras.Input(shape=(config.sequence_length, d))
    h = layers.LayerNormalization(epsilon=LAYER_NORM_EPSILON)(inputs)
    attended = layers.MultiHeadAttention(
        config.num_heads,
        key_dim=config.head_dim,
        kernel_initializer=kernel_init(0),
    )(h, h)
    x = layers.Add()([inputs, attended])
    h = layers.LayerNormalization(epsilon=LAYER_NORM_EPSILON)(x)
    h = layers.Dense(
        config.feed_forward_dim,
        activation=keras.activations.gelu,
        kernel_initializer=kernel_init(1),
    )(h)
    h = layers.Dense(d, kernel_initializer=kernel_init(2))(h)
    x = layers.Add()([x, h])
    pooled = layers.GlobalAveragePooling1D()(x)
    logits = layers.Dense(
        config.num_classes, kernel_initializer=kernel_init(3)
    )(pooled)
    return keras.Model(inputs, logits, name="encoder_classifier")
