"""Keep TensorFlow's start-up log lines out of a script's output.

TensorFlow's C++ runtime logs to standard error as soon as it loads (CPU
feature notes, oneDNN notices). The level is read from the environment when
TensorFlow is imported, so it must be set first.

>>> import os
>>> quiet_tensorflow_logs(level=2)
>>> os.environ["TF_CPP_MIN_LOG_LEVEL"]
'2'
"""

from __future__ import annotations

import logging
import os
import sys

LEVELS = {
    0: "all messages",
    1: "hide INFO",
    2: "hide INFO and WARNING",
    3: "errors hidden too",
}


def quiet_tensorflow_logs(level: int = 2) -> None:
    """Set TensorFlow's C++ log level and quieten its Python logger.

    Call before ``import tensorflow``; after it, only the Python-side logger
    can still be changed. ``level`` follows ``TF_CPP_MIN_LOG_LEVEL``: 0 shows
    everything, 3 hides even errors. oneDNN still prints one notice at
    level 2; we keep oneDNN on (turning it off changes speed and round-off)
    and let that line go to standard error.
    """
    if isinstance(level, bool) or not isinstance(level, int):
        raise TypeError(
            f"level must be an int from 0 to 3, got {type(level).__name__}"
        )
    if level not in LEVELS:
        raise ValueError(
            f"level must be one of {sorted(LEVELS)} ({LEVELS}), got {level}"
        )
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = str(level)
    if "tensorflow" in sys.modules:
        logging.getLogger("tensorflow").setLevel(
            logging.ERROR if level >= 2 else logging.INFO
        )
