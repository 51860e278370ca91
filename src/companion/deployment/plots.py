"""The deployment matrix as a figure: size, fresh-process start-up and latency per route."""

from __future__ import annotations

import numpy as np

from companion.deployment.evaluation import RouteResult
from companion.plotting import (
    NEUTRAL,
    framework_colours,
    framework_legend_handles,
    new_figure,
    patches,
)


def _latency_markers(axis, ran: list[RouteResult], y: np.ndarray) -> None:
    batch = ran[0].run.batch_size
    for offset, attribute, marker, label in (
        (-0.17, "latency_one", "o", "1 image"),
        (0.17, "latency_batch", "s", f"{batch} images"),
    ):
        timings = [getattr(r.run, attribute) for r in ran]
        medians = np.array([t.median_s for t in timings]) * 1e3
        spread = np.array(
            [[t.median_s - t.q1_s, t.q3_s - t.median_s] for t in timings]
        ).T
        axis.errorbar(
            medians,
            y + offset,
            xerr=spread * 1e3,
            fmt=marker,
            color="black",
            markersize=4,
            label=label,
        )
    axis.set_xscale("log")
    axis.set_xlabel(
        "latency per call (ms, log scale)\nmarker: median, bar: quartiles"
    )
    axis.legend(loc="lower right", fontsize="small")


def plot_matrix(results: list[RouteResult]):
    """Size, fresh-process start-up and latency of the routes that ran, as three panels."""
    ran = [r for r in results if r.ran]
    if not ran:
        raise ValueError("no route ran: nothing to plot")
    colours = framework_colours(r.route.framework for r in ran)
    y = np.arange(len(ran))
    figure, grid = new_figure(
        1, 3, figsize=(11, 0.42 * len(ran) + 1.7), sharey=True
    )
    axes = grid[0]

    axes[0].barh(y, [r.size_bytes / 1024 for r in ran], color=colours)
    axes[0].set_xscale("log")
    axes[0].set_xlabel("artifact size on disk (kB, log scale)")
    axes[0].legend(
        handles=framework_legend_handles(),
        loc="lower right",
        fontsize="small",
    )

    imports = np.array([r.run.import_s for r in ran])
    loads = np.array([r.run.load_s for r in ran])
    axes[1].barh(y, imports, color=colours, alpha=0.4)
    axes[1].barh(y, loads, left=imports, color=colours)
    axes[1].set_xlabel("fresh process: import + load (s)")
    axes[1].legend(
        handles=[
            *patches([("import the runtime", NEUTRAL)], alpha=0.4),
            *patches([("load the artifact", NEUTRAL)]),
        ],
        loc="lower right",
        fontsize="small",
    )

    _latency_markers(axes[2], ran, y)

    axes[0].set_yticks(y, [r.route.exporter for r in ran])
    axes[0].invert_yaxis()
    for axis in axes:
        axis.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    return figure
