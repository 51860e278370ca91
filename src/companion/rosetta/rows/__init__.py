"""The rows of the Rosetta table, one TOML file per group of operations.

Each file (``creation.toml``, ``reductions.toml``, ...) names its
``group``, one of :data:`~companion.rosetta.table.GROUPS`, then has one
``[[row]]`` table per operation. A row's keys are the fields of
:class:`~companion.rosetta.table.Row`: ``name``; the spellings ``numpy``,
``pytorch``, ``tensorflow`` and ``keras`` (leave one out where a library
has none); and, where needed, ``reference``, ``note``, ``compare``,
``layout`` and ``expect``, an inline table from library to one of the words
of :data:`~companion.rosetta.rows.labels.EXPECT` (``dtype`` for
"differs: default dtype", ``raises``, ...). The table lists the groups in
the order of ``GROUPS``, and the rows of a group in the order of its file.

The inputs every row reads are described in :mod:`companion.rosetta.inputs`;
how a row runs in :mod:`companion.rosetta.runner`.

>>> len(ROWS) >= 200
True
>>> [group for group in GROUPS if not any(row.group == group for row in ROWS)]
[]
>>> len({(row.group, row.name) for row in ROWS}) == len(ROWS)  # every name once
True
"""

from __future__ import annotations

import tomllib
from importlib.resources import files
from importlib.resources.abc import Traversable

from companion.rosetta.rows.labels import EXPECT
from companion.rosetta.table import GROUPS, LIBRARIES, Row
from companion.validation import check_choice, check_instance

#: The keys a ``[[row]]`` table may have.
ROW_KEYS = (
    "name",
    "numpy",
    "pytorch",
    "tensorflow",
    "keras",
    "reference",
    "expect",
    "compare",
    "layout",
    "note",
)


def read_rows(text: str, source: str) -> tuple[Row, ...]:
    """The rows of one rows file, whose ``text`` is TOML; ``source`` names it in errors.

    >>> rows = read_rows('''
    ... group = "reductions"
    ...
    ... [[row]]
    ... name = "sum"
    ... numpy = "np.sum(x)"
    ... pytorch = "torch.sum(x)"
    ... expect = { pytorch = "dtype" }
    ... note = "no keras spelling: leave the key out"
    ... ''', "example.toml")
    >>> rows[0].keras, rows[0].expect
    (None, {'pytorch': 'differs: default dtype'})
    >>> read_rows('group = "reductions"\\n[[row]]\\nname = "sum"\\nnumpi = "np.sum(x)"',
    ...           "example.toml")
    Traceback (most recent call last):
        ...
    ValueError: example.toml, row 1 ('sum'): a key must be one of ('name', 'numpy', 'pytorch', 'tensorflow', 'keras', 'reference', 'expect', 'compare', 'layout', 'note'), got 'numpi'
    >>> read_rows('group = "reductions"\\n[[row]]\\nname = "sum"\\nnumpy = "np.sum(x)"\\n'
    ...           'pytorch = "torch.sum(x)"\\nexpect = { pytorch = "axes" }', "example.toml")
    Traceback (most recent call last):
        ...
    ValueError: example.toml, row 1 ('sum'): expect's pytorch must be one of ('axis', 'dtype', 'promotion', 'reduction', 'padding', 'semantics', 'raises'), got 'axes'
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{source}: not valid TOML: {error}") from error
    if set(data) != {"group", "row"}:
        raise ValueError(
            f"{source} must have a group and [[row]] tables, and nothing else; "
            f"it has {sorted(data)}"
        )
    if not isinstance(data["row"], list) or not all(
        isinstance(f, dict) for f in data["row"]
    ):
        raise ValueError(f"{source}: row must be [[row]] tables")
    return tuple(
        _row(
            data["group"],
            fields,
            f"{source}, row {number} ({fields.get('name')!r})",
        )
        for number, fields in enumerate(data["row"], start=1)
    )


def _row(group: str, fields: dict, where: str) -> Row:
    try:
        for key in fields:
            check_choice("a key", key, ROW_KEYS)
        if "name" not in fields:
            raise ValueError("a row needs a name")
        fields = dict(fields)
        expect = check_instance(
            "expect", fields.pop("expect", {}), dict, what="a table"
        )
        expect = {
            library: EXPECT[check_choice(f"expect's {library}", word, EXPECT)]
            for library, word in expect.items()
        }
        spellings = {
            library: fields.pop(library, None) for library in LIBRARIES
        }
        return Row(group, **spellings, **fields, expect=expect)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{where}: {error}") from error


def load_rows(folder: Traversable | None = None) -> tuple[Row, ...]:
    """The rows of every ``*.toml`` file in ``folder`` (default: this package), groups in table order.

    >>> load_rows()[0].group == GROUPS[0]
    True
    """
    folder = files(__name__) if folder is None else folder
    rows = [
        row
        for path in sorted(folder.iterdir(), key=lambda path: path.name)
        if path.name.endswith(".toml")
        for row in read_rows(path.read_text(encoding="utf-8"), path.name)
    ]
    missing = [
        group
        for group in GROUPS
        if not any(row.group == group for row in rows)
    ]
    if missing:
        raise ValueError(f"no rows for the group(s) {missing} in {folder}")
    return tuple(sorted(rows, key=lambda row: GROUPS.index(row.group)))


ROWS = load_rows()

__all__ = ["GROUPS", "ROWS", "load_rows", "read_rows"]
