"""Keep TensorFlow's start-up log lines out of a script's output and a child's.

TensorFlow's C++ runtime logs to standard error as soon as it loads (CPU
feature notes, oneDNN notices), and its data pipeline logs a harmless
version notice at ERROR level. The level is read from the environment when
TensorFlow is imported, so it must be set first. The companion uses one
level everywhere, :data:`TF_LOG_LEVEL`, in its scripts
(:func:`quiet_tensorflow_logs`) and in every process it starts
(:data:`QUIET_ENVIRONMENT`, through :func:`companion.processes.run_python`).
Python exceptions are not log lines: they still reach standard error.

>>> import os
>>> quiet_tensorflow_logs()
>>> os.environ["TF_CPP_MIN_LOG_LEVEL"]
'3'
>>> QUIET_ENVIRONMENT
{'TF_CPP_MIN_LOG_LEVEL': '3'}
"""

from __future__ import annotations

import logging
import os
import sys

from companion.validation import check_int

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


def quiet_tensorflow_logs(level: int = TF_LOG_LEVEL) -> None:
    """Set TensorFlow's C++ log level and quieten its Python logger.

    Call before ``import tensorflow``; after it, only the Python-side logger
    can still be changed. ``level`` follows ``TF_CPP_MIN_LOG_LEVEL`` (see
    :data:`LEVELS`): 0 shows everything, 3 hides even the C++ runtime's
    error lines. We keep oneDNN on (turning it off changes speed and
    round-off).
    """
    check_int("level", level, minimum=min(LEVELS), maximum=max(LEVELS))
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = str(level)
    if "tensorflow" in sys.modules:
        logging.getLogger("tensorflow").setLevel(
            logging.ERROR if level >= WARNINGS_HIDDEN else logging.INFO
        )
