"""Small pieces shared by the example scripts' and the modules' command lines.

>>> import tempfile, pathlib
>>> target = pathlib.Path(tempfile.mkdtemp()) / "out" / "nested"
>>> ensure_output_dir(target) == target
True
>>> positive_int("3")
3
>>> error_line(ValueError("bad shape\\nmore detail"))
'ValueError: bad shape'
"""

from __future__ import annotations

import argparse
import sys
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


def positive_int(text: str) -> int:
    """An argparse ``type``: a whole number of at least 1.

    >>> positive_int("0")
    Traceback (most recent call last):
        ...
    argparse.ArgumentTypeError: must be at least 1, got 0
    >>> positive_int("many")
    Traceback (most recent call last):
        ...
    argparse.ArgumentTypeError: expected a whole number, got 'many'
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number, got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def error_line(error: BaseException, limit: int | None = None) -> str:
    """``"KeyError: 'x'"``: the exception's type and its message's first line.

    With ``limit``, the line is cut to that many characters.

    >>> error_line(RuntimeError())
    'RuntimeError'
    >>> error_line(ValueError("x" * 20), limit=12)
    'ValueError: '
    """
    message = str(error).strip().splitlines()
    line = (
        f"{type(error).__name__}: {message[0]}"
        if message
        else type(error).__name__
    )
    return line if limit is None else line[:limit]


def fail(message: str, status: int = 1) -> int:
    """Print ``error: message`` to standard error; return the exit ``status``.

    >>> import contextlib, io
    >>> with contextlib.redirect_stderr(io.StringIO()) as err:
    ...     status = fail("no such file")
    >>> status, err.getvalue()
    (1, 'error: no such file\\n')
    """
    print(f"error: {message}", file=sys.stderr)
    return status
