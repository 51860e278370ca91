"""Time a callable the way the book reports timings: warm-up apart, repeats, median and spread.

The first calls of compiled code include compilation, and the first calls of
anything include cache and allocator warm-up. :func:`time_callable` runs
``warmup`` calls first and reports their duration separately, then times
``repeats`` rounds of ``number`` calls each and reports per-call statistics.

>>> result = time_callable(lambda: sum(range(1000)), warmup=1, repeats=5, number=10)
>>> result.repeats, result.number
(5, 10)
>>> result.median_s > 0 and result.min_s <= result.median_s <= result.max_s
True
>>> len(result.samples_s)
5
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from companion.validation import check_callable, check_choice, check_int


@dataclass(frozen=True)
class TimingResult:
    """Per-call times in seconds over ``repeats`` rounds of ``number`` calls."""

    median_s: float
    q1_s: float
    q3_s: float
    min_s: float
    max_s: float
    warmup_s: float
    repeats: int
    number: int
    samples_s: tuple[float, ...] = field(repr=False)

    @property
    def iqr_s(self) -> float:
        """Interquartile range: the spread of the middle half of the rounds."""
        return self.q3_s - self.q1_s

    def as_dict(self) -> dict:
        return {
            **asdict(self),
            "samples_s": list(self.samples_s),
            "iqr_s": self.iqr_s,
        }

    def format(self, unit: str = "ms") -> str:
        """``1.23 ms (IQR 0.05 ms, 7 x 10 calls)``.

        >>> TimingResult(0.002, 0.0019, 0.0021, 0.0018, 0.003, 0.5, 7, 10, ()).format()
        '2.000 ms (IQR 0.200 ms, 7 x 10 calls)'
        """
        scale = {"s": 1.0, "ms": 1e3, "us": 1e6}
        check_choice("unit", unit, scale)
        k = scale[unit]
        return (
            f"{self.median_s * k:.3f} {unit} (IQR {self.iqr_s * k:.3f} {unit}, "
            f"{self.repeats} x {self.number} calls)"
        )


def time_callable(
    function: Callable[[], object],
    *,
    warmup: int = 1,
    repeats: int = 7,
    number: int = 1,
    synchronize: Callable[[], object] | None = None,
) -> TimingResult:
    """Time ``function()``; see the module docstring.

    ``synchronize`` is called after each round, before the clock stops: pass
    ``torch.cuda.synchronize`` when timing GPU work, whose calls return before
    the work is done. On the CPU leave it out.
    """
    check_callable("function", function)
    for name, value, smallest in (
        ("warmup", warmup, 0),
        ("repeats", repeats, 1),
        ("number", number, 1),
    ):
        check_int(name, value, minimum=smallest)

    start = time.perf_counter()
    for _ in range(warmup):
        function()
    if synchronize is not None:
        synchronize()
    warmup_s = time.perf_counter() - start

    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            function()
        if synchronize is not None:
            synchronize()
        samples.append((time.perf_counter() - start) / number)
    return summarize(samples, warmup_s=warmup_s, number=number)


def summarize(
    samples, *, warmup_s: float = 0.0, number: int = 1
) -> TimingResult:
    """Statistics of per-call times ``samples`` (one per round of ``number`` calls).

    :func:`time_callable` uses it for its own rounds; call it directly when the
    rounds of several callables are interleaved, so that a change in machine
    load affects them all alike.

    >>> summarize([0.003, 0.001, 0.002], number=10).format()
    '2.000 ms (IQR 1.000 ms, 3 x 10 calls)'
    """
    samples = [float(s) for s in samples]
    if not samples:
        raise ValueError("samples must hold at least one time")
    check_int("number", number, minimum=1)
    if len(samples) > 1:  # quartiles need two samples at least
        q1, _, q3 = statistics.quantiles(samples, n=4, method="inclusive")
    else:
        q1 = q3 = samples[0]
    return TimingResult(
        median_s=statistics.median(samples),
        q1_s=q1,
        q3_s=q3,
        min_s=min(samples),
        max_s=max(samples),
        warmup_s=warmup_s,
        repeats=len(samples),
        number=number,
        samples_s=tuple(samples),
    )
