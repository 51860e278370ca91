"""The input-pipeline figures: images per second by configuration, and augmented samples."""

from __future__ import annotations

import numpy as np

from companion.frameworks import FRAMEWORKS, colour, label
from companion.plotting import framework_legend_handles, new_figure


def plot_throughput(report, *, figsize=(7.5, 3.4)):
    """One bar per configuration: median images/s, whiskers from the slowest to the fastest epoch."""
    figure, axes = new_figure(figsize=figsize, close=True)
    axis = axes[0, 0]
    rows = report.rows
    positions = np.arange(len(rows))[::-1]
    medians = [r.median for r in rows]
    low = [r.median - min(r.images_per_s) for r in rows]
    high = [max(r.images_per_s) - r.median for r in rows]
    axis.barh(
        positions,
        medians,
        xerr=[low, high],
        color=[colour(r.framework) for r in rows],
        error_kw={"ecolor": "#444444", "capsize": 3},
    )
    axis.set_yticks(positions, [r.label for r in rows])
    axis.set_xlabel(
        "images per second (median; whiskers: slowest and fastest epoch)"
    )
    axis.legend(
        handles=framework_legend_handles(FRAMEWORKS),
        loc="lower right",
        bbox_to_anchor=(1.0, 1.0),
        ncol=2,
        frameon=False,
    )
    axis.set_xlim(0, max(max(r.images_per_s) for r in rows) * 1.1)
    figure.tight_layout()
    return figure


def plot_samples(batches: dict, count: int = 8, *, figsize=(7.5, 2.2)):
    """The first ``count`` images of each framework's first batch, one row per framework.

    ``batches`` maps a framework to an array of images, channels-first
    ``(N, 1, H, W)`` or channels-last ``(N, H, W, 1)``.
    """
    figure, axes = new_figure(len(batches), count, figsize=figsize, close=True)
    for row, (framework, batch) in enumerate(batches.items()):
        array = np.asarray(batch)
        images = array[:, 0] if array.shape[1] == 1 else array[..., 0]
        for column in range(count):
            axis = axes[row, column]
            axis.imshow(images[column], cmap="gray_r")
            axis.set_xticks([])
            axis.set_yticks([])
        axes[row, 0].set_ylabel(
            label(framework), rotation=0, ha="right", va="center"
        )
    figure.tight_layout()
    return figure
