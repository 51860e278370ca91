"""How close two models' outputs must be to count as "the same function" in float32.

Two float32 programs that compute the same function in another order (a
sum of a few hundred products, tiled one way by oneDNN and another by
PyTorch's kernels) differ by float32 round-off: one unit in the last place
is ``2**-23 ~= 1.19e-7`` of a number, and sums of many terms collect a few
such units. A porting *mistake* (a transposed kernel, a forgotten bias, a
wrong gate order, a wrong epsilon) moves the outputs by far more.

:func:`relative_difference` measures the gap against the output's scale,
``max |other - reference| / max |reference|``, so that an output element
near zero cannot turn round-off into a large ratio. The converters check
their result with :data:`DEFAULT_RTOL` = ``1e-5``:

* the worst round-off measured over random models of every supported layer,
  both directions, is below ``1e-6`` (the porting chapter prints it);
* the subtlest real mistake measured, the tanh approximation of GELU in
  place of the exact one, is about ``1e-4``, ten times above the bound.

Pass a larger ``rtol`` for a deep model whose round-off grows past 1e-5;
the error message says by how much it missed.

>>> a = np.array([1.0, -2.0, 4.0], dtype=np.float32)
>>> one_step = np.nextafter(a, np.float32(np.inf))  # one float32 step up, each element
>>> f"{relative_difference(a, one_step):.3g}"  # the step at 4.0, relative to 4.0
'1.19e-07'
>>> relative_difference(a, a[::-1])
0.75
"""

from __future__ import annotations

import numpy as np

from companion.porting.errors import OutputMismatchError
from companion.validation import check_instance, check_number

#: The converters' check: outputs may differ by this fraction of their scale.
DEFAULT_RTOL = 1e-5


def relative_difference(reference, other) -> float:
    """``max |other - reference| / max |reference|`` in float64 (0 when both are 0).

    >>> relative_difference(np.zeros(2), np.zeros(2))
    0.0
    >>> relative_difference(np.zeros(2), np.ones(3))
    Traceback (most recent call last):
        ...
    ValueError: shapes differ: (2,) and (3,)
    """
    reference = np.asarray(reference, dtype=np.float64)
    other = np.asarray(other, dtype=np.float64)
    if reference.shape != other.shape:
        raise ValueError(f"shapes differ: {reference.shape} and {other.shape}")
    if reference.size == 0:
        return 0.0
    error = float(np.max(np.abs(other - reference)))
    scale = float(np.max(np.abs(reference)))
    if scale == 0.0:
        return 0.0 if error == 0.0 else float("inf")
    return round(error / scale, 12)


def check_rtol(rtol) -> float:
    """Return ``rtol`` as a float if it is a positive finite number.

    >>> check_rtol(0)
    Traceback (most recent call last):
        ...
    ValueError: rtol must be a positive finite number, got 0
    """
    return check_number("rtol", rtol, positive=True)


def check_example_inputs(example_input) -> list[np.ndarray]:
    """The example input(s) as a list of NumPy arrays with a batch axis.

    >>> [a.shape for a in check_example_inputs(np.zeros((2, 3)))]
    [(2, 3)]
    >>> check_example_inputs([1, 2])
    Traceback (most recent call last):
        ...
    TypeError: example_input must be a numpy array or a tuple of them, got list of int
    >>> check_example_inputs(np.zeros((0, 3)))
    Traceback (most recent call last):
        ...
    ValueError: example_input needs a batch axis with at least one sample, got shape (0, 3)
    """
    several = isinstance(example_input, list | tuple)
    arrays = list(example_input) if several else [example_input]
    if not arrays or not all(isinstance(a, np.ndarray) for a in arrays):
        inner = f" of {type(arrays[0]).__name__}" if arrays else ""
        raise TypeError(
            "example_input must be a numpy array or a tuple of them, got "
            f"{type(example_input).__name__}{inner}"
        )
    for array in arrays:
        if array.ndim < 1 or array.shape[0] < 1:
            raise ValueError(
                "example_input needs a batch axis with at least one sample, "
                f"got shape {array.shape}"
            )
        is_number = np.issubdtype(array.dtype, np.floating) or np.issubdtype(
            array.dtype, np.integer
        )
        if not is_number:
            raise TypeError(
                f"example_input must hold numbers, got dtype {array.dtype}"
            )
    return arrays


def compare_outputs(references, converted, rtol: float) -> list[float]:
    """Relative difference of each output pair; :class:`OutputMismatchError` above ``rtol``.

    >>> compare_outputs([np.ones(3)], [np.ones(3) * 1.5], rtol=1e-5)
    Traceback (most recent call last):
        ...
    companion.porting.errors.OutputMismatchError: the converted model disagrees with the original: relative difference 0.5 > tolerance 1e-05 (per output: [0.5])
    """
    rtol = check_rtol(rtol)
    check_instance("references", references, list)
    if len(references) != len(converted):
        raise OutputMismatchError(
            float("inf"),
            rtol,
            f"{len(converted)} outputs, expected {len(references)}",
        )
    differences = []
    for index, (reference, other) in enumerate(
        zip(references, converted, strict=True)
    ):
        if np.shape(reference) != np.shape(other):
            raise OutputMismatchError(
                float("inf"),
                rtol,
                f"output {index} has shape {np.shape(other)}, "
                f"expected {np.shape(reference)}",
            )
        differences.append(relative_difference(reference, other))
    worst = max(differences)
    if not worst <= rtol:
        raise OutputMismatchError(worst, rtol, f"per output: {differences}")
    return differences
