"""Run everyday array code in NumPy, PyTorch and TensorFlow, and tabulate what each does.

Each :class:`Row` holds one task and the code for it in each library. A
framework's code is a tuple of *attempts*: usually just one, but where the
spelling a NumPy user would type first fails or misleads, that spelling comes
first and the working one after it. Leave a framework's attempts empty to run
the NumPy code itself with ``np.`` replaced by ``torch.`` or ``tf.``.

Every snippet runs in a fresh namespace holding the library (plus ``np``) and
``a``, a 2 x 3 float32 array or tensor with the values 0 to 5, made by the
library's own code in :data:`SETUP`. The last line of a snippet is its result.
:func:`run_row` records what each attempt returned or raised; the table then
shows, per row, whether the three libraries agree (same dtype, shape and
values) and whether each framework accepted the NumPy spelling.

One concern per module: ``snippets`` (running one snippet, comparing
results), ``rows`` (the chapter's rows), ``rendering`` and ``style`` (the HTML
table and its style sheet), ``spelling`` (counts and the NumPy-spelling
report, also ``python -m companion.tensor_api``).

>>> result = run_row(Row("indexing", "one element", "a[1, 2]"))
>>> result.agreement
'same'
"""

from companion.tensor_api.rendering import LEGEND, VERDICT_TEXT, render_html
from companion.tensor_api.rows import ROWS, TOPICS, run_rows
from companion.tensor_api.snippets import (
    LIBRARIES,
    MODULE_NAMES,
    SETUP,
    Outcome,
    Row,
    RowResult,
    describe,
    normalize,
    run_row,
    run_snippet,
    short_error,
    translate,
)
from companion.tensor_api.spelling import (
    SPELLINGS,
    count_agreements,
    main,
    numpy_spelling_report,
    numpy_spelling_report_in_subprocess,
)

__all__ = [
    "LEGEND",
    "LIBRARIES",
    "MODULE_NAMES",
    "ROWS",
    "SETUP",
    "SPELLINGS",
    "TOPICS",
    "VERDICT_TEXT",
    "Outcome",
    "Row",
    "RowResult",
    "count_agreements",
    "describe",
    "main",
    "normalize",
    "numpy_spelling_report",
    "numpy_spelling_report_in_subprocess",
    "render_html",
    "run_row",
    "run_rows",
    "run_snippet",
    "short_error",
    "translate",
]
