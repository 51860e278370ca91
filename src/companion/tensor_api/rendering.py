"""The chapter's table of rows as HTML, styled by :mod:`companion.tensor_api.style`."""

from __future__ import annotations

import html

from companion.frameworks import LABELS
from companion.tensor_api.snippets import LIBRARIES, RowResult
from companion.tensor_api.style import TABLE_STYLE
from companion.validation import check_instance


def _cell(result: RowResult, framework: str) -> str:
    outcomes = result.attempts[framework]
    if not outcomes:
        return "<td><em>no counterpart</em></td>"
    reference = result.outcome("numpy")
    parts = []
    for outcome in outcomes:
        if outcome.error:
            css, mark = "raised", "✗"
        elif reference is not None and outcome.key != reference.key:
            css, mark = "result not-numpy", "≠"
        else:
            css, mark = "result", "→"
        parts.append(
            '<div class="attempt">'
            f"<pre><code>{html.escape(outcome.code)}</code></pre>"
            f'<pre class="{css}">{mark} {html.escape(outcome.text)}</pre>'
            "</div>"
        )
    return "<td>" + "".join(parts) + "</td>"


LEGEND = (
    "→ the result; ≠ a result that differs from NumPy's; ✗ the error raised. "
    "Where a framework shows two attempts, the first is the NumPy spelling."
)


VERDICT_TEXT = {
    "same": "same",
    "spelling": "same result, other code",
    "dtype": "dtype differs",
    "shape": "shape differs",
    "values": "values differ",
    "raises": "one raises",
    "result": "results differ",
}


def render_html(results: list[RowResult], caption: str = LEGEND) -> str:
    """An HTML table: for each task a header row saying whether the libraries agree,
    then one cell of code and outcomes per library."""
    if not isinstance(results, list) or not all(
        isinstance(r, RowResult) for r in results
    ):
        raise TypeError("results must be a list of RowResult (from run_rows)")
    check_instance("caption", caption, str, what="a string")
    head = "".join(f"<th>{LABELS[library]}</th>" for library in LIBRARIES)
    columns = f'<col style="width: {100 / len(LIBRARIES):.2f}%">' * len(
        LIBRARIES
    )
    rows = []
    for result in results:
        verdict = result.agreement
        css = {"same": "task", "spelling": "task spelling"}.get(
            verdict, "task differs"
        )
        rows.append(
            f'<tr class="{css}"><th colspan="{len(LIBRARIES)}">'
            f"{html.escape(result.row.task)}"
            f'<span class="verdict">{VERDICT_TEXT[verdict]}</span></th></tr>'
            "<tr>" + "".join(_cell(result, fw) for fw in LIBRARIES) + "</tr>"
        )
    return (
        f'{TABLE_STYLE}<table class="api-table"><caption>{html.escape(caption)}</caption>'
        f"<colgroup>{columns}</colgroup><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
