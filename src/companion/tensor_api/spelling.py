"""How far the NumPy spelling of each row gets in each framework, counted and reported.

``python -m companion.tensor_api --numpy-behavior`` runs the report in a
process of its own, because NumPy behaviour, once enabled, changes
TensorFlow for the rest of the process.
"""

from __future__ import annotations

import argparse
import json
import sys

from companion.processes import check_run, run_python
from companion.tensor_api.rows import ROWS
from companion.tensor_api.snippets import RowResult, run_snippet, translate
from companion.validation import check_choice


def count_agreements(results: list[RowResult]) -> dict[str, int]:
    """Counts: rows, rows where all agree, NumPy spellings each framework accepted.

    >>> from companion.tensor_api.rows import run_rows
    >>> count_agreements(run_rows(topics=("indexing",)))["rows"]
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
    check_choice("spelling", spelling, SPELLINGS)
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
    check_choice("spelling", spelling, SPELLINGS)
    arguments = ["-m", "companion.tensor_api", "--spelling", spelling]
    if numpy_behavior:
        arguments.append("--numpy-behavior")
    done = run_python(arguments)
    check_run(done, f"python {' '.join(arguments)}")
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
