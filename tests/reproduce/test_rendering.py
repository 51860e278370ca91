"""Rendering the same executed outputs twice gives the same site, file for file.

The book is rendered a second time from scratch (new doctrees, a new output
folder, ``-E -a``) from the same execution cache, so nothing executes; every
file of the two sites is compared (see ``tests/book_rendering.py`` for what
may differ). Reproducible *outputs* are checked by the fresh-kernel re-run in
``test_reproduction.py``; this checks that turning outputs into pages is
deterministic, cheaply: a rendering takes seconds, not an execution of the book.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from book_html import ARTIFACTS, DOCS
from book_rendering import site_differences
from book_sphinx.book_common import STRICT_SPHINX_ARGS

SECOND = DOCS / "_build" / "second-rendering"


@pytest.fixture(scope="module")
def second_rendering(built_html) -> Path:
    assert (built_html / "index.html").is_file()
    shutil.rmtree(SECOND, ignore_errors=True)
    command = [
        str(Path(sys.executable).parent / "sphinx-build"),
        "-E",
        "-a",
        *STRICT_SPHINX_ARGS,
        *("-b", "html", "-j", "auto", "-d", str(SECOND / "doctrees")),
        str(DOCS),
        str(SECOND / "html"),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "second-rendering.log").write_text(result.stdout + result.stderr)
    assert result.returncode == 0, (
        f"second rendering failed:\n{(result.stdout + result.stderr)[-4000:]}"
    )
    executed = json.loads((SECOND / "execution-runs.json").read_text(encoding="utf-8"))
    assert executed == {}, f"the second rendering executed pages (the cache missed): {executed}"
    return SECOND / "html"


def test_two_renderings_of_the_same_outputs_give_the_same_site(built_html, second_rendering):
    differences = site_differences(built_html, second_rendering)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "rendering.txt").write_text("\n\n".join(differences) or "identical\n")
    assert differences == [], "\n\n".join(differences)[:6000]
    assert len(list(built_html.rglob("*.html"))) > 10, "too few pages to mean anything"
