"""Copy what you see: the code the copy buttons copy, run page by page, reproduces the page.

For every executed page, the code of each visible cell is taken from the built
HTML exactly as sphinx-copybutton would put it on the clipboard (settings read
back from the built ``copybutton.js``; tests/test_browser.py checks that port
against the real button). The cells run in the order the page shows them, in a
fresh Jupyter kernel with default settings (none of the book's kernel
configuration), in an empty directory. Then:

* every cell runs without an exception, except cells tagged
  ``raises-exception``, which must raise;
* every cell's printed output (stdout) and result (``text/plain``) equal the
  page's, except in cells tagged ``timing``, whose numbers are measured anew.
  Standard error is not compared: a default kernel captures the frameworks'
  native log lines that the book's kernel keeps out of the page.

Each page's run is about as long as the page's execution in the build.
"""

from __future__ import annotations

import copy
import os
import re
import time

import nbformat
import pytest
from book_html import (
    ARTIFACTS,
    copy_settings,
    executed_pages,
    page_cells,
)
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from stream_merging import merge_streams

pytestmark = pytest.mark.site

CELL_TIMEOUT = 600  # seconds; the build allows 180 per cell, a page may raise its own limit
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


def published_notebook(html_dir, page) -> nbformat.NotebookNode:
    """The page's notebook with the outputs the page shows (the .ipynb download)."""
    return nbformat.read(html_dir / "_sources" / f"{page}.ipynb", as_version=4)


def visible_text(outputs: list) -> dict[str, str]:
    """The parts of a cell's outputs that are compared: stdout and the text of the result.

    Stream chunks are merged as the page merges them (``stream_merging``).
    """
    outputs = merge_streams(copy.deepcopy(outputs))
    stdout = "".join(
        o.get("text", "") for o in outputs if o.output_type == "stream" and o.name == "stdout"
    )
    result = "".join(
        o.data.get("text/plain", "") for o in outputs if o.output_type == "execute_result"
    )
    return {"stdout": ANSI_ESCAPE.sub("", stdout), "result": result}


def test_copy_settings_strip_prompts_and_outputs(built_html):
    settings = copy_settings(built_html)
    assert "cell_output" in (built_html / "_static" / "copybutton.js").read_text(encoding="utf-8")
    assert settings.remove_prompts
    assert settings.only_prompt_lines


@pytest.mark.parametrize("page", executed_pages())
def test_copied_code_is_the_cells_code(page, built_html):
    """The copy text of each visible cell is its source, without prompts, outputs or extras."""
    settings = copy_settings(built_html)
    cells = page_cells(built_html, page, settings)
    sources = [
        c.source for c in published_notebook(built_html, page).cells if c.cell_type == "code"
    ]
    visible = [cell.code for cell in cells if cell.code is not None]
    assert visible, f"{page} shows no code cell to copy"
    missing = [code for code in visible if code not in sources]
    assert missing == [], f"{page}: copied text differs from every cell's source"


@pytest.mark.parametrize("page", executed_pages())
def test_copied_cells_rerun_in_a_fresh_kernel_and_reproduce_the_page(page, built_html, tmp_path):
    settings = copy_settings(built_html)
    cells = page_cells(built_html, page, settings)
    hidden = [i for i, cell in enumerate(cells) if cell.code is None]
    assert hidden == [], (
        f"{page}: cells {hidden} run in the build but show no code to copy, so a reader "
        "cannot reproduce the page; show their input or move them into the companion package"
    )
    # Outputs the page shows, by cell source (the page may group cells into tabs,
    # so its order can differ from the notebook's).
    shown: dict[str, list[dict]] = {}
    for cell in published_notebook(built_html, page).cells:
        if cell.cell_type == "code":
            shown.setdefault(cell.source, []).append(visible_text(cell.outputs))

    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    notebook.cells = [
        nbformat.v4.new_code_cell(cell.code, metadata={"tags": cell.tags}) for cell in cells
    ]
    ipython_dir = tmp_path / "ipython"  # a fresh profile: none of the book's kernel settings
    ipython_dir.mkdir()
    env = {**os.environ, "IPYTHONDIR": str(ipython_dir), "MPLBACKEND": "agg"}
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
        allow_errors=False,  # cells tagged raises-exception may still raise
    )
    started = time.perf_counter()
    try:
        client.execute(env=env)
    except CellExecutionError as error:
        pytest.fail(f"{page}: copied code raised where the page does not:\n{error}")
    seconds = time.perf_counter() - started
    log = ARTIFACTS / "copy-runs.txt"
    log.parent.mkdir(exist_ok=True)
    with log.open("a", encoding="utf-8") as handle:
        handle.write(f"{page}: {len(cells)} cells re-run in {seconds:.1f} s\n")

    problems = []
    for index, (cell, ran) in enumerate(zip(cells, notebook.cells, strict=True)):
        raised = any(o.output_type == "error" for o in ran.outputs)
        if cell.raises and not raised:
            problems.append(f"cell {index} is tagged raises-exception but did not raise")
        if cell.timing or cell.raises:
            continue
        expected = shown.get(cell.code) or []
        got = visible_text(ran.outputs)
        if got not in expected:
            want = expected[0] if expected else "(no such cell on the page)"
            problems.append(f"cell {index} output differs:\n  page: {want!r}\n  run:  {got!r}")
    assert problems == [], f"{page}:\n" + "\n".join(problems)
