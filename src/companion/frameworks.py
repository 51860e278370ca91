"""The frameworks' names, labels and figure colours: one of each, used everywhere.

A framework is named by its *id* in code, data and tables (``"pytorch"``,
``"tensorflow"``, and ``"keras"`` where Keras is meant apart from
TensorFlow), by its *label* in prose and figure legends, and imported under
its *module* name.

>>> FRAMEWORKS
('pytorch', 'tensorflow')
>>> [label(framework) for framework in FRAMEWORKS]
['PyTorch', 'TensorFlow']
>>> MODULES["pytorch"]
'torch'

Every figure draws a framework in its colour. The colours are picked to be
told apart by readers with the common colour-vision deficiencies (an orange
against a blue) and to keep a contrast of at least 3:1, the WCAG 2.1 AA
threshold for graphical objects, against the page in the book's light theme
(white) and in its dark theme (``#1e1e1e``):

>>> for name in (*FRAMEWORKS, "keras"):
...     on_light = contrast_ratio(COLOURS[name], LIGHT_BACKGROUND)
...     on_dark = contrast_ratio(COLOURS[name], DARK_BACKGROUND)
...     print(f"{name:<11}{COLOURS[name]}  {on_light:.2f}:1 on white, {on_dark:.2f}:1 on dark")
pytorch    #d9541e  4.01:1 on white, 4.16:1 on dark
tensorflow #3b82c4  4.06:1 on white, 4.11:1 on dark
keras      #2e9e6a  3.38:1 on white, 4.93:1 on dark
>>> min(contrast_ratio(NEUTRAL, LIGHT_BACKGROUND), contrast_ratio(NEUTRAL, DARK_BACKGROUND)) >= 3
True
"""

from __future__ import annotations

from companion.validation import check_choice

PYTORCH = "pytorch"
TENSORFLOW = "tensorflow"
KERAS = "keras"

#: The two frameworks the book compares, in the order it shows them.
FRAMEWORKS = (PYTORCH, TENSORFLOW)

#: How prose, tables and legends name each framework (and NumPy, beside them).
LABELS = {
    PYTORCH: "PyTorch",
    TENSORFLOW: "TensorFlow",
    KERAS: "Keras",
    "numpy": "NumPy",
}

#: The module each framework is imported as.
MODULES = {PYTORCH: "torch", TENSORFLOW: "tensorflow", KERAS: "keras"}

LIGHT_BACKGROUND = "#ffffff"
DARK_BACKGROUND = "#1e1e1e"

#: One colour per framework for every figure (see the module docstring).
COLOURS = {PYTORCH: "#d9541e", TENSORFLOW: "#3b82c4", KERAS: "#2e9e6a"}
#: For what belongs to neither framework (a baseline, a legend's key).
NEUTRAL = "#808080"


def label(framework: str) -> str:
    """The name prose and legends give ``framework`` (an id from :data:`LABELS`).

    >>> label("jax")
    Traceback (most recent call last):
        ...
    ValueError: framework must be one of ('pytorch', 'tensorflow', 'keras', 'numpy'), got 'jax'
    """
    return LABELS[check_choice("framework", framework, LABELS)]


def colour(framework: str) -> str:
    """The colour figures draw ``framework`` in.

    >>> colour("tensorflow")
    '#3b82c4'
    """
    return COLOURS[check_choice("framework", framework, COLOURS)]


#: Below this (8-bit value / 255) sRGB is linear (the WCAG 2.1 formula).
_SRGB_LINEAR_UP_TO = 0.04045


def _relative_luminance(hex_colour: str) -> float:
    """WCAG 2.1 relative luminance of an ``#rrggbb`` colour."""
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [
        c / 12.92 if c <= _SRGB_LINEAR_UP_TO else ((c + 0.055) / 1.055) ** 2.4
        for c in channels
    ]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2.1 contrast ratio of two ``#rrggbb`` colours, from 1 to 21.

    >>> round(contrast_ratio("#000000", "#ffffff"), 1)
    21.0
    >>> contrast_ratio("#ffffff", "#ffffff")
    1.0
    """
    lighter, darker = sorted(
        (_relative_luminance(first), _relative_luminance(second)), reverse=True
    )
    return (lighter + 0.05) / (darker + 0.05)
