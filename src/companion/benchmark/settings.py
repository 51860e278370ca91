"""The numbers a benchmark runs with unless told otherwise."""

from __future__ import annotations

from companion.transformer import TransformerConfig

#: The transformer's sizes unless told otherwise.
DEFAULT_TRANSFORMER = TransformerConfig()

#: Batch sizes per model and task.
DEFAULT_BATCH_SIZES = {
    ("cnn", "train"): 64,
    ("cnn", "predict"): 256,
    ("transformer", "train"): 32,
    ("transformer", "predict"): 64,
}

#: Keras ``fit`` is timed over an epoch of this many identical batches (its
#: per-epoch set-up would swamp a one-batch epoch); times are reported per step.
FIT_STEPS_PER_EPOCH = 10

LEARNING_RATE = 1e-3
ADAM_EPSILON = 1e-8

#: With ``number=None``, each round of a mode lasts about this long (at
#: least one call), and makes at most :data:`MAX_CALLS_PER_ROUND` calls.
ROUND_SECONDS = 0.03
MAX_CALLS_PER_ROUND = 100
