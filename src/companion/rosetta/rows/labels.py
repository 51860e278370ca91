"""Short names for the groups and the declared verdicts, so that rows read as a table.

>>> DTYPE, RAISES
('differs: default dtype', 'raises')
"""

from companion.rosetta.table import GROUPS, RAISES

(
    CREATION,
    INDEXING,
    RESHAPING,
    REDUCTIONS,
    MATH,
    LOGIC,
    LINALG,
    RANDOM,
    ACTIVATIONS,
    LOSSES,
    CONVOLUTION,
    RESIZING,
    NORMALIZATION,
) = GROUPS

AXIS = "differs: default axis"
DTYPE = "differs: default dtype"
PROMOTION = "differs: dtype promotion"
REDUCTION = "differs: reduction"
PADDING = "differs: padding"
SEMANTICS = "differs: semantics"

__all__ = [
    "ACTIVATIONS",
    "AXIS",
    "CONVOLUTION",
    "CREATION",
    "DTYPE",
    "INDEXING",
    "LINALG",
    "LOGIC",
    "LOSSES",
    "MATH",
    "NORMALIZATION",
    "PADDING",
    "PROMOTION",
    "RAISES",
    "RANDOM",
    "REDUCTION",
    "REDUCTIONS",
    "RESHAPING",
    "RESIZING",
    "SEMANTICS",
]
