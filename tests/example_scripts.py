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
