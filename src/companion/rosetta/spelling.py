"""Does NumPy's own spelling run unchanged in each framework, and give NumPy's result?

For every row with NumPy code, the code is run again in each framework's
namespace with only the module prefix swapped (``np.`` becomes ``torch.``,
``tf.`` or ``ops.``); methods and operators (``x.T``, ``x[::-1]``, ``i // j``)
stay as they are. Each attempt ends one of three ways (:data:`OUTCOMES`).

>>> translate("np.sum(x, axis=0, dtype=np.float32)", "tensorflow")
'tf.sum(x, axis=0, dtype=tf.float32)'
>>> translate("x.T", "keras")
'x.T'
"""

from __future__ import annotations

import re
import warnings

from companion.rosetta.compare import compare, move_channels_first, to_numpy
from companion.rosetta.table import LIBRARIES, Row
from companion.validation import check_choice

#: The prefix each library's module has in the table's namespaces.
PREFIXES = {"pytorch": "torch.", "tensorflow": "tf.", "keras": "ops."}
WORKS = "runs, NumPy's result"
OTHER = "runs, another result"
FAILS = "raises"
OUTCOMES = (WORKS, OTHER, FAILS)


def translate(code: str, library: str) -> str:
    """NumPy ``code`` with ``np.`` replaced by ``library``'s prefix."""
    check_choice("library", library, PREFIXES)
    return re.sub(r"\bnp\.", PREFIXES[library], code)


def attempt(row: Row, library: str, names: dict, reference) -> str:
    """The outcome of running ``row``'s NumPy code, translated, for ``library``."""
    from companion.rosetta.runner import run_code

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = to_numpy(run_code(translate(row.numpy, library), names))
    except Exception:  # any failure to run counts the same
        return FAILS
    if row.layout == "image" and library in ("tensorflow", "keras"):
        value = move_channels_first(value)
    try:
        kind, _, _ = compare(reference, value, row.compare)
    except (
        TypeError,
        ValueError,
    ):  # a result NumPy cannot compare (an object, say)
        return OTHER
    return OTHER if kind == "differs" else WORKS


def numpy_spelling(rows=None) -> dict:
    """Per framework, the outcome of each NumPy spelling: ``{library: {operation: outcome}}``."""
    from companion.rosetta.runner import _namespaces, run_code

    if rows is None:
        from companion.rosetta.rows import ROWS

        rows = ROWS
    names = _namespaces()
    result = {library: {} for library in LIBRARIES[1:]}
    for row in rows:
        if row.numpy is None:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            reference = to_numpy(run_code(row.numpy, names["numpy"]))
        for library, outcomes in result.items():
            outcomes[row.name] = attempt(
                row, library, names[library], reference
            )
    return result


def count_outcomes(spelling: dict) -> dict:
    """``{library: {outcome: count}}`` from :func:`numpy_spelling`'s result.

    >>> count_outcomes({"pytorch": {"sum": WORKS, "std": OTHER}})
    {'pytorch': {"runs, NumPy's result": 1, 'runs, another result': 1, 'raises': 0}}
    """
    return {
        library: {o: sum(v == o for v in outcomes.values()) for o in OUTCOMES}
        for library, outcomes in spelling.items()
    }
