"""An executed Rosetta table: one operation per row in NumPy, PyTorch, TensorFlow and keras.ops.

Every spelling is code that really runs, on the same seeded inputs
(:mod:`~companion.rosetta.inputs`), and its result is compared with
NumPy's, or with NumPy code where NumPy has no such function
(:mod:`~companion.rosetta.reference`): shape, dtype and the largest
relative difference. Each cell gets a verdict from
:data:`~companion.rosetta.table.VERDICTS`: ``same``, ``same up to float32
round-off``, ``same distribution`` (random numbers), ``differs: <reason>``
(default axis, default dtype, dtype promotion, reduction, padding,
semantics), ``raises`` or ``missing``; the NumPy column is the
``reference``. A difference or an error that the row does not declare is
an error (:class:`~companion.rosetta.table.RosettaError`), so the table
always says what the installed versions do.

>>> rows = table_rows()
>>> len(rows) >= 200, rows[0].group
(True, 'creation')

Run it with :func:`~companion.rosetta.runner.run_table`, or from the
command line: ``python -m companion.rosetta --out DIR`` writes
``rosetta.csv`` and ``rosetta.json``. Importing this package loads neither
framework.
"""

from __future__ import annotations

from companion.rosetta.runner import run_row, run_table, summarize
from companion.rosetta.table import (
    GROUPS,
    LABELS,
    LIBRARIES,
    VERDICTS,
    Cell,
    RosettaError,
    Row,
)


def table_rows() -> tuple[Row, ...]:
    """Every row of the table, grouped as :data:`GROUPS` lists them."""
    from companion.rosetta.rows import ROWS

    return ROWS


def references() -> dict[str, str]:
    """Operation name -> the NumPy code compared with, where NumPy has no spelling."""
    return {row.name: row.reference for row in table_rows() if row.reference}


__all__ = [
    "GROUPS",
    "LABELS",
    "LIBRARIES",
    "VERDICTS",
    "Cell",
    "RosettaError",
    "Row",
    "references",
    "run_row",
    "run_table",
    "summarize",
    "table_rows",
]
