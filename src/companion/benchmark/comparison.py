"""How much faster one mode is than another, and whether that survives the noise.

>>> classify_speedup(0.8, 1.1)
'within noise'
>>> classify_speedup(1.3, 1.6)
'faster'
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING

from companion.benchmark.modes import BASELINE, MODES, TASK_TITLES
from companion.frameworks import FRAMEWORKS, PYTORCH, TENSORFLOW
from companion.validation import check_choice

if TYPE_CHECKING:
    from companion.benchmark.results import BenchmarkReport, BenchmarkResult


def classify_speedup(low: float, high: float) -> str:
    """``faster`` (``slower``) if the whole speed-up interval is above (below) 1.

    Otherwise the verdict is ``within noise``.
    """
    if low > 1:
        return "faster"
    if high < 1:
        return "slower"
    return "within noise"


@dataclass(frozen=True)
class Comparison:
    """Speed-up of one mode over the baseline: median ratio and the range the IQRs allow."""

    model: str
    task: str
    mode: str
    label: str
    framework: str
    speedup: float
    low: float
    high: float
    verdict: str


def compare_results(
    base: BenchmarkResult, other: BenchmarkResult
) -> Comparison:
    """Speed-up of ``other`` over ``base`` (2.0: twice as fast), with its noise verdict.

    ``low`` and ``high`` pair the base's quartiles with the other's opposite
    quartiles; when that range contains 1, the two differ by less than their
    own round-to-round spread, and the verdict is ``within noise``.
    """
    if not (base.ok and other.ok):
        raise ValueError("both results must have succeeded to be compared")
    b, m = base.steady, other.steady
    low, high = b.q1_s / m.q3_s, b.q3_s / m.q1_s
    same = (base.model, base.task, base.mode) == (
        other.model,
        other.task,
        other.mode,
    )
    return Comparison(
        model=other.model,
        task=other.task,
        mode=other.mode,
        label=other.label,
        framework=other.framework,
        speedup=b.median_s / m.median_s,
        low=low,
        high=high,
        verdict="baseline" if same else classify_speedup(low, high),
    )


def compare(
    report: BenchmarkReport, baseline: str = BASELINE
) -> list[Comparison]:
    """Speed-up of every successful mode over ``baseline``, per model and task.

    See :func:`compare_results` for the ratio and the noise verdict.
    """
    check_choice("baseline", baseline, MODES)
    comparisons = []
    for result in report.results:
        base = report.find(result.model, result.task, baseline)
        if result.ok and base is not None and base.ok:
            comparisons.append(compare_results(base, result))
    return comparisons


def fastest(report: BenchmarkReport, model: str, task: str, framework: str):
    """The successful result with the lowest median for one framework, or ``None``."""
    check_choice("framework", framework, FRAMEWORKS)
    candidates = [
        r
        for r in report.results
        if (r.model, r.task, r.framework) == (model, task, framework) and r.ok
    ]
    return min(candidates, key=lambda r: r.steady.median_s, default=None)


def best_against_best(
    report: BenchmarkReport,
) -> list[tuple[BenchmarkResult, Comparison]]:
    """Per (model, task): PyTorch's fastest mode, and TensorFlow's fastest compared with it.

    The comparison's speed-up is TensorFlow's over PyTorch (above 1:
    TensorFlow's best mode was faster).
    """
    pairs = []
    for model, task in dict.fromkeys(
        (r.model, r.task) for r in report.results
    ):
        best_torch = fastest(report, model, task, PYTORCH)
        best_tf = fastest(report, model, task, TENSORFLOW)
        if best_torch is not None and best_tf is not None:
            pairs.append((best_torch, compare_results(best_torch, best_tf)))
    return pairs


def break_even_calls(
    base: BenchmarkResult, compiled: BenchmarkResult
) -> float | None:
    """Calls after which ``compiled``'s one-off cost is repaid by its faster steps.

    ``None`` when ``compiled`` is not faster per call, so it never pays back.

    >>> from companion.benchmark.results import BenchmarkResult
    >>> from companion.timing import summarize
    >>> eager = BenchmarkResult("cnn", "train", "tf-eager", "", "tensorflow", "", 64,
    ...     first_call_s=0.02, steady=summarize([0.010]))
    >>> graph = BenchmarkResult("cnn", "train", "tf-function", "", "tensorflow", "", 64,
    ...     first_call_s=1.002, steady=summarize([0.002]))
    >>> round(break_even_calls(eager, graph))
    125
    """
    if not (base.ok and compiled.ok) or compiled.one_off_s is None:
        raise ValueError("both results must have succeeded")
    saved = base.steady.median_s - compiled.steady.median_s
    if saved <= 0:
        return None
    return compiled.one_off_s / saved


def format_table(report: BenchmarkReport, baseline: str = BASELINE) -> str:
    """A plain-text table per model and task: median and IQR per step, first call, speed-up.

    The speed-up is over ``baseline``, with the verdict of :func:`compare_results`.
    """
    speedups = {
        (c.model, c.task, c.mode): c for c in compare(report, baseline)
    }
    lines = []
    for model, task in dict.fromkeys(
        (r.model, r.task) for r in report.results
    ):
        if lines:
            lines.append("")
        lines.append(
            f"{model + ', ' + TASK_TITLES[task]:<28}{'median':>9}{'IQR':>9}"
            f"{'first':>8}  {'speed-up':<10}"
        )
        for r in report.results:
            if (r.model, r.task) != (model, task):
                continue
            head = f"{MODES[r.mode].short:<28}"
            if not r.ok:
                lines.append(f"{head}failed: {r.error}")
                continue
            c = speedups.get((r.model, r.task, r.mode))
            ratio = f"{c.speedup:5.2f}x {c.verdict}" if c else ""
            lines.append(
                f"{head}{r.steady.median_s * 1e3:6.2f} ms{r.steady.iqr_s * 1e3:6.2f} ms"
                f"{r.first_call_s:6.2f} s  {ratio}"
            )
    return "\n".join(lines)


def geometric_mean_speedups(
    report: BenchmarkReport, baseline: str = BASELINE
) -> dict[str, float]:
    """Per mode, the geometric mean of its speed-ups over all (model, task) pairs measured."""
    by_mode: dict[str, list[float]] = {}
    for c in compare(report, baseline):
        by_mode.setdefault(c.mode, []).append(c.speedup)
    return {
        mode: statistics.geometric_mean(values)
        for mode, values in by_mode.items()
    }
