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

>>> row = Row("indexing", "one element", "a[1, 2]")
>>> result = run_row(row)
>>> [result.outcome(fw).text for fw in FRAMEWORKS]
['float32 ()\\n5.', 'float32 ()\\n5.', 'float32 ()\\n5.']
>>> result.agreement
'same'
>>> result.numpy_spelling_works("tensorflow")
True
"""

from __future__ import annotations

import argparse
import ast
import html
import json
import re
import sys
from dataclasses import dataclass, field

import numpy as np

FRAMEWORKS = ("numpy", "pytorch", "tensorflow")
LABELS = {"numpy": "NumPy", "pytorch": "PyTorch", "tensorflow": "TensorFlow"}
MODULE_NAMES = {"numpy": "np", "pytorch": "torch", "tensorflow": "tf"}

#: How each library makes ``a``, the array every row starts from.
SETUP = {
    "numpy": "np.arange(6, dtype=np.float32).reshape(2, 3)",
    "pytorch": "torch.arange(6, dtype=torch.float32).reshape(2, 3)",
    "tensorflow": "tf.reshape(tf.range(6, dtype=tf.float32), (2, 3))",
}


@dataclass(frozen=True)
class Row:
    """One task. ``numpy`` is None where NumPy has no counterpart."""

    topic: str
    task: str
    numpy: str | None
    pytorch: tuple[str, ...] = ()
    tensorflow: tuple[str, ...] = ()

    def __post_init__(self):
        for name in ("topic", "task"):
            if not isinstance(getattr(self, name), str) or not getattr(
                self, name
            ):
                raise TypeError(f"{name} must be a non-empty string")
        if self.numpy is not None and not isinstance(self.numpy, str):
            raise TypeError(
                f"numpy must be a string of code or None, got {self.numpy!r}"
            )
        for framework in ("pytorch", "tensorflow"):
            attempts = getattr(self, framework)
            if isinstance(attempts, str) or not all(
                isinstance(a, str) for a in attempts
            ):
                raise TypeError(
                    f"{framework} must be a tuple of code strings, got {attempts!r}"
                )
            if not attempts and self.numpy is None:
                raise ValueError(
                    f"{self.task!r}: without NumPy code, {framework} needs its own"
                )

    def attempts(self, framework: str) -> tuple[str, ...]:
        """The code run for ``framework``, in order."""
        _check_framework(framework)
        if framework == "numpy":
            return () if self.numpy is None else (self.numpy,)
        return getattr(self, framework) or (translate(self.numpy, framework),)


def _check_framework(framework: str) -> None:
    if framework not in FRAMEWORKS:
        raise ValueError(
            f"framework must be one of {FRAMEWORKS}, got {framework!r}"
        )


def translate(code: str, framework: str, module: str | None = None) -> str:
    """NumPy code with the ``np.`` prefix swapped for ``framework``'s module (or ``module``).

    >>> translate("np.zeros((2, 3), dtype=np.float32)", "tensorflow")
    'tf.zeros((2, 3), dtype=tf.float32)'
    >>> translate("np.arange(6)", "tensorflow", module="tnp")
    'tnp.arange(6)'
    """
    _check_framework(framework)
    return re.sub(r"\bnp\.", (module or MODULE_NAMES[framework]) + ".", code)


def normalize(code: str) -> str:
    """Code with every library prefix made the same, to compare spellings."""
    return re.sub(r"\b(np|torch|tf|tnp)\.", "xp.", code.strip())


@dataclass(frozen=True)
class Outcome:
    """What one attempt did: its code, and a value or an error."""

    code: str
    text: str  # what the table shows
    error: str | None = None  # exception type, if it raised
    key: tuple | None = (
        None  # what is compared across libraries (None: it raised)
    )


def _dtype_name(dtype) -> str:
    name = getattr(dtype, "name", None) or str(dtype)
    return str(name).replace("torch.", "")


def _to_numpy(value):
    """A NumPy view of an array, tensor or variable; None for anything else."""
    if isinstance(value, np.ndarray | np.generic):
        return np.asarray(value)
    module = type(value).__module__
    if module.startswith("torch"):
        import torch

        if isinstance(value, torch.Tensor):
            return value.detach().cpu().numpy()
    if module.startswith("tensorflow"):
        numpy_method = getattr(value, "numpy", None)
        if callable(numpy_method):
            return np.asarray(numpy_method())
    return None


def describe(value) -> tuple[str, tuple]:
    """``(text, key)`` for a result: dtype, shape and values for arrays, else a repr."""
    array = _to_numpy(value)
    if array is not None:
        values = np.array2string(array, separator=", ", threshold=20)
        text = f"{_dtype_name(array.dtype)} {tuple(array.shape)}\n{values}"
        return text, (
            "array",
            _dtype_name(array.dtype),
            array.shape,
            array.tolist(),
        )
    if isinstance(value, tuple) or type(value).__name__ in (
        "Size",
        "TensorShape",
    ):
        shape = tuple(
            int(size) for size in value
        )  # torch.Size, tf.TensorShape, tuple
        return f"shape {shape}", ("shape", shape)
    # str() of a torch.device is "cpu"; its repr is "device(type='cpu')".
    text = (
        str(value)
        if isinstance(value, str) or type(value).__name__ == "device"
        else repr(value)
    )
    return text, ("object", text)


def short_error(error: BaseException, limit: int = 120) -> str:
    """``Type: first line of the message``, without TensorFlow's op-node prefix, shortened."""
    message = str(error).strip().splitlines()[0] if str(error).strip() else ""
    message = re.sub(r"\{\{[^}]*\}\}\s*", "", message).strip()
    message = re.sub(r"\s*\[Op:\w+\].*$", "", message)
    # 'tensorflow.python.framework.ops.EagerTensor' -> EagerTensor
    message = re.sub(
        r"'?(?:tensorflow|torch)\.[\w.]*\.(\w+)'?", r"\1", message
    )
    text = (
        f"{type(error).__name__}: {message}"
        if message
        else type(error).__name__
    )
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _namespace(framework: str) -> dict:
    namespace: dict = {"np": np}
    if framework == "pytorch":
        import torch

        namespace["torch"] = torch
    elif framework == "tensorflow":
        import tensorflow as tf

        namespace["tf"] = tf
        namespace["tnp"] = tf.experimental.numpy
    namespace["a"] = eval(SETUP[framework], namespace)
    return namespace


def run_snippet(code: str, framework: str) -> Outcome:
    """Run ``code`` in a fresh namespace for ``framework``; the last line is the result."""
    _check_framework(framework)
    tree = ast.parse(code)
    if not tree.body or not isinstance(tree.body[-1], ast.Expr):
        raise ValueError(
            f"the last line of a snippet must be an expression: {code!r}"
        )
    last = ast.Expression(tree.body.pop().value)
    namespace = _namespace(framework)
    try:
        exec(compile(tree, "<snippet>", "exec"), namespace)
        value = eval(compile(last, "<snippet>", "eval"), namespace)
    except Exception as error:  # the point is to show what each library raises
        return Outcome(code, short_error(error), error=type(error).__name__)
    text, key = describe(value)
    return Outcome(code, text, key=key)


@dataclass
class RowResult:
    """All attempts of one row, per framework, and how the final results compare."""

    row: Row
    attempts: dict[str, list[Outcome]] = field(default_factory=dict)

    def outcome(self, framework: str) -> Outcome | None:
        """The last attempt's outcome (the one compared), or None without code."""
        tried = self.attempts.get(framework) or []
        return tried[-1] if tried else None

    def numpy_spelling_works(self, framework: str) -> bool | None:
        """Did ``framework`` run the NumPy spelling and give NumPy's result? None: no NumPy code."""
        if self.row.numpy is None:
            return None
        first = self.attempts[framework][0]
        reference = self.attempts["numpy"][0]
        same_code = normalize(first.code) == normalize(self.row.numpy)
        return same_code and first.error is None and first.key == reference.key

    @property
    def agreement(self) -> str:
        """What the final results say: ``same``, or ``spelling`` (same results, but some
        framework needed other code than NumPy's), or what differs: ``raises``,
        ``dtype``, ``shape``, ``values``, ``result``."""
        finals = [
            o for o in (self.outcome(fw) for fw in FRAMEWORKS) if o is not None
        ]
        if any(o.error for o in finals):
            return "raises"
        keys = [o.key for o in finals]
        if all(k == keys[0] for k in keys):
            spelled = [self.numpy_spelling_works(fw) for fw in FRAMEWORKS[1:]]
            return "spelling" if False in spelled else "same"
        kinds = {k[0] for k in keys}
        if kinds == {"array"}:
            if len({k[1] for k in keys}) > 1:
                return "dtype"
            if len({k[2] for k in keys}) > 1:
                return "shape"
            return "values"
        if kinds == {"dtype"}:
            return "dtype"
        return "result"


def run_row(row: Row) -> RowResult:
    """Run every attempt of ``row`` in every framework."""
    if not isinstance(row, Row):
        raise TypeError(f"row must be a Row, got {type(row).__name__}")
    result = RowResult(row)
    for framework in FRAMEWORKS:
        result.attempts[framework] = [
            run_snippet(code, framework) for code in row.attempts(framework)
        ]
    return result


# --- The rows the developer-experience chapter shows ------------------------------------

ROWS: tuple[Row, ...] = (
    # Creation
    Row(
        "creation",
        "integer range, 2 x 3",
        "np.arange(6).reshape(2, 3)",
        tensorflow=(
            "tf.arange(6).reshape(2, 3)",
            "tf.reshape(tf.range(6), (2, 3))",
        ),
    ),
    Row(
        "creation",
        "from a list of floats",
        "np.array([1.0, 2.0])",
        pytorch=("torch.array([1.0, 2.0])", "torch.tensor([1.0, 2.0])"),
        tensorflow=("tf.constant([1.0, 2.0])",),
    ),
    Row("creation", "zeros", "np.zeros((2, 3))"),
    # Indexing and slicing
    Row("indexing", "one element", "a[1, 2]"),
    Row("indexing", "one column", "a[:, 1]"),
    Row(
        "indexing",
        "reverse the columns",
        "a[:, ::-1]",
        pytorch=("a[:, ::-1]", "a.flip(1)"),
    ),
    Row("indexing", "boolean mask", "a[a > 2]"),
    Row(
        "indexing",
        "pick columns by a list",
        "a[:, [0, 2]]",
        tensorflow=("a[:, [0, 2]]", "tf.gather(a, [0, 2], axis=1)"),
    ),
    # Broadcasting
    Row("broadcasting", "add a row to each row", "a + a[0]"),
    Row(
        "broadcasting",
        "centre each row",
        "a - a.mean(axis=1, keepdims=True)",
        tensorflow=(
            "a - a.mean(axis=1, keepdims=True)",
            "a - tf.reduce_mean(a, axis=1, keepdims=True)",
        ),
    ),
    # Reshaping and transposing
    Row(
        "reshaping",
        "reshape",
        "a.reshape(3, 2)",
        tensorflow=("a.reshape(3, 2)", "tf.reshape(a, (3, 2))"),
    ),
    Row(
        "reshaping", "transpose", "a.T", tensorflow=("a.T", "tf.transpose(a)")
    ),
    Row("reshaping", "new axis", "a[:, None, :].shape"),
    # In-place updates
    Row(
        "in-place",
        "set one element",
        "a[0, 0] = 100\na",
        tensorflow=(
            "a[0, 0] = 100\na",
            "v = tf.Variable(a)\nv[0, 0].assign(100)\nv",
        ),
    ),
    Row(
        "in-place",
        "a += 1 seen through an alias",
        "b = a\na += 1\nb",
        tensorflow=(
            "b = a\na += 1\nb",
            "b = v = tf.Variable(a)\nv.assign_add(tf.ones_like(a))\nb",
        ),
    ),
    # dtype promotion
    Row("dtypes", "int32 + Python float", "np.ones(2, dtype=np.int32) + 1.5"),
    Row("dtypes", "int32 / Python int", "np.ones(2, dtype=np.int32) / 2"),
    Row(
        "dtypes",
        "int64 + float32",
        "np.ones(2, dtype=np.int64) + np.ones(2, dtype=np.float32)",
    ),
    Row(
        "dtypes",
        "float32 + float64",
        "np.ones(2, dtype=np.float32) + np.ones(2, dtype=np.float64)",
    ),
    # Conversion to and from NumPy
    Row(
        "conversion",
        "wrap a NumPy array, then write to the array",
        "src = np.zeros(3, np.float32)\nt = np.asarray(src)\nsrc[0] = 1\nt",
        pytorch=(
            "src = np.zeros(3, np.float32)\nt = torch.from_numpy(src)\nsrc[0] = 1\nt",
        ),
        tensorflow=(
            "src = np.zeros(3, np.float32)\nt = tf.convert_to_tensor(src)\nsrc[0] = 1\nt",
        ),
    ),
    Row(
        "conversion",
        "copy a NumPy array, then write to the array",
        "src = np.zeros(3, np.float32)\nt = np.array(src)\nsrc[0] = 1\nt",
        pytorch=(
            "src = np.zeros(3, np.float32)\nt = torch.tensor(src)\nsrc[0] = 1\nt",
        ),
        tensorflow=(
            "src = np.zeros(3, np.float32)\nt = tf.constant(src)\nsrc[0] = 1\nt",
        ),
    ),
    Row(
        "conversion",
        "to NumPy, then write to the result",
        None,
        pytorch=("t = torch.zeros(3)\nn = t.numpy()\nn[0] = 1\nt",),
        tensorflow=("t = tf.zeros(3)\nn = t.numpy()\nn[0] = 1\nt",),
    ),
    # Devices
    Row("devices", "where the data lives", "a.device"),
    Row(
        "devices",
        "a GPU is visible",
        None,
        pytorch=("torch.cuda.is_available()",),
        tensorflow=("len(tf.config.list_physical_devices('GPU')) > 0",),
    ),
    Row(
        "devices",
        "place on the CPU explicitly",
        "a.to_device('cpu').device",
        pytorch=("a.to('cpu').device",),
        tensorflow=("with tf.device('/CPU:0'):\n    b = a + 0\nb.device",),
    ),
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


# --- Rendering -------------------------------------------------------------------

_STYLE = """<style>
/* !important: the theme sets table-layout: auto on every table in a cell output. */
table.api-table { border-collapse: collapse; font-size: 0.8em; width: 100% !important;
  table-layout: fixed !important; }
table.api-table th, table.api-table td { border: 1px solid var(--pst-color-border, #ccc);
  padding: 0.3em 0.45em; vertical-align: top; overflow-wrap: anywhere; }
table.api-table caption { caption-side: bottom; text-align: left; font-size: 0.95em;
  color: var(--pst-color-text-muted, #555); padding-top: 0.3em; }
table.api-table tr.task th { text-align: left; font-weight: 600;
  background: var(--pst-color-surface, #f3f4f5); }
table.api-table tr.task th .verdict { float: right; font-weight: normal; }
table.api-table tr.task.differs th .verdict { font-weight: 600; color: #a04a00; }
table.api-table tr.task.differs th { background: rgba(255, 143, 0, 0.18); }
table.api-table pre { margin: 0; padding: 0; background: none; border: none;
  font-size: 1em; white-space: pre-wrap; overflow-wrap: anywhere; }
table.api-table .attempt + .attempt { margin-top: 0.45em; border-top: 1px dashed #bbb;
  padding-top: 0.3em; }
table.api-table .result { color: var(--pst-color-text-muted, #555); }
table.api-table .raised { color: #c62828; }
table.api-table .not-numpy { color: #a04a00; }
</style>"""


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
    if not isinstance(caption, str):
        raise TypeError(
            f"caption must be a string, got {type(caption).__name__}"
        )
    head = "".join(f"<th>{LABELS[fw]}</th>" for fw in FRAMEWORKS)
    columns = f'<col style="width: {100 / len(FRAMEWORKS):.2f}%">' * len(
        FRAMEWORKS
    )
    rows = []
    for result in results:
        verdict = result.agreement
        css = {"same": "task", "spelling": "task spelling"}.get(
            verdict, "task differs"
        )
        rows.append(
            f'<tr class="{css}"><th colspan="{len(FRAMEWORKS)}">'
            f"{html.escape(result.row.task)}"
            f'<span class="verdict">{VERDICT_TEXT[verdict]}</span></th></tr>'
            "<tr>" + "".join(_cell(result, fw) for fw in FRAMEWORKS) + "</tr>"
        )
    return (
        f'{_STYLE}<table class="api-table"><caption>{html.escape(caption)}</caption>'
        f"<colgroup>{columns}</colgroup><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def summarize(results: list[RowResult]) -> dict[str, int]:
    """Counts: rows, rows where all agree, NumPy spellings each framework accepted.

    >>> summarize(run_rows(topics=("indexing",)))["rows"]
    5
    """
    with_numpy = [r for r in results if r.row.numpy is not None]
    return {
        "rows": len(results),
        "all agree": sum(r.agreement == "same" for r in results),
        "rows with NumPy code": len(with_numpy),
        "NumPy spelling works in PyTorch": sum(
            bool(r.numpy_spelling_works("pytorch")) for r in with_numpy
        ),
        "NumPy spelling works in TensorFlow": sum(
            bool(r.numpy_spelling_works("tensorflow")) for r in with_numpy
        ),
    }


SPELLINGS = {
    "pytorch": ("pytorch", "torch"),
    "tensorflow": ("tensorflow", "tf"),
    "tf.experimental.numpy": ("tensorflow", "tnp"),
}


def numpy_spelling_report(
    spelling: str, numpy_behavior: bool = False
) -> dict[str, bool]:
    """For each row with NumPy code: does its NumPy spelling give NumPy's result?

    ``spelling`` picks the module that replaces ``np.``: ``"pytorch"``
    (``torch.``), ``"tensorflow"`` (``tf.``) or ``"tf.experimental.numpy"``
    (``tnp.``). With ``numpy_behavior``, first calls
    ``tf.experimental.numpy.experimental_enable_numpy_behavior()``, which
    changes TensorFlow for the rest of the process: run that in a subprocess
    (``python -m companion.tensor_api --numpy-behavior``).
    """
    if spelling not in SPELLINGS:
        raise ValueError(
            f"spelling must be one of {sorted(SPELLINGS)}, got {spelling!r}"
        )
    framework, module = SPELLINGS[spelling]
    if numpy_behavior:
        if framework != "tensorflow":
            raise ValueError(
                "numpy_behavior applies to TensorFlow spellings only"
            )
        import tensorflow as tf

        tf.experimental.numpy.experimental_enable_numpy_behavior()
    works = {}
    for row in ROWS:
        if row.numpy is None:
            continue
        reference = run_snippet(row.numpy, "numpy")
        outcome = run_snippet(
            translate(row.numpy, framework, module), framework
        )
        works[row.task] = (
            outcome.error is None and outcome.key == reference.key
        )
    return works


def numpy_spelling_report_in_subprocess(
    spelling: str = "tf.experimental.numpy", numpy_behavior: bool = True
) -> dict[str, bool]:
    """:func:`numpy_spelling_report` in a fresh Python process, so no global switch leaks."""
    import subprocess

    if spelling not in SPELLINGS:
        raise ValueError(
            f"spelling must be one of {sorted(SPELLINGS)}, got {spelling!r}"
        )
    command = [
        sys.executable,
        "-m",
        "companion.tensor_api",
        "--spelling",
        spelling,
    ]
    if numpy_behavior:
        command.append("--numpy-behavior")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command[1:])} failed: {done.stderr.strip()[-500:]}"
        )
    return json.loads(done.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Report which NumPy spellings of the book's rows TensorFlow runs unchanged."
    )
    parser.add_argument(
        "--numpy-behavior",
        action="store_true",
        help="enable tf.experimental.numpy's NumPy behaviour first",
    )
    parser.add_argument(
        "--spelling",
        choices=sorted(SPELLINGS),
        default="tf.experimental.numpy",
        help="which module replaces np. (default tf.experimental.numpy)",
    )
    args = parser.parse_args(argv)
    if args.numpy_behavior and SPELLINGS[args.spelling][0] != "tensorflow":
        parser.error("--numpy-behavior applies to TensorFlow spellings only")
    report = numpy_spelling_report(
        args.spelling, numpy_behavior=args.numpy_behavior
    )
    json.dump(report, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
