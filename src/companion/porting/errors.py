"""The two errors the converters raise.

An unsupported layer is a *type* problem (there is no translation for this
kind of object), so :class:`UnsupportedLayerError` is a ``TypeError``; it
names the layer and where it sits in the model. A conversion whose outputs
disagree with the original's is a *value* problem, so
:class:`OutputMismatchError` is a ``ValueError``; it carries the measured
relative difference and the tolerance it broke.

>>> error = UnsupportedLayerError("Upsample", "decoder.3")
>>> str(error)
"cannot convert Upsample at 'decoder.3'"
>>> isinstance(error, TypeError)
True
>>> str(UnsupportedLayerError("GRU(reset_after=False)", "model/gru", "no PyTorch equivalent"))
"cannot convert GRU(reset_after=False) at 'model/gru': no PyTorch equivalent"
>>> error = OutputMismatchError(0.82, 1e-5)
>>> isinstance(error, ValueError), error.relative_difference
(True, 0.82)
"""

from __future__ import annotations


class UnsupportedLayerError(TypeError):
    """A layer, function or setting the converter has no translation for.

    ``layer_type`` names what was found (a class, a function, or a class
    with the setting that is not translated) and ``path`` where it sits: the
    module path in a PyTorch model (``"features.0"``), the layer path in a
    Keras model (``"model/block/conv"``). ``reason`` says why, when that
    is not obvious.
    """

    def __init__(self, layer_type: str, path: str, reason: str = ""):
        self.layer_type = layer_type
        self.path = path
        self.reason = reason
        message = f"cannot convert {layer_type} at {path!r}"
        super().__init__(f"{message}: {reason}" if reason else message)


class OutputMismatchError(ValueError):
    """The converted model's outputs differ from the original's on the example.

    ``relative_difference`` is the measured ``max |converted - original| /
    max |original|``; ``tolerance`` is the bound it broke.
    """

    def __init__(
        self, relative_difference: float, tolerance: float, detail: str = ""
    ):
        self.relative_difference = relative_difference
        self.tolerance = tolerance
        message = (
            "the converted model disagrees with the original: relative "
            f"difference {relative_difference:.3g} > tolerance {tolerance:.3g}"
        )
        super().__init__(f"{message} ({detail})" if detail else message)
