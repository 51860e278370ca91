"""Keep TensorFlow's start-up log lines out of a script's output, a child's and a notebook's.

TensorFlow's C++ runtime logs to standard error as soon as it loads, and
its data pipeline logs a harmless version notice at ERROR level. The level
is read from the environment when TensorFlow is imported, so it must be set
first. The companion uses one level everywhere, :data:`TF_LOG_LEVEL`, in its
scripts (:func:`quiet_tensorflow_logs`) and in every process it starts
(:data:`QUIET_ENVIRONMENT`, through :func:`companion.processes.run_python`).
Python exceptions are not log lines: they still reach standard error.

The level does not hide everything. On TensorFlow 2.21 two lines come at
every import whatever the level (each twice, once from each of two native
libraries that carry their own copy of the logging code): Abseil's
``WARNING: All log messages before absl::InitializeLog() is called are
written to STDERR``, a notice that logging has not been configured yet, and
``I0000 ... port.cc:153] oneDNN custom operations are on``, which says that
oneDNN's kernels (kept on: see the chapter on performance) may round
differently from the reference kernels. Both are written by C++ straight to
file descriptor 2. A terminal shows them and moves on; a Jupyter kernel by
default captures that descriptor and prints it in the cell's output. The
book's own kernels do not capture it (``capture_fd_output = False``), so
these lines go to the build log; :func:`release_native_stderr` does the same
in any kernel a reader runs, and :func:`quiet_tensorflow_logs` calls it.

>>> import os
>>> quiet_tensorflow_logs()
>>> os.environ["TF_CPP_MIN_LOG_LEVEL"]
'3'
>>> QUIET_ENVIRONMENT
{'TF_CPP_MIN_LOG_LEVEL': '3'}
>>> release_native_stderr()  # outside a Jupyter kernel there is nothing to release
False
"""

from __future__ import annotations

import logging
import os
import sys

from companion.validation import check_instance, check_int

LEVELS = {
    0: "all messages",
    1: "hide INFO",
    2: "hide INFO and WARNING",
    3: "errors hidden too",
}

#: The level from which TensorFlow's warnings are hidden too.
WARNINGS_HIDDEN = 2

#: The C++ log level of every script and child process the companion runs.
TF_LOG_LEVEL = 3

#: The variables a quiet process gets on top of its parent's environment.
QUIET_ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": str(TF_LOG_LEVEL)}


def release_native_stderr() -> bool:
    """In a Jupyter kernel that captures file descriptor 2, stop capturing it; return whether it did.

    ipykernel (6 and later) replaces descriptor 2 with a pipe and copies what
    native libraries write there into the cell's output. This stops that the
    way ipykernel itself does when its stream closes: stop the watching
    thread, then point descriptor 2 back at the kernel's own standard error
    (the terminal or log of whatever started the kernel). Python's
    ``sys.stderr``, warnings and tracebacks included, still reaches the
    notebook. Outside such a kernel, or on an ipykernel without these
    attributes, nothing changes.
    """
    stream = sys.stderr
    original = getattr(stream, "_original_stdstream_copy", None)
    fd = getattr(stream, "_original_stdstream_fd", None)
    thread = getattr(stream, "watch_fd_thread", None)
    if (
        original is None
        or fd is None
        or thread is None
        or not getattr(stream, "_should_watch", False)
    ):
        return False
    stream.flush()
    stream._should_watch = False
    os.write(
        fd, b"\0"
    )  # wakes the watching thread, which then sees it should stop
    thread.join(timeout=5)
    os.dup2(original, fd)
    return True


def quiet_tensorflow_logs(
    level: int = TF_LOG_LEVEL, *, python_logger: bool = True
) -> None:
    """Set TensorFlow's C++ log level, quieten its Python logger, keep native lines off notebooks.

    Call before ``import tensorflow``; after it, only the Python-side logger
    can still be changed (``python_logger=False`` leaves it alone). ``level``
    follows ``TF_CPP_MIN_LOG_LEVEL`` (see :data:`LEVELS`): 0 shows
    everything, 3 hides even the C++ runtime's error lines. We keep oneDNN
    on (turning it off changes speed and round-off). In a Jupyter kernel,
    the lines no level hides go to the kernel's standard error instead of
    the cell (:func:`release_native_stderr`).
    """
    check_int("level", level, minimum=min(LEVELS), maximum=max(LEVELS))
    check_instance("python_logger", python_logger, bool)
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = str(level)
    if python_logger and "tensorflow" in sys.modules:
        logging.getLogger("tensorflow").setLevel(
            logging.ERROR if level >= WARNINGS_HIDDEN else logging.INFO
        )
    release_native_stderr()
