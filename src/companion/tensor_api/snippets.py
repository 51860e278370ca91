"""Run one snippet of array code in NumPy, PyTorch or TensorFlow, and record what it did.

>>> row = Row("indexing", "one element", "a[1, 2]")
>>> result = run_row(row)
>>> [result.outcome(library).text for library in LIBRARIES]
['float32 ()\\n5.', 'float32 ()\\n5.', 'float32 ()\\n5.']
>>> result.agreement
'same'
>>> result.numpy_spelling_works("tensorflow")
True
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

import numpy as np

from companion.frameworks import FRAMEWORKS
from companion.validation import check_choice, check_instance, check_text

#: The three libraries a row runs in: NumPy and the two frameworks.
LIBRARIES = ("numpy", *FRAMEWORKS)
MODULE_NAMES = {"numpy": "np", "pytorch": "torch", "tensorflow": "tf"}

#: How each library makes ``a``, the array every row starts from.
SETUP = {
    "numpy": "np.arange(6, dtype=np.float32).reshape(2, 3)",
    "pytorch": "torch.arange(6, dtype=torch.float32).reshape(2, 3)",
    "tensorflow": "tf.reshape(tf.range(6, dtype=tf.float32), (2, 3))",
}


@dataclass(frozen=True)
class Row:
    """One task. ``numpy`` is None where NumPy has no counterpart."""

    topic: str
    task: str
    numpy: str | None
    pytorch: tuple[str, ...] = ()
    tensorflow: tuple[str, ...] = ()

    def __post_init__(self):
        for name in ("topic", "task"):
            check_text(name, getattr(self, name))
        if self.numpy is not None:
            check_instance(
                "numpy", self.numpy, str, what="a string of code or None"
            )
        for framework in FRAMEWORKS:
            attempts = getattr(self, framework)
            if isinstance(attempts, str) or not all(
                isinstance(a, str) for a in attempts
            ):
                raise TypeError(
                    f"{framework} must be a tuple of code strings, got {attempts!r}"
                )
            if not attempts and self.numpy is None:
                raise ValueError(
                    f"{self.task!r}: without NumPy code, {framework} needs its own"
                )

    def attempts(self, framework: str) -> tuple[str, ...]:
        """The code run for ``framework``, in order."""
        _check_framework(framework)
        if framework == "numpy":
            return () if self.numpy is None else (self.numpy,)
        return getattr(self, framework) or (translate(self.numpy, framework),)


def _check_framework(framework: str) -> None:
    check_choice("framework", framework, LIBRARIES)


def translate(code: str, framework: str, module: str | None = None) -> str:
    """NumPy code with the ``np.`` prefix swapped for ``framework``'s module (or ``module``).

    >>> translate("np.zeros((2, 3), dtype=np.float32)", "tensorflow")
    'tf.zeros((2, 3), dtype=tf.float32)'
    >>> translate("np.arange(6)", "tensorflow", module="tnp")
    'tnp.arange(6)'
    """
    _check_framework(framework)
    return re.sub(r"\bnp\.", (module or MODULE_NAMES[framework]) + ".", code)


def normalize(code: str) -> str:
    """Code with every library prefix made the same, to compare spellings."""
    return re.sub(r"\b(np|torch|tf|tnp)\.", "xp.", code.strip())


@dataclass(frozen=True)
class Outcome:
    """What one attempt did: its code, and a value or an error."""

    code: str
    text: str  # what the table shows
    error: str | None = None  # exception type, if it raised
    key: tuple | None = (
        None  # what is compared across libraries (None: it raised)
    )


def _dtype_name(dtype) -> str:
    name = getattr(dtype, "name", None) or str(dtype)
    return str(name).replace("torch.", "")


def _to_numpy(value):
    """A NumPy view of an array, tensor or variable; None for anything else."""
    if isinstance(value, np.ndarray | np.generic):
        return np.asarray(value)
    module = type(value).__module__
    if module.startswith("torch"):
        import torch

        if isinstance(value, torch.Tensor):
            return value.detach().cpu().numpy()
    if module.startswith("tensorflow"):
        numpy_method = getattr(value, "numpy", None)
        if callable(numpy_method):
            return np.asarray(numpy_method())
    return None


def describe(value) -> tuple[str, tuple]:
    """``(text, key)`` for a result: dtype, shape and values for arrays, else a repr."""
    array = _to_numpy(value)
    if array is not None:
        values = np.array2string(array, separator=", ", threshold=20)
        text = f"{_dtype_name(array.dtype)} {tuple(array.shape)}\n{values}"
        return text, (
            "array",
            _dtype_name(array.dtype),
            array.shape,
            array.tolist(),
        )
    if isinstance(value, tuple) or type(value).__name__ in (
        "Size",
        "TensorShape",
    ):
        shape = tuple(
            int(size) for size in value
        )  # torch.Size, tf.TensorShape, tuple
        return f"shape {shape}", ("shape", shape)
    # str() of a torch.device is "cpu"; its repr is "device(type='cpu')".
    text = (
        str(value)
        if isinstance(value, str) or type(value).__name__ == "device"
        else repr(value)
    )
    return text, ("object", text)


def short_error(error: BaseException, limit: int = 120) -> str:
    """``Type: first line of the message``, without TensorFlow's op-node prefix, shortened."""
    message = str(error).strip().splitlines()[0] if str(error).strip() else ""
    message = re.sub(r"\{\{[^}]*\}\}\s*", "", message).strip()
    message = re.sub(r"\s*\[Op:\w+\].*$", "", message)
    # 'tensorflow.python.framework.ops.EagerTensor' -> EagerTensor
    message = re.sub(
        r"'?(?:tensorflow|torch)\.[\w.]*\.(\w+)'?", r"\1", message
    )
    text = (
        f"{type(error).__name__}: {message}"
        if message
        else type(error).__name__
    )
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _namespace(framework: str) -> dict:
    namespace: dict = {"np": np}
    if framework == "pytorch":
        import torch

        namespace["torch"] = torch
    elif framework == "tensorflow":
        import tensorflow as tf

        namespace["tf"] = tf
        namespace["tnp"] = tf.experimental.numpy
    namespace["a"] = eval(SETUP[framework], namespace)
    return namespace


def run_snippet(code: str, framework: str) -> Outcome:
    """Run ``code`` in a fresh namespace for ``framework``; the last line is the result."""
    _check_framework(framework)
    tree = ast.parse(code)
    if not tree.body or not isinstance(tree.body[-1], ast.Expr):
        raise ValueError(
            f"the last line of a snippet must be an expression: {code!r}"
        )
    last = ast.Expression(tree.body.pop().value)
    namespace = _namespace(framework)
    try:
        exec(compile(tree, "<snippet>", "exec"), namespace)
        value = eval(compile(last, "<snippet>", "eval"), namespace)
    except Exception as error:  # the point is to show what each library raises
        return Outcome(code, short_error(error), error=type(error).__name__)
    text, key = describe(value)
    return Outcome(code, text, key=key)


@dataclass
class RowResult:
    """All attempts of one row, per framework, and how the final results compare."""

    row: Row
    attempts: dict[str, list[Outcome]] = field(default_factory=dict)

    def outcome(self, framework: str) -> Outcome | None:
        """The last attempt's outcome (the one compared), or None without code."""
        tried = self.attempts.get(framework) or []
        return tried[-1] if tried else None

    def numpy_spelling_works(self, framework: str) -> bool | None:
        """Did ``framework`` run the NumPy spelling and give NumPy's result? None: no NumPy code."""
        if self.row.numpy is None:
            return None
        first = self.attempts[framework][0]
        reference = self.attempts["numpy"][0]
        same_code = normalize(first.code) == normalize(self.row.numpy)
        return same_code and first.error is None and first.key == reference.key

    @property
    def agreement(self) -> str:
        """What the final results say: ``same``, or ``spelling`` (same results, but some
        framework needed other code than NumPy's), or what differs: ``raises``,
        ``dtype``, ``shape``, ``values``, ``result``."""
        finals = [
            o for o in (self.outcome(fw) for fw in LIBRARIES) if o is not None
        ]
        if any(o.error for o in finals):
            return "raises"
        keys = [o.key for o in finals]
        if all(k == keys[0] for k in keys):
            spelled = [self.numpy_spelling_works(fw) for fw in FRAMEWORKS]
            return "spelling" if False in spelled else "same"
        kinds = {k[0] for k in keys}
        if kinds == {"array"}:
            if len({k[1] for k in keys}) > 1:
                return "dtype"
            if len({k[2] for k in keys}) > 1:
                return "shape"
            return "values"
        if kinds == {"dtype"}:
            return "dtype"
        return "result"


def run_row(row: Row) -> RowResult:
    """Run every attempt of ``row`` in every framework."""
    check_instance("row", row, Row)
    result = RowResult(row)
    for framework in LIBRARIES:
        result.attempts[framework] = [
            run_snippet(code, framework) for code in row.attempts(framework)
        ]
    return result
