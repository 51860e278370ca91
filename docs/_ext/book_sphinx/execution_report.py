"""Fail the build on a failing chapter, naming the chapter and the cell.

MyST-NB reports a failed execution as a warning with nbclient's traceback (it
shows the cell's source). This extension adds one line that points at the
cell itself, ``chapters/x.md:42: cell 3 raised ZeroDivisionError``, marks the
build as failed even without ``-W``, and makes Sphinx re-read (so re-execute)
every chapter whose last execution failed: a broken chapter cannot pass on
the next incremental build just because its source did not change.

It also writes ``execution.json`` next to the HTML folder: for every executed
page, whether it succeeded, how long it ran and whether the outputs came from
the cache. The site tests use it to check that every chapter really ran.

With ``nb_execution_raise_on_error = False`` (set in conf.py) the build keeps
going, so one run reports every failing chapter instead of stopping at the first.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from docutils import nodes
from myst_nb.sphinx_ import NbMetadataCollector
from sphinx.application import Sphinx
from sphinx.util import logging

from book_sphinx.book_common import WARNING_TYPE
from book_sphinx.execution_scheduler import failed_pages

LOGGER = logging.getLogger(__name__)
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


def failed_execution(env, docname: str) -> dict | None:
    data = NbMetadataCollector.get_exec_data(env, docname)
    return data if data and not data.get("succeeded", True) else None


def traceback_of(cell: nodes.container) -> str | None:
    for block in cell.findall(nodes.literal_block):
        if "traceback" in block["classes"]:
            return ANSI_ESCAPE.sub("", block.astext())
    return None


def culprit_cell(doctree: nodes.document) -> nodes.container | None:
    """The cell that raised (it shows a traceback), else the first that never ran (timeout)."""
    cells = [n for n in doctree.findall(nodes.container) if n.get("nb_element") == "cell_code"]
    for cell in cells:
        if traceback_of(cell) is not None:
            return cell
    for cell in cells:
        if cell.get("exec_count") is None:
            return cell
    return None


def report_failure(app: Sphinx, doctree: nodes.document) -> None:
    docname = app.env.docname
    failure = failed_execution(app.env, docname)
    if failure is None:
        return
    cell = culprit_cell(doctree)
    if cell is None:
        what = failure.get("error") or "an error"
        LOGGER.warning(
            f"execution failed with {what}",
            location=docname,
            type=WARNING_TYPE,
            subtype="execution",
        )
        return
    traceback = traceback_of(cell)
    if failure.get("error") == "CellTimeoutError":
        # nbclient interrupts the kernel, so the cell shows a KeyboardInterrupt.
        verb = f"timed out after {app.config.nb_execution_timeout} s (nb_execution_timeout)"
    elif traceback:
        # The last line of a Python traceback names the exception and its message.
        verb = "raised " + traceback.strip().splitlines()[-1].strip()
    else:
        verb = f"failed with {failure.get('error')}"
    source = cell.next_node(nodes.literal_block).astext().strip().splitlines()
    LOGGER.warning(
        f"code cell {cell['cell_index']} {verb}; it starts with: {source[0] if source else ''!r}",
        location=(docname, cell.line),
        type=WARNING_TYPE,
        subtype="execution",
    )


def reread_failed(app: Sphinx, env, added, changed, removed) -> list[str]:
    return sorted(d for d in env.all_docs if d not in changed and failed_execution(env, d))


def finish(app: Sphinx, exception) -> None:
    if exception is not None:
        return
    failed = sorted(
        {d for d in app.env.all_docs if failed_execution(app.env, d)} | set(failed_pages(app.env))
    )
    if failed:
        LOGGER.error(f"{len(failed)} chapter(s) failed to execute: {', '.join(sorted(failed))}")
        app.statuscode = 1
    records = {}
    for docname in sorted(app.env.all_docs):
        data = NbMetadataCollector.get_exec_data(app.env, docname)
        if data:
            records[docname] = {k: data.get(k) for k in ("succeeded", "runtime", "method", "error")}
    path = Path(app.outdir).parent / "execution.json"
    text = json.dumps(records, indent=1, sort_keys=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def setup(app: Sphinx) -> dict:
    app.connect("doctree-read", report_failure)
    app.connect("env-get-outdated", reread_failed)
    app.connect("build-finished", finish)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
