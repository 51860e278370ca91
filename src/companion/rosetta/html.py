"""The table as HTML: one row per operation, a cell per library, controls to filter it.

The markup works without a script (a plain, readable table); the book's
``rosetta.js`` shows the search and filter controls and hides the rows
that do not match, reading each row's group from its ``<tbody>`` and each
library's verdict from its chip. The markup is kept short, because the
table is most of its page's weight: a chip is ``<span class="v v-...">``,
the notes under a spelling are ``<small>``, and a cell whose verdict
means "NumPy's shape and dtype" does not repeat them.

>>> from companion.rosetta.table import Cell
>>> cells = [Cell("creation", "zeros", lib, code, verdict, shape="(2,)", dtype="float32")
...          for lib, code, verdict in [("numpy", "np.zeros(2)", "reference"),
...                                     ("pytorch", "torch.zeros(2)", "same"),
...                                     ("tensorflow", "tf.zeros(2)", "same"),
...                                     ("keras", "ops.zeros(2)", "same")]]
>>> page = render_table(cells)
>>> page.count('<th scope="row">'), page.count('<span class="v v-same">same</span>')
(1, 3)
>>> page.count("(2,) float32")  # shown once a row, not once a library
1
>>> verdict_class("differs: default axis")
'v-differs'
"""

from __future__ import annotations

from html import escape

from companion.rosetta.table import (
    DIFFERENCES,
    DISTRIBUTION,
    GROUPS,
    LABELS,
    LIBRARIES,
    MISSING,
    RAISES,
    REFERENCE,
    ROUND_OFF_VERDICT,
    SAME,
    VERDICTS,
    Cell,
)

_CLASSES = {
    REFERENCE: "v-reference",
    SAME: "v-same",
    ROUND_OFF_VERDICT: "v-roundoff",
    DISTRIBUTION: "v-distribution",
    RAISES: "v-raises",
    MISSING: "v-missing",
}


def verdict_class(verdict: str) -> str:
    """The CSS class of a verdict chip (every ``differs: ...`` shares one)."""
    return "v-differs" if verdict in DIFFERENCES else _CLASSES[verdict]


#: Verdicts that compare equal shapes and dtypes (``compare.compare``
#: says "differs" first when either is not NumPy's): the NumPy cell of the
#: row shows them, so these cells need not.
_NUMPY_SHAPE_AND_DTYPE = (SAME, ROUND_OFF_VERDICT, DISTRIBUTION)


def _measure(cell: Cell) -> str:
    parts = []
    if cell.shape and cell.verdict not in _NUMPY_SHAPE_AND_DTYPE:
        parts.append(f"{cell.shape} {cell.dtype}")
    difference = cell.max_relative_difference
    if difference:
        parts.append(f"max rel. diff. {difference:.1e}")
    return " · ".join(parts)


def chip(verdict: str) -> str:
    """A verdict as a coloured chip."""
    return f'<span class="v {verdict_class(verdict)}">{escape(verdict)}</span>'


def _cell_html(cell: Cell, reference: str | None) -> str:
    if cell.code:
        code = f"<code>{escape(cell.code)}</code>"
    elif cell.library == "numpy" and reference:
        code = f"<small>compared with <code>{escape(reference)}</code></small>"
    else:
        code = ""
    lines = [code, chip(cell.verdict)]
    measure = _measure(cell)
    if measure:
        lines.append(f"<small>{escape(measure)}</small>")
    if cell.detail and cell.verdict not in (SAME, REFERENCE):
        lines.append(f"<small>{escape(cell.detail)}</small>")
    if cell.warnings:
        lines.append(f"<small>warns: {escape(cell.warnings)}</small>")
    return "<td>" + "".join(line for line in lines if line) + "</td>"


def _row_html(operation: str, by_library: dict, reference: str | None) -> str:
    first = next(iter(by_library.values()))
    cells = "".join(
        _cell_html(by_library[library], reference) for library in LIBRARIES
    )
    note = f"<small>{escape(first.note)}</small>" if first.note else ""
    return f'<tr><th scope="row">{escape(operation)}{note}</th>{cells}</tr>'


def _grouped(cells: list[Cell]) -> dict:
    """group -> operation -> library -> cell, in table order."""
    groups: dict = {}
    for cell in cells:
        groups.setdefault(cell.group, {}).setdefault(cell.operation, {})[
            cell.library
        ] = cell
    return groups


def _controls(rows: int) -> str:
    def options(values, first):
        items = [f'<option value="">{escape(first)}</option>']
        items += [
            f'<option value="{escape(v)}">{escape(t)}</option>'
            for v, t in values
        ]
        return "".join(items)

    verdicts = [
        *((v, v) for v in (REFERENCE, SAME, ROUND_OFF_VERDICT, DISTRIBUTION)),
        ("differs", "differs (any reason)"),
        *((v, v) for v in DIFFERENCES),
        (RAISES, RAISES),
        (MISSING, MISSING),
    ]
    libraries = [(library, LABELS[library]) for library in LIBRARIES]
    return (
        '<div class="rosetta-controls" hidden>'
        '<label>Search <input type="search" data-filter="text" '
        'placeholder="e.g. argmax, padding, int32"></label>'
        f'<label>Group <select data-filter="group">'
        f"{options([(g, g) for g in GROUPS], 'every group')}</select></label>"
        f'<label>Library <select data-filter="library">'
        f"{options(libraries, 'any library')}</select></label>"
        f'<label>Verdict <select data-filter="verdict">'
        f"{options(verdicts, 'any verdict')}</select></label>"
        f'<p class="rosetta-count" aria-live="polite">{rows} of {rows} operations shown</p>'
        "</div>"
    )


def render_table(
    cells: list[Cell], references: dict | None = None, downloads: str = ""
) -> str:
    """The whole table as HTML; ``references`` maps an operation to its NumPy reference code."""
    references = references or {}
    groups = _grouped(cells)
    header = "".join(
        f'<th scope="col">{LABELS[library]}</th>' for library in LIBRARIES
    )
    bodies = []
    for group, operations in groups.items():
        rows = "".join(
            _row_html(name, by_library, references.get(name))
            for name, by_library in operations.items()
        )
        title = f'<tr class="rosetta-group"><th colspan="5" scope="rowgroup">{escape(group)}</th></tr>'
        bodies.append(
            f'<tbody data-group="{escape(group)}">{title}{rows}</tbody>'
        )
    count = sum(len(operations) for operations in groups.values())
    return (
        '<div class="rosetta">'
        f"{_controls(count)}{downloads}"
        '<div class="rosetta-scroll" role="region" aria-label="The Rosetta table" tabindex="0">'
        '<table class="rosetta-table">'
        f'<thead><tr><th scope="col">operation</th>{header}</tr></thead>'
        f"{''.join(bodies)}</table></div></div>"
    )


def render_downloads(csv_uri: str, json_uri: str) -> str:
    """Two download links (``data:`` URIs; the book's build turns them into files)."""
    return (
        '<p class="rosetta-downloads">Download the table: '
        f'<a download="rosetta.csv" href="{csv_uri}">CSV</a>, '
        f'<a download="rosetta.json" href="{json_uri}">JSON</a></p>'
    )


def render_summary(summary: dict) -> str:
    """Verdict counts per library as a small HTML table."""
    header = "".join(
        f'<th scope="col">{LABELS[library]}</th>' for library in LIBRARIES
    )
    rows = []
    for verdict in VERDICTS:
        counts = [
            summary["by_library"][library].get(verdict, 0)
            for library in LIBRARIES
        ]
        if any(counts):
            numbers = "".join(f"<td>{count}</td>" for count in counts)
            rows.append(
                f'<tr><th scope="row">{chip(verdict)}</th>{numbers}</tr>'
            )
    return (
        '<div class="rosetta"><table class="rosetta-summary">'
        f'<thead><tr><th scope="col">verdict</th>{header}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )
