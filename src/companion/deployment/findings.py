"""Plain sentences read off the deployment matrix, for the chapter to print."""

from __future__ import annotations

from collections.abc import Callable

from companion.deployment.evaluation import RouteResult
from companion.deployment.formatting import format_bytes, format_seconds
from companion.deployment.records import Route
from companion.frameworks import FRAMEWORKS


def _label(route: Route) -> str:
    return f"{route.framework}: {route.exporter}"


def _extremes(
    ran: list[RouteResult],
    key: Callable[[RouteResult], float],
    what: str,
    fmt: Callable[[float], str],
) -> str:
    low, high = min(ran, key=key), max(ran, key=key)
    return (
        f"{what}: lowest {_label(low.route)} ({fmt(key(low))}), "
        f"highest {_label(high.route)} ({fmt(key(high))})"
    )


def _what_worked(results: list[RouteResult]) -> list[str]:
    lines = []
    for framework in FRAMEWORKS:
        mine = [r for r in results if r.route.framework == framework]
        if mine:
            good = sum(r.worked for r in mine)
            lines.append(
                f"{framework}: {good} of {len(mine)} routes worked end to end"
            )
    for result in results:
        if result.status != "yes":
            detail = result.error or (
                f"max abs diff {result.max_abs_diff:.1e}, accuracy {result.accuracy:.1%}"
            )
            lines.append(f"{result.status}: {_label(result.route)} ({detail})")
    return lines


def matrix_findings(results: list[RouteResult]) -> list[str]:
    """Plain sentences read off the matrix: what worked, extremes of size, start-up and latency."""
    if not results:
        raise ValueError("results is empty")
    lines = _what_worked(results)
    ran = [r for r in results if r.ran]
    if not ran:
        return lines
    batch = ran[0].run.batch_size
    for key, what, fmt in (
        (lambda r: r.size_bytes, "size on disk", format_bytes),
        (
            lambda r: r.run.import_s + r.run.load_s,
            "fresh start (import + load)",
            format_seconds,
        ),
        (
            lambda r: r.run.latency_one.median_s,
            "latency for 1 image",
            format_seconds,
        ),
        (
            lambda r: r.run.latency_batch.median_s,
            f"latency for {batch} images",
            format_seconds,
        ),
    ):
        lines.append(_extremes(ran, key, what, fmt))
    return lines
