"""Running the example scripts the way a reader runs them: ``python examples/<script> ...``."""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
from pathlib import Path

from book_html import ROOT
from zygote import Zygote

EXAMPLES = ROOT / "examples"
SCRIPTS = sorted(EXAMPLES.glob("*.py"))
_zygotes: list[Zygote] = []  # one per test process, started by the first run that needs it


def run_example(
    script: str, *args: str, cwd: Path | None = None, fresh: bool = False
) -> subprocess.CompletedProcess:
    """Run ``examples/<script>`` with the tests' interpreter; capture its output.

    The run is a child of a process that has imported the frameworks
    (``tests/zygote.py``), which saves their imports each time; ``fresh``
    starts a new ``python`` instead, exactly as a reader does.
    """
    argv = [str(EXAMPLES / script), *args]
    if fresh:
        return subprocess.run(
            [sys.executable, *argv], capture_output=True, text=True, cwd=cwd, check=False
        )
    if not _zygotes:
        _zygotes.append(Zygote(dict(os.environ), kernels=False))
        atexit.register(_zygotes[0].close)
    return _zygotes[0].run(argv, cwd=cwd)


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
