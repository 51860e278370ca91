"""The classic PyTorch <-> Keras porting pitfalls, each measured on the installed versions.

Every pitfall function builds a small case, ports it the naive way and the
right way, and returns a :class:`Measured`: the relative difference of the
naive port (or the error it raised, if it failed loudly), the relative
difference after the fix, and the numbers the porting chapter prints.
Defaults are read from the frameworks' own objects and signatures, never
typed in.

The functions live by concern: :mod:`~companion.porting.pitfalls.layers`
(normalization epsilons, GELU, ``same`` padding, initializers),
:mod:`~companion.porting.pitfalls.recurrent` (gate order, biases,
``reset_after``), :mod:`~companion.porting.pitfalls.training` (BatchNorm's
running statistics, losses, optimizers, clipping) and
:mod:`~companion.porting.pitfalls.numerics` (resizing, TF32, round-off).

>>> Measured("GELU", naive=1.2e-4, fixed=2.4e-7).line()
'GELU: naive port off by 1.2e-04 (silent); fixed: 2.4e-07'
>>> Measured("same padding", naive_error="ValueError: no", fixed=0.0).line()
'same padding: naive port fails loudly (ValueError: no); fixed: 0'
"""

from __future__ import annotations

from dataclasses import dataclass, field

from companion.validation import check_instance


@dataclass(frozen=True)
class Measured:
    """One pitfall, measured: the naive port's mismatch and the fixed port's.

    ``naive`` and ``fixed`` are relative differences (``max |port -
    original| / max |original|``); ``naive_error`` holds the error line of a
    naive port that raised instead (a loud failure). ``details`` holds the
    other numbers worth printing.
    """

    name: str
    naive: float | None = None
    fixed: float | None = None
    naive_error: str | None = None
    details: dict = field(default_factory=dict)

    def __post_init__(self):
        check_instance("name", self.name, str)
        if (self.naive is None) == (self.naive_error is None):
            raise ValueError(
                "give either naive (a difference) or naive_error (a loud failure)"
            )

    @property
    def silent(self) -> bool:
        """The naive port ran and returned wrong numbers, with no error."""
        return self.naive_error is None

    def line(self) -> str:
        """One printed line: how large the mismatch is, loud or silent, and after the fix."""
        if self.silent:
            naive = f"off by {_number(self.naive)} (silent)"
        else:
            naive = f"fails loudly ({self.naive_error})"
        return f"{self.name}: naive port {naive}; fixed: {_number(self.fixed)}"


def _number(value: float | None) -> str:
    if value is None:
        return "n/a"
    return "0" if value == 0 else f"{value:.1e}"


def error_line(error: BaseException, limit: int = 160) -> str:
    """``"ValueError: message"``, first line only, cut to ``limit`` characters."""
    from companion.cli import error_line as first_line

    return first_line(error, limit=limit)
