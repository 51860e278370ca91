"""The performance chapter's figures: speed-ups over a baseline, and one-off costs."""

from __future__ import annotations

import numpy as np

from companion.benchmark.comparison import compare
from companion.benchmark.modes import (
    BASELINE,
    MODELS,
    MODES,
    TASK_TITLES,
    TASKS,
)
from companion.benchmark.results import BenchmarkReport
from companion.frameworks import COLOURS
from companion.plotting import (
    NEUTRAL,
    framework_legend_handles,
    log_axis,
    new_figure,
)

_RATIO_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200)


def _grid(report: BenchmarkReport) -> tuple[list[str], list[str], list[str]]:
    models = [m for m in MODELS if any(r.model == m for r in report.results)]
    tasks = [t for t in TASKS if any(r.task == t for r in report.results)]
    modes = [m for m in report.settings["modes"] if m in MODES]
    return models, tasks, modes


def _speedup_bar(axis, y: float, c, baseline: str) -> None:
    """One mode's bar from 1 to its speed-up, its whisker and its label."""
    colour = NEUTRAL if c.mode == baseline else COLOURS[c.framework]
    pale = c.verdict in ("within noise", "baseline")
    axis.barh(
        y,
        abs(c.speedup - 1),
        left=min(1.0, c.speedup),
        height=0.65,
        color=colour,
        alpha=0.3 if pale else 0.9,
    )
    axis.plot([c.low, c.high], [y, y], color="black", linewidth=1)
    # The label goes beyond the end of the bar and its whisker.
    faster = c.speedup >= 1
    axis.text(
        c.high * 1.08 if faster else c.low / 1.08,
        y,
        f"{c.speedup:.2g}x",
        va="center",
        ha="left" if faster else "right",
        fontsize=7.5,
    )


def _speedup_panel(axis, report, comparisons, panel, modes, baseline) -> None:
    model, task = panel
    positions = np.arange(len(modes))[::-1]
    for y, mode in zip(positions, modes, strict=True):
        c = comparisons.get((model, task, mode))
        if c is not None:
            _speedup_bar(axis, y, c, baseline)
            continue
        result = report.find(model, task, mode)
        if result is not None and not result.ok:
            axis.text(
                1.05, y, "failed", va="center", fontsize=8, color=NEUTRAL
            )
    axis.axvline(1, color="black", linewidth=0.8)
    axis.set_yticks(positions, [MODES[m].short for m in modes], fontsize=8.5)
    axis.set_title(f"{model}, {TASK_TITLES[task]}", fontsize=10, loc="left")


def plot_speedups(report: BenchmarkReport, baseline: str = BASELINE):
    """Speed-up of each mode over ``baseline``: one panel per model and task, log scale.

    A bar runs from 1 to the median ratio; the black whisker spans the range
    the two modes' quartiles allow. Pale bars are within noise of the
    baseline; modes that failed are marked, modes not run are left out.
    """
    comparisons = {
        (c.model, c.task, c.mode): c for c in compare(report, baseline)
    }
    models, tasks, modes = _grid(report)
    panels = [(model, task) for model in models for task in tasks]
    values = [v for c in comparisons.values() for v in (c.low, c.high)] or [
        1.0
    ]
    limits = (min([*values, 0.5]) / 2.5, max([*values, 2.0]) * 2.5)
    figure, axes = new_figure(
        len(panels),
        1,
        figsize=(7.2, (0.25 * len(modes) + 0.55) * len(panels) + 0.6),
        sharex=True,
    )
    for axis, panel in zip(axes[:, 0], panels, strict=True):
        _speedup_panel(axis, report, comparisons, panel, modes, baseline)
        log_axis(
            axis,
            formatter=lambda value: f"{value:g}x",
            ticks=_RATIO_TICKS,
            limits=limits,
        )
    figure.legend(
        handles=framework_legend_handles(),
        loc="upper right",
        ncol=2,
        fontsize=8.5,
        frameon=False,
    )
    axes[-1, 0].tick_params(axis="x", labelsize=8.5)
    axes[-1, 0].set_xlabel(
        f"speed-up over {MODES[baseline].label} "
        "(right of the line: faster; pale: within noise)",
        fontsize=9,
    )
    figure.tight_layout()
    return figure


def plot_one_off_costs(report: BenchmarkReport):
    """Seconds the first call costs beyond a steady call (tracing, compiling), log scale."""
    models, tasks, modes = _grid(report)
    pairs = [(m, t) for m in models for t in tasks]
    count = max(len(pairs), 1)
    figure, axes = new_figure(figsize=(7.2, 0.16 * len(modes) * count + 1.2))
    axis = axes[0, 0]
    height = 0.8 / count
    greys = np.linspace(0.2, 0.75, count)
    positions = np.arange(len(modes))[::-1]
    for i, (model, task) in enumerate(pairs):
        found = [report.find(model, task, mode) for mode in modes]
        costs = [
            np.nan if r is None or r.one_off_s is None else r.one_off_s
            for r in found
        ]
        axis.barh(
            positions + (len(pairs) / 2 - i - 0.5) * height,
            np.maximum(np.array(costs, dtype=float), 1e-3),
            height=height,
            color=str(greys[i]),
            label=f"{model}, {TASK_TITLES[task]}",
        )
    log_axis(axis, formatter=lambda value: f"{value:g} s", limits=(1e-3, None))
    axis.set_yticks(positions, [MODES[m].short for m in modes], fontsize=8.5)
    axis.set_xlabel(
        "one-off cost: first call minus a steady call (seconds, log scale)"
    )
    axis.legend(
        fontsize=8,
        loc="lower left",
        bbox_to_anchor=(0, 1.0),
        ncol=2,
        frameon=False,
    )
    figure.tight_layout()
    return figure
