"""Sizes, durations and latencies as the deployment tables print them.

>>> format_bytes(18_052)
'17.6 kB'
>>> format_seconds(0.000123)
'123 µs'
"""

from __future__ import annotations

from companion.timing import TimingResult


def format_bytes(size: int | None) -> str:
    """Sizes in kB or MB (1 kB = 1024 bytes); ``"–"`` for no size."""
    if size is None:
        return "–"
    if size >= 1024**2:
        return f"{size / 1024**2:.2f} MB"
    return f"{size / 1024:.1f} kB"


#: How many of each unit make a second.
PER_SECOND = {"s": 1.0, "ms": 1e3, "µs": 1e6}


def format_seconds(seconds: float | None) -> str:
    """A duration with a unit that keeps three significant digits.

    >>> format_seconds(2.5), format_seconds(0.0123), format_seconds(None)
    ('2.50 s', '12.3 ms', '–')
    """
    if seconds is None:
        return "–"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    unit = "ms" if seconds * PER_SECOND["ms"] >= 1 else "µs"
    return f"{seconds * PER_SECOND[unit]:.3g} {unit}"


def format_latency(timing: TimingResult) -> str:
    """Median and interquartile range, the range in the median's unit.

    >>> format_latency(TimingResult(3.69e-5, 3.67e-5, 3.71e-5, 3.6e-5, 4e-5, 0.1, 15, 100, ()))
    '36.9 µs (IQR 0.4)'
    >>> format_latency(TimingResult(6.9e-4, 6.0e-4, 7.5e-4, 5e-4, 9e-4, 0.1, 15, 10, ()))
    '690 µs (IQR 150)'
    """
    median = format_seconds(timing.median_s)
    unit = median.split(" ")[1]
    spread = timing.iqr_s * PER_SECOND[unit]
    # Two significant digits, but never a power of ten for a spread of 100 or more.
    digits = ".2g" if spread < 100 else ".0f"  # noqa: PLR2004  the switch to whole numbers
    return f"{median} (IQR {spread:{digits}})"
