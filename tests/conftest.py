"""Shared paths and settings for the test suite."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
HTML = DOCS / "_build" / "html"

# The book's Sphinx extensions are plain modules in docs/_ext; book_html.py,
# the tests' shared reader of the built site, sits next to this file.
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# The fixture book is data for test_book_machinery, not tests.
collect_ignore = ["fixtures"]


@pytest.fixture(scope="session")
def built_html() -> Path:
    """The built book; ``nox -s tests`` builds it before the site checks run."""
    if not (HTML / "index.html").is_file():
        pytest.fail(f"no built book at {HTML}: run `nox -s docs` first")
    return HTML
