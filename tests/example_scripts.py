"""Running the example scripts the way a reader runs them: ``python examples/<script> ...``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from book_html import ROOT

EXAMPLES = ROOT / "examples"
SCRIPTS = sorted(EXAMPLES.glob("*.py"))


def run_example(script: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``examples/<script>`` with the tests' interpreter; capture its output."""
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )


def unwritable_directory(tmp_path: Path) -> Path:
    """A directory that cannot be created: its parent is a plain file."""
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    return blocker / "sub"


def assert_usage_error(result: subprocess.CompletedProcess, message: str) -> None:
    """argparse's refusal: exit status 2, ``message`` on stderr, no traceback."""
    assert result.returncode == 2, result.stderr
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr


def assert_cannot_create_output(result: subprocess.CompletedProcess) -> None:
    """A run whose ``--out`` is an :func:`unwritable_directory` fails in one line saying so."""
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().startswith("error: cannot create output directory"), result.stderr
