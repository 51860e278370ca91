"""An early-exit classifier: each input decides at run time how deep it goes.

The network is a stem followed by ``blocks`` hidden layers, with a small
classifier ("exit") after each one. An input leaves at the first exit whose
softmax confidence reaches ``threshold``; hard inputs run through every
block. Which path an input takes depends on its *values*, not just its
shape, so this is the case that graph capture finds hardest::

    h = relu(x W_stem + b_stem)
    for k in 1 .. blocks:
        h = relu(h W_k + b_k)
        logits = h V_k + c_k
        if max(softmax(logits)) >= threshold: stop, report depth k

:func:`build_torch_early_exit` writes it with a Python ``for`` and ``if``
over one input at a time. :func:`build_tf_early_exit` holds the same
weights stacked per block, so that its loop can run over ``tf.range`` and
AutoGraph can turn the loop and its ``break`` into one graph ``while`` loop.

>>> config = EarlyExitConfig(features=2, hidden=4, classes=3, blocks=2)
>>> model = build_torch_early_exit(config, seed=0)
>>> import torch
>>> logits, depths = model(torch.zeros(5, 2))
>>> logits.shape, depths.shape
(torch.Size([5, 3]), torch.Size([5]))
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from companion.recurrent import set_tf_variables
from companion.reproducibility import seeded_torch
from companion.validation import (
    Sizes,
    check_fraction,
    check_instance,
    check_keys,
    check_rank,
    check_shapes,
)

WEIGHT_NAMES = (
    "stem_kernel",
    "stem_bias",
    "block_kernels",
    "block_biases",
    "exit_kernels",
    "exit_biases",
)


@dataclass(frozen=True)
class EarlyExitConfig(Sizes):
    """Sizes of the early-exit classifier and its confidence threshold."""

    features: int = 4
    hidden: int = 16
    classes: int = 3
    blocks: int = 3
    threshold: float = 0.9

    def __post_init__(self):
        super().__post_init__()
        check_fraction("threshold", self.threshold, allow_one=True)


def check_batch(batch, features: int) -> None:
    """A batch must be 2-D ``(inputs, features)`` with at least one input."""
    shape = getattr(batch, "shape", None)
    if shape is None:
        raise TypeError(
            f"batch must be an array or tensor, got {type(batch).__name__}"
        )
    shape = check_rank("batch", shape, ("inputs", "features"))
    if shape[0] == 0:
        raise ValueError("batch is empty: pass at least one input")
    if shape[1] != features:
        raise ValueError(
            f"batch has {shape[1]} features per input; the model expects {features}"
        )


@functools.cache
def _torch_early_exit_class():
    import torch
    from torch import nn

    class TorchEarlyExit(nn.Module):
        """Stem, ``blocks`` hidden layers, one exit classifier after each block."""

        def __init__(self, config: EarlyExitConfig):
            super().__init__()
            self.config = config
            self.stem = nn.Linear(config.features, config.hidden)
            self.blocks = nn.ModuleList(
                nn.Linear(config.hidden, config.hidden)
                for _ in range(config.blocks)
            )
            self.exits = nn.ModuleList(
                nn.Linear(config.hidden, config.classes)
                for _ in range(config.blocks)
            )

        def forward_one(self, x):
            """Logits and exit depth for one input of shape ``(features,)``."""
            hidden = torch.relu(self.stem(x))
            depth = 0
            for block, exit_head in zip(self.blocks, self.exits, strict=True):
                depth += 1
                hidden = torch.relu(block(hidden))
                logits = exit_head(hidden)
                if (
                    torch.softmax(logits, dim=-1).max()
                    >= self.config.threshold
                ):
                    break  # confident enough: skip the remaining blocks
            return logits, depth

        def forward(self, batch):
            check_batch(batch, self.config.features)
            results = [self.forward_one(x) for x in batch]
            logits = torch.stack([logits for logits, _ in results])
            depths = torch.tensor([depth for _, depth in results])
            return logits, depths

    return TorchEarlyExit


def build_torch_early_exit(
    config: EarlyExitConfig = EarlyExitConfig(), seed: int | None = None
):
    """The PyTorch model; ``model(batch)`` returns ``(logits, depths)``."""

    check_instance("config", config, EarlyExitConfig)
    with seeded_torch(seed):
        return _torch_early_exit_class()(config)


def torch_early_exit_weights(model) -> dict[str, np.ndarray]:
    """The weights in TensorFlow layout: kernels ``(inputs, outputs)``, blocks stacked."""
    if type(model) is not _torch_early_exit_class():
        raise TypeError(
            f"expected a model from build_torch_early_exit, got {type(model).__name__}"
        )

    def kernel(layer):
        return layer.weight.detach().numpy().T.copy()

    def bias(layer):
        return layer.bias.detach().numpy().copy()

    return {
        "stem_kernel": kernel(model.stem),
        "stem_bias": bias(model.stem),
        "block_kernels": np.stack([kernel(b) for b in model.blocks]),
        "block_biases": np.stack([bias(b) for b in model.blocks]),
        "exit_kernels": np.stack([kernel(e) for e in model.exits]),
        "exit_biases": np.stack([bias(e) for e in model.exits]),
    }


def _config_from_weights(weights, threshold: float) -> EarlyExitConfig:
    check_keys("weights", weights, WEIGHT_NAMES)
    features, hidden = np.shape(weights["stem_kernel"])
    blocks, _, classes = np.shape(weights["exit_kernels"])
    expected = {
        "stem_kernel": (features, hidden),
        "stem_bias": (hidden,),
        "block_kernels": (blocks, hidden, hidden),
        "block_biases": (blocks, hidden),
        "exit_kernels": (blocks, hidden, classes),
        "exit_biases": (blocks, classes),
    }
    check_shapes("weights", weights, expected)
    return EarlyExitConfig(
        int(features), int(hidden), int(classes), int(blocks), threshold
    )


@functools.cache
def _tf_early_exit_class():
    import tensorflow as tf

    class TFEarlyExit(tf.Module):
        """The same model; ``one`` handles one input, eagerly or traced by ``tf.function``."""

        def __init__(self, weights: dict, threshold: float):
            super().__init__(name="early_exit")
            self.config = _config_from_weights(weights, threshold)
            set_tf_variables(self, weights, WEIGHT_NAMES)
            one_input = tf.TensorSpec([self.config.features], tf.float32)
            self.one_graph = tf.function(self.one, input_signature=[one_input])

        def one(self, x):
            """Logits ``(classes,)`` and exit depth for one input ``(features,)``."""
            hidden = tf.nn.relu(x[None] @ self.stem_kernel + self.stem_bias)
            logits = tf.zeros([1, self.config.classes])
            depth = tf.constant(0)
            for block in tf.range(
                self.config.blocks
            ):  # a tensor loop: AutoGraph converts it
                hidden = tf.nn.relu(
                    hidden @ self.block_kernels[block]
                    + self.block_biases[block]
                )
                logits = (
                    hidden @ self.exit_kernels[block] + self.exit_biases[block]
                )
                depth = block + 1
                if (
                    tf.reduce_max(tf.nn.softmax(logits))
                    >= self.config.threshold
                ):
                    break
            return logits[0], depth

        def __call__(self, batch, *, graph: bool = False):
            """``(logits, depths)`` for a batch, one input at a time."""
            check_batch(batch, self.config.features)
            one = self.one_graph if graph else self.one
            results = [
                one(x)
                for x in tf.unstack(tf.convert_to_tensor(batch, tf.float32))
            ]
            return tf.stack([r[0] for r in results]), tf.stack(
                [r[1] for r in results]
            )

    return TFEarlyExit


def build_tf_early_exit(
    weights: dict, threshold: float = EarlyExitConfig.threshold
):
    """A ``tf.Module``: ``model(batch)`` eagerly, ``model(batch, graph=True)`` traced.

    >>> torch_model = build_torch_early_exit(EarlyExitConfig(2, 4, 3, 2), seed=0)
    >>> model = build_tf_early_exit(torch_early_exit_weights(torch_model))
    >>> logits, depths = model(np.zeros((5, 2), np.float32), graph=True)
    >>> logits.shape, depths.shape
    (TensorShape([5, 3]), TensorShape([5]))
    """
    _config_from_weights(weights, threshold)
    return _tf_early_exit_class()(weights, threshold)
