"""The rows of the Rosetta table, one module per group of operations.

The inputs every row reads are described in :mod:`companion.rosetta.inputs`;
how a row runs in :mod:`companion.rosetta.runner`.

>>> len(ROWS) >= 200
True
>>> [group for group in GROUPS if not any(row.group == group for row in ROWS)]
[]
>>> len({(row.group, row.name) for row in ROWS}) == len(ROWS)  # every name once
True
"""

from companion.rosetta.rows import (
    creation,
    elementwise,
    indexing,
    linalg,
    logic,
    nn_activations,
    nn_convolution,
    nn_losses,
    nn_normalization,
    nn_resizing,
    randomness,
    reductions,
    reshaping,
)
from companion.rosetta.table import GROUPS

ROWS = (
    *creation.ROWS,
    *indexing.ROWS,
    *reshaping.ROWS,
    *reductions.ROWS,
    *elementwise.ROWS,
    *logic.ROWS,
    *linalg.ROWS,
    *randomness.ROWS,
    *nn_activations.ROWS,
    *nn_losses.ROWS,
    *nn_convolution.ROWS,
    *nn_resizing.ROWS,
    *nn_normalization.ROWS,
)

__all__ = ["GROUPS", "ROWS"]
