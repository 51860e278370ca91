"""The rows the developer-experience chapter shows: everyday array tasks, three ways.

The rows are data, in ``rows.toml`` beside this module: one ``[[row]]``
table per task, in the chapter's order, with the fields of
:class:`~companion.tensor_api.snippets.Row` as keys: ``topic``, ``task``,
``numpy`` (left out where NumPy has no counterpart) and, where the NumPy
spelling is not simply translated, ``pytorch`` and ``tensorflow``, each a
list of attempts. Code of several lines is a multi-line string.
"""

from __future__ import annotations

import tomllib
from importlib.resources import files

from companion.tensor_api.snippets import Row, RowResult, run_row
from companion.validation import check_choice

#: The keys a ``[[row]]`` table may have.
ROW_KEYS = ("topic", "task", "numpy", "pytorch", "tensorflow")


def read_rows(text: str, source: str = "rows.toml") -> tuple[Row, ...]:
    """The rows in ``text``, TOML as in ``rows.toml``; ``source`` names it in errors.

    >>> read_rows('''
    ... [[row]]
    ... topic = "indexing"
    ... task = "one column"
    ... numpy = "a[:, 1]"
    ... tensorflow = ["a[:, 1]", "tf.gather(a, 1, axis=1)"]
    ... ''')
    (Row(topic='indexing', task='one column', numpy='a[:, 1]', pytorch=(), tensorflow=('a[:, 1]', 'tf.gather(a, 1, axis=1)')),)
    >>> read_rows('[[row]]\\ntopic = "indexing"\\ntask = "one column"\\ntorch = ["a[:, 1]"]')
    Traceback (most recent call last):
        ...
    ValueError: rows.toml, row 1 ('one column'): a key must be one of ('topic', 'task', 'numpy', 'pytorch', 'tensorflow'), got 'torch'
    """
    try:
        tables = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{source}: not valid TOML: {error}") from error
    if set(tables) != {"row"} or not isinstance(tables["row"], list):
        raise ValueError(
            f"{source} must hold [[row]] tables only; it has {sorted(tables)}"
        )
    rows = []
    for number, fields in enumerate(tables["row"], start=1):
        where = f"{source}, row {number} ({fields.get('task')!r})"
        try:
            for key in fields:
                check_choice("a key", key, ROW_KEYS)
            for key in ("topic", "task"):
                if key not in fields:
                    raise ValueError(f"a row needs a {key}")
            attempts = {
                framework: tuple(fields[framework])
                for framework in ("pytorch", "tensorflow")
                if isinstance(fields.get(framework), list)
            }
            rows.append(Row(**{"numpy": None, **fields, **attempts}))
        except (TypeError, ValueError) as error:
            raise type(error)(f"{where}: {error}") from error
    return tuple(rows)


ROWS: tuple[Row, ...] = read_rows(
    files(__package__).joinpath("rows.toml").read_text(encoding="utf-8")
)

TOPICS = tuple(dict.fromkeys(row.topic for row in ROWS))


def run_rows(
    rows=ROWS, topics: tuple[str, ...] | None = None
) -> list[RowResult]:
    """Run ``rows`` (those of ``topics`` only, if given)."""
    if topics is not None:
        if isinstance(topics, str):
            raise TypeError(
                f"topics must be a tuple of names, e.g. ({topics!r},)"
            )
        known = {row.topic for row in rows}
        unknown = sorted(set(topics) - known)
        if unknown:
            raise ValueError(
                f"unknown topic(s) {unknown}; known: {sorted(known)}"
            )
        rows = [row for row in rows if row.topic in topics]
    return [run_row(row) for row in rows]
