"""Paths, import locations and the fixtures that tests in several folders share.

The tests are split by cost, each folder runnable alone (see noxfile.py):
``unit/`` (the companion package and docs/_ext, no book), ``examples/`` (the
example scripts on tiny settings), ``machinery/`` (a small fixture book),
``reproduce/`` (fresh-kernel re-runs of the built book and a second
rendering) and ``site/`` (checks on an existing build, a browser included).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
# The tests' shared readers of the built site (book_html.py and friends) sit
# here; the book's Sphinx extensions are the installed book_sphinx package.
sys.path.insert(0, str(TESTS))

from book_html import HTML  # noqa: E402

from companion.quiet import QUIET_ENVIRONMENT  # noqa: E402

for _name, _value in QUIET_ENVIRONMENT.items():
    os.environ.setdefault(_name, _value)

# The fixture book is data for tests/machinery, not tests.
collect_ignore = ["machinery/fixtures"]


@pytest.fixture(scope="session")
def built_html() -> Path:
    """The built book; ``nox -s tests`` builds it before the checks that need it run."""
    if not (HTML / "index.html").is_file():
        pytest.fail(f"no built book at {HTML}: run `nox -s docs` first")
    return HTML


@pytest.fixture(scope="session")
def digits_split():
    """The digits data, split as every chapter splits it (seed 0)."""
    from companion.digits import load_digits_split

    return load_digits_split(seed=0)


@pytest.fixture
def example():
    """``example("train_cnn.py", "--epochs", "1")`` runs an example script."""
    from example_scripts import run_example

    return run_example
