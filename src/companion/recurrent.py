"""A small recurrent classifier over sequences of different lengths, in both frameworks.

The model reads one sequence of feature vectors step by step with a tanh
(Elman) recurrent cell and classifies it from the last hidden state::

    h_0 = 0
    h_t = tanh(x_t W_ih + h_(t-1) W_hh + b)        for t = 1 .. T (T differs per sequence)
    logits = h_T W_out + b_out

The same function is written four ways:

- :func:`build_torch_rnn`: a PyTorch module whose ``forward`` loops over the
  sequences and their steps in plain Python; no padding anywhere.
- :func:`build_tf_rnn` gives a ``tf.Module`` with two entry points:
  ``eager`` (the same Python loops over TensorFlow ops) and ``ragged`` (a
  ``tf.function`` over a ``tf.RaggedTensor``, whose loops AutoGraph turns into
  graph ``while`` loops).
- :func:`build_keras_masked_rnn`: Keras's ``SimpleRNN`` on a padded batch,
  told which steps are real by a boolean mask.

Weights move between them with :func:`torch_rnn_weights`, which returns the
TensorFlow layout (kernels as ``(inputs, outputs)``, the two PyTorch biases
summed into one).

>>> sequences = example_sequences(lengths=(3, 1, 2), features=2, seed=0)
>>> [s.shape for s in sequences]
[(3, 2), (1, 2), (2, 2)]
>>> padded, lengths = pad_sequences(sequences)
>>> padded.shape, lengths.tolist()
((3, 3, 2), [3, 1, 2])
>>> length_mask(lengths, 3).astype(int).tolist()
[[1, 1, 1], [1, 0, 0], [1, 1, 0]]
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from companion.reproducibility import seeded_torch
from companion.validation import (
    Sizes,
    check_instance,
    check_int,
    check_keys,
    check_rank,
    check_shapes,
)

WEIGHT_NAMES = (
    "input_kernel",
    "recurrent_kernel",
    "bias",
    "head_kernel",
    "head_bias",
)


@dataclass(frozen=True)
class RNNConfig(Sizes):
    """Sizes of the recurrent classifier."""

    features: int = 3
    hidden: int = 8
    classes: int = 2


def _shape(item) -> tuple:
    shape = getattr(item, "shape", None)
    if shape is None:
        raise TypeError(
            f"each sequence must be an array or tensor of shape (steps, features), "
            f"got {type(item).__name__}"
        )
    return tuple(shape)


def check_sequences(sequences, features: int | None = None) -> list:
    """Validate a list of ``(steps, features)`` arrays or tensors; return it as a list.

    Every sequence must be 2-D, have at least one step, and share the same
    number of features (``features`` if given).

    >>> check_sequences([np.zeros((4, 2))], features=3)
    Traceback (most recent call last):
    ...
    ValueError: sequence 0 has 2 features per step; the model expects 3
    """
    if isinstance(sequences, np.ndarray) or hasattr(sequences, "dtype"):
        raise TypeError(
            "sequences must be a list of (steps, features) arrays, one per sequence, "
            "not a single array; to pass a padded batch use pad_sequences and the masked model"
        )
    check_instance(
        "sequences", sequences, (list, tuple), what="a list or tuple"
    )
    if not sequences:
        raise ValueError(
            "sequences is empty: pass at least one (steps, features) sequence"
        )
    expected = features
    for index, sequence in enumerate(sequences):
        shape = _shape(sequence)
        check_rank(f"sequence {index}", shape, ("steps", "features"))
        if shape[0] is not None and shape[0] < 1:
            raise ValueError(
                f"sequence {index} has no steps; every sequence needs at least one"
            )
        if expected is None:
            expected = shape[1]
        elif shape[1] != expected:
            where = (
                "the model expects"
                if features is not None
                else "sequence 0 has"
            )
            raise ValueError(
                f"sequence {index} has {shape[1]} features per step; {where} {expected}"
            )
    return list(sequences)


def example_sequences(
    lengths=(5, 2, 7, 3), features: int = 3, seed: int = 0
) -> list[np.ndarray]:
    """Random float32 sequences with the given numbers of steps (reproducible by ``seed``)."""
    lengths = list(lengths)
    if not lengths:
        raise ValueError("lengths is empty: give at least one sequence length")
    for n in lengths:
        check_int("each length", n, minimum=1)
    RNNConfig(features=features)  # validates features
    generator = np.random.default_rng(seed)
    return [
        generator.standard_normal((n, features)).astype(np.float32)
        for n in lengths
    ]


def pad_sequences(
    sequences, features: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Stack sequences into a zero-padded ``(batch, max_steps, features)`` array and lengths."""
    sequences = [
        np.asarray(s, dtype=np.float32)
        for s in check_sequences(sequences, features)
    ]
    lengths = np.array([len(s) for s in sequences], dtype=np.int64)
    padded = np.zeros(
        (len(sequences), lengths.max(), sequences[0].shape[1]),
        dtype=np.float32,
    )
    for row, sequence in enumerate(sequences):
        padded[row, : len(sequence)] = sequence
    return padded, lengths


def length_mask(lengths, max_steps: int) -> np.ndarray:
    """Boolean ``(batch, max_steps)`` mask, True where a step is real rather than padding."""
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or lengths.size == 0:
        raise ValueError(
            f"lengths must be a non-empty 1-D array, got shape {lengths.shape}"
        )
    if not np.issubdtype(lengths.dtype, np.integer):
        raise TypeError(
            f"lengths must hold integers, got dtype {lengths.dtype}"
        )
    if lengths.min() < 1 or lengths.max() > max_steps:
        raise ValueError(
            f"every length must be between 1 and max_steps={max_steps}, got {lengths.tolist()}"
        )
    return np.arange(max_steps)[None, :] < lengths[:, None]


def check_padded_batch(padded, lengths) -> None:
    """Check that ``lengths`` fits a padded ``(batch, max_steps, features)`` batch."""
    shape = check_rank(
        "padded batch", _shape(padded), ("batch", "max_steps", "features")
    )
    lengths = np.asarray(lengths)
    if lengths.shape != (shape[0],):
        raise ValueError(
            f"lengths has shape {lengths.shape} but the padded batch holds {shape[0]} "
            "sequences: give one length per sequence"
        )
    length_mask(lengths, shape[1])


@functools.cache
def _torch_classifier_class():
    import torch
    from torch import nn

    class TorchSequenceClassifier(nn.Module):
        """Elman RNN + linear head; ``forward`` takes a list of ``(steps, features)`` tensors."""

        def __init__(self, config: RNNConfig):
            super().__init__()
            self.config = config
            self.cell = nn.RNNCell(
                config.features, config.hidden, nonlinearity="tanh"
            )
            self.head = nn.Linear(config.hidden, config.classes)

        def forward(self, sequences):
            sequences = check_sequences(sequences, self.config.features)
            last_states = []
            for (
                sequence
            ) in sequences:  # one sequence at a time, each its own length
                hidden = sequence.new_zeros(1, self.config.hidden)
                for step in range(len(sequence)):
                    hidden = self.cell(sequence[step : step + 1], hidden)
                last_states.append(hidden)
            return self.head(torch.cat(last_states))

    return TorchSequenceClassifier


def build_torch_rnn(config: RNNConfig = RNNConfig(), seed: int | None = None):
    """The PyTorch classifier; ``model(list_of_tensors)`` returns logits ``(batch, classes)``.

    >>> import torch
    >>> model = build_torch_rnn(RNNConfig(features=2, hidden=4, classes=3), seed=0)
    >>> model([torch.zeros(5, 2), torch.ones(1, 2)]).shape
    torch.Size([2, 3])
    """

    check_instance("config", config, RNNConfig, what="an RNNConfig")
    with seeded_torch(seed):
        return _torch_classifier_class()(config)


def torch_rnn_weights(model) -> dict[str, np.ndarray]:
    """The PyTorch model's weights in TensorFlow layout, keyed by :data:`WEIGHT_NAMES`.

    PyTorch stores ``weight_ih`` as ``(hidden, features)`` and applies
    ``x @ weight_ih.T``; Keras stores ``kernel`` as ``(features, hidden)`` and
    applies ``x @ kernel``: a transpose. PyTorch has two biases (input and
    recurrent) that are always added together; Keras has one.
    """
    if type(model) is not _torch_classifier_class():
        raise TypeError(
            f"expected a model from build_torch_rnn, got {type(model).__name__}"
        )
    cell, head = model.cell, model.head
    as_numpy = lambda t: t.detach().cpu().numpy().copy()  # noqa: E731
    return {
        "input_kernel": as_numpy(cell.weight_ih.T),
        "recurrent_kernel": as_numpy(cell.weight_hh.T),
        "bias": as_numpy(cell.bias_ih + cell.bias_hh),
        "head_kernel": as_numpy(head.weight.T),
        "head_bias": as_numpy(head.bias),
    }


def _check_weights(weights) -> RNNConfig:
    check_keys("weights", weights, WEIGHT_NAMES)
    features, hidden = np.shape(weights["input_kernel"])
    classes = np.shape(weights["head_kernel"])[1]
    expected = {
        "input_kernel": (features, hidden),
        "recurrent_kernel": (hidden, hidden),
        "bias": (hidden,),
        "head_kernel": (hidden, classes),
        "head_bias": (classes,),
    }
    check_shapes("weights", weights, expected)
    return RNNConfig(
        features=int(features), hidden=int(hidden), classes=int(classes)
    )


def to_ragged(sequences):
    """A ``tf.RaggedTensor`` of shape ``(batch, None, features)`` holding the sequences."""
    import tensorflow as tf

    sequences = [
        np.asarray(s, dtype=np.float32) for s in check_sequences(sequences)
    ]
    return tf.RaggedTensor.from_row_lengths(
        np.concatenate(sequences), [len(s) for s in sequences]
    )


def set_tf_variables(module, weights: dict, names) -> None:
    """Give a ``tf.Module`` one float32 ``tf.Variable`` attribute per weight in ``names``."""
    import tensorflow as tf

    for name in names:
        setattr(
            module,
            name,
            tf.Variable(np.asarray(weights[name], np.float32), name=name),
        )


@functools.cache
def _tf_classifier_class():
    import tensorflow as tf

    class TFSequenceClassifier(tf.Module):
        """The same classifier as ``tf.Variable`` s, with an eager and a graph entry point."""

        def __init__(self, weights: dict):
            super().__init__(name="sequence_classifier")
            self.config = _check_weights(weights)
            set_tf_variables(self, weights, WEIGHT_NAMES)
            ragged_batch = tf.RaggedTensorSpec(
                shape=[None, None, self.config.features],
                dtype=tf.float32,
                ragged_rank=1,
            )
            self.ragged = tf.function(
                self._ragged, input_signature=[ragged_batch]
            )

        def step(self, x_t, hidden):
            return tf.tanh(
                x_t @ self.input_kernel
                + hidden @ self.recurrent_kernel
                + self.bias
            )

        def eager(self, sequences):
            """Python loops over TensorFlow ops, exactly like the PyTorch forward."""
            sequences = check_sequences(sequences, self.config.features)
            last_states = []
            for sequence in sequences:
                sequence = tf.convert_to_tensor(sequence, tf.float32)
                hidden = tf.zeros([1, self.config.hidden])
                for step in range(sequence.shape[0]):
                    hidden = self.step(sequence[step : step + 1], hidden)
                last_states.append(hidden)
            return (
                tf.concat(last_states, axis=0) @ self.head_kernel
                + self.head_bias
            )

        def _ragged(self, batch):
            """AutoGraph turns both ``for`` loops over tensors into ``tf.while_loop`` s."""
            rows = tf.cast(batch.nrows(), tf.int32)
            last_states = tf.TensorArray(tf.float32, size=rows)
            for row in tf.range(rows):
                sequence = batch[row]  # a dense (steps, features) tensor
                hidden = tf.zeros([1, self.config.hidden])
                for step in tf.range(tf.shape(sequence)[0]):
                    # sequence[step][None], not sequence[step:step + 1]: a slice has an
                    # unknown length in the graph, and the loop needs hidden's shape fixed.
                    hidden = self.step(sequence[step][None], hidden)
                last_states = last_states.write(row, hidden[0])
            return last_states.stack() @ self.head_kernel + self.head_bias

    return TFSequenceClassifier


def build_tf_rnn(weights: dict):
    """A ``tf.Module`` with ``.eager(list_of_sequences)`` and ``.ragged(ragged_tensor)``.

    >>> weights = torch_rnn_weights(build_torch_rnn(RNNConfig(2, 4, 3), seed=0))
    >>> model = build_tf_rnn(weights)
    >>> sequences = example_sequences((2, 5), features=2)
    >>> model.eager(sequences).shape, model.ragged(to_ragged(sequences)).shape
    (TensorShape([2, 3]), TensorShape([2, 3]))
    """
    _check_weights(weights)
    return _tf_classifier_class()(weights)


def build_keras_masked_rnn(weights: dict):
    """Keras ``SimpleRNN`` + ``Dense`` on a padded batch with a boolean step mask.

    The model takes ``[padded, mask]``: ``padded`` of shape ``(batch, max_steps,
    features)`` and ``mask`` of shape ``(batch, max_steps)``, as made by
    :func:`pad_sequences` and :func:`length_mask`. Masked steps leave the
    hidden state unchanged, so each row ends at its own last real step.
    """
    import keras

    config = _check_weights(weights)
    padded = keras.Input(shape=(None, config.features), name="padded")
    mask = keras.Input(shape=(None,), dtype="bool", name="mask")
    rnn = keras.layers.SimpleRNN(config.hidden, activation="tanh", name="rnn")
    head = keras.layers.Dense(config.classes, name="head")
    model = keras.Model(
        [padded, mask], head(rnn(padded, mask=mask)), name="masked_rnn"
    )
    rnn.set_weights(
        [weights["input_kernel"], weights["recurrent_kernel"], weights["bias"]]
    )
    head.set_weights([weights["head_kernel"], weights["head_bias"]])
    return model
