"""What a conversion returns, and two small helpers both directions share.

>>> from companion.porting.layout import channels_last, identity
>>> done = Conversion("model", (channels_last(4),), (identity(2),), (2e-7, 5e-8))
>>> done.relative_difference
2e-07
>>> flatten_outputs((1, [2, (3,)]))
[1, 2, 3]
"""

from __future__ import annotations

from dataclasses import dataclass

from companion.porting.layout import Layout


@dataclass(frozen=True)
class Conversion:
    """A converted model, the layouts of its inputs and outputs, and how closely it matched.

    ``input_layouts[k]`` says how input *k* of the converted model is laid
    out relative to the original's (see :class:`~companion.porting.layout.Layout`);
    ``relative_differences`` holds one measured difference per output.
    """

    model: object
    input_layouts: tuple[Layout, ...]
    output_layouts: tuple[Layout, ...]
    relative_differences: tuple[float, ...]

    @property
    def relative_difference(self) -> float:
        """The largest relative difference over all outputs."""
        return max(self.relative_differences)


def flatten_outputs(value) -> list:
    """Nested tuples and lists of outputs as one flat list, in order."""
    if isinstance(value, tuple | list):
        return [item for part in value for item in flatten_outputs(part)]
    return [value]


def lookup(table: dict, cls):
    """The entry of ``table`` for ``cls`` or its nearest base class (None if none).

    >>> lookup({int: "int"}, bool)
    'int'
    """
    for base in cls.__mro__:
        if base in table:
            return table[base]
    return None
