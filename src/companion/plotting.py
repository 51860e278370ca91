"""What every companion figure shares: its canvas, the framework colours, the legends, log axes.

Every figure the companion draws (benchmark speed-ups and one-off costs,
the deployment matrix, recorded graphs) starts from :func:`new_figure`,
colours frameworks with :data:`companion.frameworks.COLOURS` and keys them
with :func:`framework_legend_handles`. matplotlib is imported only when a
figure is drawn.

>>> figure, axes = new_figure(1, 2, figsize=(4, 2), close=True)
>>> axes.shape
(1, 2)
>>> [h.get_label() for h in framework_legend_handles()]
['PyTorch', 'TensorFlow']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from companion.frameworks import COLOURS, FRAMEWORKS, NEUTRAL, label


def new_figure(
    nrows: int = 1, ncols: int = 1, *, figsize, close: bool = False, **options
):
    """A new figure and a 2-D array of axes (``plt.subplots(..., squeeze=False)``).

    An open figure is shown by a notebook at the end of the cell that made
    it. With ``close`` it is closed in pyplot at once: a notebook then shows
    it only as the value of the cell that returns it, and pyplot keeps no
    state.
    """
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(
        nrows, ncols, figsize=figsize, squeeze=False, **options
    )
    if close:
        plt.close(figure)
    return figure, axes


def patches(
    entries: Iterable[tuple[str, str]],
    *,
    edgecolor: str | None = None,
    **options,
) -> list:
    """Legend handles: one patch per ``(label, colour)``, edged in its own colour
    unless ``edgecolor`` says otherwise."""
    from matplotlib.patches import Patch

    return [
        Patch(
            facecolor=colour,
            edgecolor=edgecolor or colour,
            label=text,
            **options,
        )
        for text, colour in entries
    ]


def framework_legend_handles(frameworks: Iterable[str] = FRAMEWORKS) -> list:
    """One patch per framework, in its colour, labelled with its name."""
    return patches((label(f), COLOURS[f]) for f in frameworks)


def framework_colours(frameworks: Iterable[str]) -> list[str]:
    """The colour of each framework in turn (for one bar each)."""
    return [COLOURS[f] for f in frameworks]


def log_axis(
    axis,
    *,
    formatter: Callable[[float], str],
    ticks: Iterable[float] | None = None,
    limits: tuple[float | None, float | None] | None = None,
) -> None:
    """Make ``axis``'s x axis logarithmic, labelled by ``formatter``.

    With ``ticks``, only those within the limits are marked, and minor
    ticks are left out.
    """
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    axis.set_xscale("log")
    if limits is not None:
        axis.set_xlim(*limits)
    if ticks is not None:
        low, high = axis.get_xlim()
        axis.xaxis.set_major_locator(
            FixedLocator([t for t in ticks if low <= t <= high])
        )
        axis.xaxis.set_minor_locator(NullLocator())
    axis.xaxis.set_major_formatter(
        FuncFormatter(lambda value, _: formatter(value))
    )


__all__ = [
    "NEUTRAL",
    "framework_colours",
    "framework_legend_handles",
    "log_axis",
    "new_figure",
    "patches",
]
