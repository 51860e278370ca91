"""Every page's code, re-run in a fresh kernel, reproduces the page.

For every executed page, the notebook a reader downloads runs with
``jupyter execute`` in an empty folder and a fresh kernel (see
``tests/book_reproduction.py``). That one run checks, at once:

* what the copy buttons promise: the copied code is exactly the notebook's
  code (checked below without running anything), it runs without an
  exception except in cells tagged ``raises-exception``, which must raise,
  and it prints what the page shows;
* that the outputs are reproducible: every output of every cell not tagged
  ``timing`` (text, results, tables, figures, expected errors) equals the
  page's.

Pages run two at a time (one per CPU), the one that ran alone in the build
too: the outputs of timing cells are not compared, so sharing the machine
changes nothing that is checked.
Seconds per page go to ``test-artifacts/reproduce-runs.json``. ``nox -s
reproduce -- chapters/03-graph-capture`` checks one page.
"""

from __future__ import annotations

import pytest
from book_html import copy_settings, page_cells, selected_pages
from book_reproduction import differences, published_notebook

PAGES = selected_pages()


def test_copy_settings_strip_prompts_and_outputs(built_html):
    settings = copy_settings(built_html)
    assert "cell_output" in (built_html / "_static" / "copybutton.js").read_text(encoding="utf-8")
    assert settings.remove_prompts
    assert settings.only_prompt_lines


@pytest.mark.parametrize("page", PAGES)
def test_copied_code_is_the_notebooks_code(page, built_html):
    """What each copy button copies is the source of a cell of the downloadable notebook."""
    cells = page_cells(built_html, page, copy_settings(built_html))
    hidden = [i for i, cell in enumerate(cells) if cell.code is None]
    assert hidden == [], (
        f"{page}: cells {hidden} run in the build but show no code to copy, so a reader "
        "cannot reproduce the page; show their input or move them into the companion package"
    )
    sources = [
        c.source for c in published_notebook(built_html, page).cells if c.cell_type == "code"
    ]
    missing = [cell.code for cell in cells if cell.code not in sources]
    assert missing == [], f"{page}: copied text differs from every cell's source: {missing[:2]}"
    assert sorted(cell.code for cell in cells) == sorted(sources), (
        f"{page}: the notebook holds code cells the page does not show"
    )


@pytest.mark.parametrize("page", PAGES)
def test_the_page_reruns_in_a_fresh_kernel_and_reproduces_every_output(page, built_html, reruns):
    rerun = reruns[page]
    assert rerun.returncode == 0, (
        f"{page}: `jupyter execute` of the downloaded notebook failed:\n{rerun.log[-4000:]}"
    )
    assert rerun.notebook is not None, f"{page}: `jupyter execute` wrote no notebook"
    problems = differences(published_notebook(built_html, page), rerun.notebook)
    assert problems == [], f"{page}:\n" + "\n".join(problems)
