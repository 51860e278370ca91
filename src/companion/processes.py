"""Run Python in a fresh interpreter, quietly: the one way the companion starts a process.

Some measurements need a process of their own: an import timed from
nothing, a Keras backend chosen before ``keras`` loads, an exported model
loaded where the model's code never was, a global switch that must not
leak. :func:`run_python` starts ``sys.executable`` with the parent's
environment plus :data:`companion.quiet.QUIET_ENVIRONMENT` (and any extra
variables), captures its output as text and never raises for a non-zero
exit; :func:`check_run` turns a failed run into an error carrying the last
line the child wrote to standard error.

>>> done = run_python(["-c", "import os; print(os.environ['TF_CPP_MIN_LOG_LEVEL'])"])
>>> done.returncode, done.stdout
(0, '3\\n')
>>> check_run(run_python(["-c", "raise SystemExit('no luck')"]), "the demo")
Traceback (most recent call last):
    ...
companion.processes.ProcessError: the demo failed (exit 1): no luck
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence

from companion.quiet import QUIET_ENVIRONMENT


class ProcessError(RuntimeError):
    """A child process exited with an error, or did not answer in time."""


def quiet_environment(
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """This process's environment with :data:`QUIET_ENVIRONMENT` and ``extra`` on top."""
    return {**os.environ, **QUIET_ENVIRONMENT, **(extra or {})}


def run_python(
    arguments: Sequence[str],
    *,
    environment: Mapping[str, str] | None = None,
    timeout: float | None = None,
    cwd=None,
) -> subprocess.CompletedProcess:
    """``python *arguments`` in a fresh interpreter, quiet, output captured as text.

    ``environment`` adds variables to the quiet environment. A run that
    exceeds ``timeout`` raises :class:`ProcessError`.
    """
    if isinstance(arguments, str):
        raise TypeError(
            f"arguments must be a list of strings, e.g. [{arguments!r}]"
        )
    command = [sys.executable, *map(str, arguments)]
    try:
        return subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=quiet_environment(environment),
            cwd=cwd,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise ProcessError(
            f"python {' '.join(command[1:3])} gave no answer within {timeout} s"
        ) from error


def last_line(text: str, default: str = "") -> str:
    """The last non-blank line of ``text``.

    >>> last_line("first\\nlast\\n\\n")
    'last'
    """
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else default


def check_run(
    done: subprocess.CompletedProcess, what: str
) -> subprocess.CompletedProcess:
    """Return ``done`` if it exited 0; else raise :class:`ProcessError` naming ``what``."""
    if done.returncode != 0:
        reason = last_line(done.stderr, "no error output")
        raise ProcessError(f"{what} failed (exit {done.returncode}): {reason}")
    return done
