"""Every "copy with setup" snippet, run on its own in a fresh kernel, prints what the page shows.

A snippet is a cell with the earlier cells it needs (``docs/_ext/book_sphinx/cell_slices.py``),
as the page's second copy button copies it. Each offered snippet runs in a
fresh kernel in an empty folder, as a reader who pastes it into a new
notebook would, and the output of its last cell is compared with the page
(timing cells aside; a cell tagged raises-exception must raise). Snippets
that are prefixes of one another share a run; snippets made of the first
cells of the page, in order, are verified by the page's own re-run (see
``conftest.py``). Each section's script runs as ``python script.py`` in an
empty folder and must run through (forked, and in a new process if it fails
forked; see ``conftest.py``). What the build's check budget does not cover
(``CheckBudget`` in ``docs/_ext/book_sphinx/copy_with_setup.py``) is labelled on the page
instead; ``test-artifacts/snippets.json`` counts, per page, what was verified
and what was labelled, with the reasons.
"""

from __future__ import annotations

import json
import re
import statistics
from collections import Counter

import pytest
from book_html import ARTIFACTS, selected_pages
from book_reproduction import (
    code_cell_order,
    page_snippets,
    published_notebook,
    section_scripts,
    snippet_problems,
    snippets_checked_apart,
    stderr_without_native_logs,
)
from book_sphinx.cell_slices import Cell, Slice, slice_source

PAGES = selected_pages()
#: The targets of issue 17, reported against in snippets.json (and so in the
#: cost report of ``nox -s tests``); budgets to reach, not pass marks.
TARGET_SHARE = 0.9
TARGET_MEDIAN_LINES = 15


@pytest.mark.parametrize("page", PAGES)
def test_every_shown_code_cell_has_a_snippet_or_a_label(page, built_html):
    notebook = published_notebook(built_html, page)
    snippets = {s.cell: s for s in page_snippets(built_html, page)}
    assert set(snippets) == set(code_cell_order(notebook))
    for snippet in snippets.values():
        cells = [Cell(notebook.cells[i].source) for i in snippet.cells]
        expected = slice_source(cells, Slice(list(range(len(cells)))))
        assert snippet.text == expected, f"{page}: cell {snippet.cell}'s snippet is not its cells"


@pytest.mark.parametrize("page", PAGES)
def test_each_offered_snippet_reproduces_its_cell_on_its_own(page, built_html, reproduction):
    notebook = published_notebook(built_html, page)
    order = code_cell_order(notebook)
    problems = []
    # Labelled snippets, and those the page's own run checks, are left to other tests.
    for snippet in snippets_checked_apart(page_snippets(built_html, page), order):
        runs = [
            run
            for (p, cells), run in reproduction.cell_runs.items()
            if p == page and cells[: len(snippet.cells)] == snippet.cells
        ]
        assert runs, f"{page}: no run verifies the snippet of cell {snippet.cell}"
        problems += snippet_problems(notebook, snippet, runs[0])
    assert problems == [], f"{page}:\n" + "\n\n".join(problems)


@pytest.mark.parametrize("page", PAGES)
def test_each_section_script_runs_in_a_fresh_process(page, built_html, reproduction):
    problems = []
    for script in section_scripts(built_html, page):
        result = reproduction.scripts.get((page, script["file"]))
        if result is None:
            continue  # labelled on the page (heavy, incomplete or over budget), counted below
        if result.returncode != 0:
            problems.append(
                f"{script['file']} failed:\n{stderr_without_native_logs(result.stderr)[-2000:]}"
            )
    assert problems == [], f"{page}:\n" + "\n".join(problems)


def test_every_cell_has_a_verified_snippet_or_says_why(built_html):
    """Count, per page, what was offered (and verified above) and what is labelled.

    The share and the median length are reported against their targets in
    ``test-artifacts/snippets.json``; what must hold is that no cell is left
    without either a snippet or a visible reason.
    """
    report, lines, offered, total = {}, [], 0, 0
    for page in PAGES:
        snippets = page_snippets(built_html, page)
        labelled = [s for s in snippets if not s.offered]
        assert all(s.label.strip() for s in labelled), f"{page}: a cell without snippet or reason"
        scripts = section_scripts(built_html, page)
        report[page] = {
            "cells": len(snippets),
            "offered": len(snippets) - len(labelled),
            "labelled": {str(s.cell): s.label for s in labelled},
            "median_lines": statistics.median([len(s.text.splitlines()) for s in snippets]),
            "scripts": len(scripts),
            "scripts_verified": sum(
                1 for s in scripts if not (s["heavy"] or s["incomplete"] or s.get("label"))
            ),
        }
        lines += [len(s.text.splitlines()) for s in snippets]
        offered += len(snippets) - len(labelled)
        total += len(snippets)
    assert total, "no page has code cells"
    reasons = Counter(
        re.sub(r"\d+", "N", label)
        for page in report.values()
        for label in page["labelled"].values()
    )
    summary = {
        "cells": total,
        "offered_and_verified": offered,
        "labelled_by_reason": dict(reasons.most_common()),
        "share": round(offered / total, 3),
        "target_share": TARGET_SHARE,
        "median_lines": statistics.median(lines),
        "target_median_lines": TARGET_MEDIAN_LINES,
        "largest_lines": max(lines),
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "snippets.json").write_text(
        json.dumps({"summary": summary, "pages": report}, indent=1)
    )
