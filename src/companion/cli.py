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
from collections.abc import Callable
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


def positive_float(text: str) -> float:
    """An argparse ``type``: a finite number above 0.

    >>> positive_float("1e-5")
    1e-05
    >>> positive_float("-1")
    Traceback (most recent call last):
        ...
    argparse.ArgumentTypeError: must be a positive number, got -1
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number, got {text!r}"
        ) from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(
            f"must be a positive number, got {text}"
        )
    return value


def add_number_option(
    parser: argparse.ArgumentParser,
    flag: str,
    what: str,
    *,
    default,
    kind: Callable[[str], object] = positive_int,
    shown_default: str | None = None,
) -> None:
    """Add ``flag`` taking one number: a whole one of at least 1 unless ``kind`` says otherwise.

    The help reads ``what (default D)``: D is the default (a float in ``:g``
    form), or ``shown_default`` where it needs words. The scripts' shared options (``--threads``,
    ``--repeats``, ``--epochs``, ``--timeout``...) are all added this way, so
    each has one type and one wording.

    >>> parser = argparse.ArgumentParser(prog="demo")
    >>> add_number_option(parser, "--threads", "intra-op threads", default=1)
    >>> parser.parse_args(["--threads", "2"]).threads
    2
    >>> parser.format_help().splitlines()[-1].strip()
    '--threads THREADS  intra-op threads (default 1)'
    >>> add_number_option(parser, "--timeout", "seconds", default=180.0, kind=positive_float)
    >>> parser.format_help().splitlines()[-1].strip()
    '--timeout TIMEOUT  seconds (default 180)'
    """
    shown = shown_default
    if shown is None:
        shown = f"{default:g}" if isinstance(default, float) else f"{default}"
    parser.add_argument(
        flag, type=kind, default=default, help=f"{what} (default {shown})"
    )
