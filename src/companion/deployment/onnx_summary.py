"""What an ONNX file holds (opset, inputs, outputs, operators), printed as aligned lines."""

from __future__ import annotations

import textwrap
from collections import Counter
from pathlib import Path

from companion.validation import check_instance


def onnx_summary(path: Path) -> dict:
    """Opset, inputs and outputs (with symbolic dimensions) and operator counts of an ONNX file."""
    import onnx

    model = onnx.load(str(path))

    def shape(value):
        dims = value.type.tensor_type.shape.dim
        return [d.dim_param or d.dim_value for d in dims]

    opsets = {
        entry.domain or "ai.onnx": entry.version
        for entry in model.opset_import
    }
    return {
        "producer": f"{model.producer_name} {model.producer_version}".strip(),
        "opset": opsets.get("ai.onnx"),
        "inputs": {v.name: shape(v) for v in model.graph.input},
        "outputs": {v.name: shape(v) for v in model.graph.output},
        "operators": dict(Counter(node.op_type for node in model.graph.node)),
    }


def format_summary(summary: dict, width: int = 70) -> str:
    """A dictionary as ``key  value`` lines, long values wrapped under themselves.

    >>> print(format_summary({"opset": 20, "operators": {"Conv": 2, "Relu": 3}}, width=24))
    opset      20
    operators  {'Conv': 2,
               'Relu': 3}
    """
    check_instance("summary", summary, dict)
    pad = max(len(str(key)) for key in summary) + 2 if summary else 0
    lines = []
    for key, value in summary.items():
        lines.append(
            textwrap.fill(
                str(value),
                width,
                initial_indent=f"{key!s:<{pad}}",
                subsequent_indent=" " * pad,
                break_on_hyphens=False,
            )
        )
    return "\n".join(lines)
