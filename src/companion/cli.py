"""Small pieces shared by the example scripts' command-line handling.

>>> import tempfile, pathlib
>>> target = pathlib.Path(tempfile.mkdtemp()) / "out" / "nested"
>>> ensure_output_dir(target) == target
True
"""

from __future__ import annotations

from pathlib import Path


def ensure_output_dir(path: Path) -> Path:
    """Create ``path`` (and its parents) or exit with a one-line error and status 1."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SystemExit(
            f"error: cannot create output directory {path}: {error.strerror}"
        ) from None
    return path
