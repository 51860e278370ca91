"""Run every spelling of every row and check it against what the row declares.

Each spelling is a short piece of code: statements, then an expression on
the last line whose value is the result (:func:`run_code`). A spelling
that differs from NumPy's result, or raises, without the row declaring it
is an error (:class:`~companion.rosetta.table.RosettaError`), and so is a
declaration that no longer comes true: the table cannot drift from what
the installed versions do.

>>> from companion.rosetta.table import Row
>>> row = Row("elementwise math", "sine", "np.sin(x)", "torch.sin(x)", "tf.sin(x)", "ops.sin(x)")
>>> [cell.verdict for cell in run_row(row)]
['reference', 'same up to float32 round-off', 'same up to float32 round-off', 'same up to float32 round-off']
>>> run_row(Row("elementwise math", "bad", "np.sin(x)", "torch.sine(x)", None, None))
Traceback (most recent call last):
    ...
companion.rosetta.table.RosettaError: bad/pytorch: 'torch.sine(x)' raised AttributeError: module 'torch' has no attribute 'sine', and the row does not declare it
"""

from __future__ import annotations

import ast
import time
import warnings
from functools import cache

from companion.cli import error_line
from companion.rosetta import table
from companion.rosetta.compare import (
    compare,
    describe,
    move_channels_first,
    to_numpy,
)
from companion.rosetta.inputs import namespace
from companion.rosetta.table import LIBRARIES, Cell, RosettaError, Row
from companion.validation import check_instance

_KINDS = {
    "same": table.SAME,
    "round-off": table.ROUND_OFF_VERDICT,
    table.DISTRIBUTION: table.DISTRIBUTION,
}


def run_code(code: str, names: dict):
    """Run ``code`` (statements, then an expression) in a copy of ``names``; the value.

    >>> run_code("a = 2\\na * 3", {})
    6
    >>> run_code("a = 2", {})
    Traceback (most recent call last):
        ...
    ValueError: the last line must be an expression: 'a = 2'
    """
    check_instance("code", code, str)
    tree = ast.parse(code)
    if not tree.body or not isinstance(tree.body[-1], ast.Expr):
        raise ValueError(f"the last line must be an expression: {code!r}")
    last = ast.Expression(tree.body.pop().value)
    scope = dict(names)
    exec(compile(tree, "<rosetta>", "exec"), scope)
    return eval(compile(last, "<rosetta>", "eval"), scope)


@cache
def _namespaces() -> dict:
    return {library: namespace(library) for library in LIBRARIES}


def run_row(row: Row) -> list[Cell]:
    """One :class:`Cell` per library for ``row``; RosettaError if a declaration is wrong."""
    check_instance("row", row, Row)
    names = _namespaces()
    with warnings.catch_warnings():
        # Logarithms of negatives and divisions by zero are asked for on purpose.
        warnings.simplefilter("ignore", RuntimeWarning)
        reference = to_numpy(
            run_code(row.reference or row.numpy, names["numpy"])
        )
    return [
        _run_cell(row, library, names[library], reference)
        for library in LIBRARIES
    ]


def _run_cell(row: Row, library: str, names: dict, reference) -> Cell:
    code = row.code(library)
    cell = Cell(
        row.group, row.name, library, code or "", table.MISSING, note=row.note
    )
    if code is None:
        return cell
    expected = row.expect.get(library)
    where = f"{row.name}/{library}"
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = to_numpy(run_code(code, names))
    except Exception as error:  # what each library raises is the finding
        if expected != table.RAISES:
            raise RosettaError(
                f"{where}: {code!r} raised {error_line(error, limit=160)}, "
                "and the row does not declare it"
            ) from error
        cell.verdict, cell.detail = table.RAISES, error_line(error, limit=160)
        return cell
    if expected == table.RAISES:
        raise RosettaError(f"{where}: declared to raise, but returned a value")
    cell.warnings = "; ".join(
        sorted(
            {f"{w.category.__name__}: {str(w.message)[:100]}" for w in caught}
        )
    )
    if row.layout == "image" and library in ("tensorflow", "keras"):
        value = move_channels_first(value)
    cell.shape, cell.dtype = describe(value)
    kind, error, detail = compare(reference, value, row.compare)
    cell.max_relative_difference, cell.detail = error, detail
    if library == "numpy" and row.reference is None:
        cell.verdict = table.REFERENCE
        return cell
    cell.verdict = _verdict(where, code, kind, detail, expected)
    return cell


def _verdict(where: str, code: str, kind: str, detail: str, expected) -> str:
    if kind == "differs":
        if expected is None:
            raise RosettaError(
                f"{where}: {code!r} differs ({detail}) but the row declares no reason"
            )
        return expected
    if expected is not None:
        raise RosettaError(
            f"{where}: declared {expected!r}, but the result is the same"
        )
    return _KINDS[kind]


def run_table(rows=None) -> tuple[list[Cell], float]:
    """Run ``rows`` (default: every row of the table); the cells and the seconds taken."""
    start = time.perf_counter()
    if rows is None:
        from companion.rosetta.rows import ROWS

        rows = ROWS
    cells = [cell for row in rows for cell in run_row(row)]
    return cells, time.perf_counter() - start


def summarize(cells: list[Cell]) -> dict:
    """Verdict counts per library and overall, and the number of rows.

    >>> summarize([Cell("creation", "zeros", "pytorch", "torch.zeros(2)", "same")])["by_library"]["pytorch"]
    {'same': 1}
    """
    by_library = {library: {} for library in LIBRARIES}
    for cell in cells:
        counts = by_library[cell.library]
        counts[cell.verdict] = counts.get(cell.verdict, 0) + 1
    total = {}
    for verdict in table.VERDICTS:
        count = sum(counts.get(verdict, 0) for counts in by_library.values())
        if count:
            total[verdict] = count
    rows = len({(cell.group, cell.operation) for cell in cells})
    return {"rows": rows, "by_library": by_library, "total": total}
