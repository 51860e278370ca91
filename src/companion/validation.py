"""Argument checks shared by the companion's functions and configurations.

>>> check_int("epochs", 3, minimum=1)
3
>>> check_int("epochs", 0, minimum=1)
Traceback (most recent call last):
    ...
ValueError: epochs must be at least 1, got 0
>>> check_int("epochs", 2.5)
Traceback (most recent call last):
    ...
TypeError: epochs must be an int, got float
"""

from __future__ import annotations

import numbers


def check_int(name: str, value, *, minimum: int | None = None) -> int:
    """Return ``value`` as an int if it is one (a bool is not) and at least ``minimum``.

    NumPy integers are accepted. The errors name the argument and say what
    was expected: ``TypeError`` for a non-integer, ``ValueError`` below
    ``minimum``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)
