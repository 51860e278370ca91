"""The short words a rows file uses in ``expect`` for the verdicts a row declares.

>>> EXPECT["dtype"], EXPECT["raises"]
('differs: default dtype', 'raises')
>>> set(EXPECT.values()) == {*DIFFERENCES, RAISES}  # a word for each
True
"""

from companion.rosetta.table import DIFFERENCES, RAISES

AXIS, DTYPE, PROMOTION, REDUCTION, PADDING, SEMANTICS = DIFFERENCES

#: word in a rows file -> the verdict declared.
EXPECT = {
    "axis": AXIS,
    "dtype": DTYPE,
    "promotion": PROMOTION,
    "reduction": REDUCTION,
    "padding": PADDING,
    "semantics": SEMANTICS,
    "raises": RAISES,
}

__all__ = [
    "AXIS",
    "DTYPE",
    "EXPECT",
    "PADDING",
    "PROMOTION",
    "RAISES",
    "REDUCTION",
    "SEMANTICS",
]
