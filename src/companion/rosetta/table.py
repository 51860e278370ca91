"""What a Rosetta row declares and what running one of its spellings records.

A :class:`Row` is one operation spelled in NumPy, PyTorch, TensorFlow and
``keras.ops`` (``None`` where a library has no spelling). Where a spelling
is known to give another result than NumPy's, or to raise, the row
*declares* it in ``expect``, with one of :data:`DIFFERENCES` or ``raises``;
the runner checks every declaration against what really happens.

>>> row = Row("elementwise math", "sine", "np.sin(x)", "torch.sin(x)", "tf.sin(x)", "ops.sin(x)")
>>> row.code("keras")
'ops.sin(x)'
>>> Row("creation", "zeros", "np.zeros(2)", "torch.zeros(2)", None, None,
...     expect={"tensorflow": "raises"})
Traceback (most recent call last):
    ...
ValueError: zeros: tensorflow is declared 'raises' but has no spelling
"""

from __future__ import annotations

from dataclasses import dataclass, field

from companion.validation import check_choice, check_instance

#: The libraries of the table, in column order (``keras`` means ``keras.ops``).
LIBRARIES = ("numpy", "pytorch", "tensorflow", "keras")
#: Column headings.
LABELS = {
    "numpy": "NumPy",
    "pytorch": "PyTorch",
    "tensorflow": "TensorFlow",
    "keras": "keras.ops",
}

#: The operation groups, in the order the table lists them.
GROUPS = (
    "creation",
    "indexing and slicing",
    "reshaping and joining",
    "reductions",
    "elementwise math",
    "comparison and logic",
    "linear algebra",
    "random numbers",
    "nn: activations",
    "nn: losses",
    "nn: convolution and pooling",
    "nn: padding and resizing",
    "nn: normalization and attention",
)

SAME = "same"
ROUND_OFF_VERDICT = "same up to float32 round-off"
DISTRIBUTION = "same distribution"
#: The reasons a row may declare for a spelling whose result is not NumPy's.
DIFFERENCES = (
    "differs: default axis",
    "differs: default dtype",
    "differs: dtype promotion",
    "differs: reduction",
    "differs: padding",
    "differs: semantics",
)
RAISES = "raises"
MISSING = "missing"
#: The NumPy column when NumPy's own result is the one compared against.
REFERENCE = "reference"
VERDICTS = (
    REFERENCE,
    SAME,
    ROUND_OFF_VERDICT,
    DISTRIBUTION,
    *DIFFERENCES,
    RAISES,
    MISSING,
)
#: How a row's results are compared with NumPy's.
COMPARISONS = ("values", "distribution", "sorted", "shape and dtype")


class RosettaError(AssertionError):
    """A spelling did not do what its row says: an undeclared difference or error, or a stale one."""


@dataclass(frozen=True)
class Row:
    """One operation in the four libraries.

    ``reference`` is NumPy code to compare with where NumPy itself has no
    spelling (``numpy`` is None), often a function of
    :mod:`companion.rosetta.reference`. ``layout="image"`` gives TensorFlow
    and Keras channels-last inputs and kernels, and moves their results to
    channels-first before comparing. ``note`` says in a few words what a
    reader should know.
    """

    group: str
    name: str
    numpy: str | None
    pytorch: str | None
    tensorflow: str | None
    keras: str | None
    expect: dict = field(default_factory=dict)
    note: str = ""
    compare: str = "values"
    layout: str = "plain"
    reference: str | None = None

    def __post_init__(self):
        check_choice("group", self.group, GROUPS)
        check_instance("name", self.name, str)
        for library in LIBRARIES:
            check_instance(
                f"{self.name}: the {library} spelling",
                self.code(library),
                (str, type(None)),
                what="a string of code or None",
            )
        if self.numpy is None and self.reference is None:
            raise ValueError(
                f"{self.name}: without NumPy code, give a reference"
            )
        check_instance(f"{self.name}: expect", self.expect, dict)
        for library, verdict in self.expect.items():
            check_choice(
                f"{self.name}: expect's library", library, LIBRARIES[1:]
            )
            check_choice(
                f"{self.name}: expected verdict",
                verdict,
                (*DIFFERENCES, RAISES),
            )
            if self.code(library) is None:
                raise ValueError(
                    f"{self.name}: {library} is declared {verdict!r} but has no spelling"
                )
        check_choice(f"{self.name}: compare", self.compare, COMPARISONS)
        check_choice(f"{self.name}: layout", self.layout, ("plain", "image"))

    def code(self, library: str) -> str | None:
        """The spelling for ``library`` (one of :data:`LIBRARIES`)."""
        return getattr(self, check_choice("library", library, LIBRARIES))


@dataclass
class Cell:
    """One spelling, run: its verdict and what was measured."""

    group: str
    operation: str
    library: str
    code: str
    verdict: str
    shape: str = ""
    dtype: str = ""
    max_relative_difference: float | None = None
    detail: str = ""
    note: str = ""
    warnings: str = ""
