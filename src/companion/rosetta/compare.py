"""Comparing a library's result with NumPy's: shape, dtype and the largest relative difference.

The relative difference is taken against the result's scale,
``max |other - reference| / max |reference|`` (NaNs where both have them
are left out). Below :data:`ROUND_OFF` it counts as float32 round-off.

>>> compare(np.float32([1, 2]), np.float32([1, 2]))
('same', 0.0, '')
>>> compare(np.float32([1, 2]), np.float32([1, 2.00001]))[0]
'round-off'
>>> compare(np.float64([1, 2]), np.float32([1, 2]))
('differs', None, 'dtype float32, expected float64')
"""

from __future__ import annotations

import numpy as np

#: Differences up to this fraction of the result's scale count as float32 round-off.
ROUND_OFF = 1e-5


def to_numpy(value):
    """A NumPy array for a result (lists and tuples of arrays become lists of arrays)."""
    if isinstance(value, list | tuple):
        return [to_numpy(v) for v in value]
    if hasattr(value, "detach"):  # a torch tensor
        return value.detach().cpu().numpy()
    if hasattr(value, "numpy"):  # a TensorFlow tensor or variable
        return np.asarray(value.numpy())
    return np.asarray(value)


def move_channels_first(value):
    """A channels-last result (or list of them) in channels-first order."""
    if isinstance(value, list):
        return [move_channels_first(v) for v in value]
    return np.moveaxis(value, -1, 1) if value.ndim >= 3 else value


def describe(value) -> tuple[str, str]:
    """``(shape, dtype)`` as the table shows them.

    >>> describe(np.zeros((2, 3), np.float32))
    ('(2, 3)', 'float32')
    """
    if isinstance(value, list):
        shapes = ", ".join(str(tuple(v.shape)) for v in value)
        dtypes = ",".join(sorted({str(v.dtype) for v in value}))
        return f"[{shapes}]", dtypes
    return str(tuple(value.shape)), str(value.dtype)


def relative(reference: np.ndarray, other: np.ndarray) -> float:
    """``max |other - reference| / max |reference|``, NaNs in both places left out."""
    ref = reference.astype(np.float64)
    got = other.astype(np.float64)
    if ref.size == 0:
        return 0.0
    if np.array_equal(np.isnan(ref), np.isnan(got)):
        keep = ~np.isnan(ref)
        ref, got = ref[keep], got[keep]
    if ref.size == 0:
        return 0.0
    scale = float(np.max(np.abs(ref))) or 1.0
    return float(np.max(np.abs(got - ref)) / scale)


def _compare_lists(reference: list, value: list, how: str):
    if len(reference) != len(value):
        return (
            "differs",
            None,
            f"{len(value)} parts, expected {len(reference)}",
        )
    parts = [compare(r, v, how) for r, v in zip(reference, value, strict=True)]
    kinds = [kind for kind, _, _ in parts]
    worst = max((d for _, d, _ in parts if d is not None), default=None)
    for kind in ("differs", "round-off", "same distribution"):
        if kind in kinds:
            return (
                kind,
                worst,
                "; ".join(detail for _, _, detail in parts if detail),
            )
    return "same", worst, ""


def compare(
    reference, value, how: str = "values"
) -> tuple[str, float | None, str]:
    """``(kind, largest relative difference, detail)``; kind is ``same``,
    ``round-off``, ``same distribution`` or ``differs``."""
    if isinstance(reference, list) != isinstance(value, list):
        return "differs", None, "one result is a list, the other is not"
    if isinstance(reference, list):
        return _compare_lists(reference, value, how)
    if reference.shape != value.shape:
        return (
            "differs",
            None,
            f"shape {value.shape}, expected {reference.shape}",
        )
    if reference.dtype != value.dtype:
        return (
            "differs",
            None,
            f"dtype {value.dtype}, expected {reference.dtype}",
        )
    if how == "shape and dtype":
        return "same", None, "shape and dtype only"
    if how == "distribution":
        return compare_distribution(reference, value)
    if how == "sorted":
        reference, value = (
            np.sort(reference, axis=None),
            np.sort(value, axis=None),
        )
    exact = reference.dtype == bool or np.issubdtype(
        reference.dtype, np.integer
    )
    if np.array_equal(reference, value, equal_nan=not exact):
        return "same", 0.0, ""
    error = relative(reference, value)
    if not exact and error <= ROUND_OFF:
        return "round-off", error, ""
    return "differs", error, f"values differ by {error:.3g} of the scale"


def compare_distribution(reference, value) -> tuple[str, None, str]:
    """Random draws: the same mean and standard deviation within 6 standard errors."""
    ref = reference.astype(np.float64).ravel()
    got = value.astype(np.float64).ravel()
    n = ref.size
    se_mean = max(ref.std() / np.sqrt(n), 1e-12)
    se_std = max(ref.std() / np.sqrt(2 * n), 1e-12)
    gap_mean = abs(got.mean() - ref.mean()) / se_mean
    gap_std = abs(got.std() - ref.std()) / se_std
    detail = (
        f"mean {got.mean():.3f} vs {ref.mean():.3f}, "
        f"std {got.std():.3f} vs {ref.std():.3f}"
    )
    if gap_mean < 6 and gap_std < 6:
        return "same distribution", None, detail
    return "differs", None, detail
