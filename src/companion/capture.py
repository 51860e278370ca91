"""Look inside graph capture: what ``torch.compile`` captured, and what the compilers made.

- :class:`GraphRecorder` is a ``torch.compile`` backend that keeps every FX
  graph TorchDynamo hands it and then runs the graph unchanged. Counting its
  graphs counts captures; ``fx_graph`` (in :mod:`companion.graph_inspection`)
  draws them.
- :func:`graph_breaks` runs ``torch._dynamo.explain`` and keeps the part a
  reader needs: how many graphs, how many breaks, and for each break the
  first line of its reason and the source line that caused it.
- :func:`strip_hlo_metadata` and :func:`hlo_fusions` make XLA's HLO text
  (from ``experimental_get_compiler_ir``) short enough to read.
- :func:`inductor_kernels` lists the kernels TorchInductor generated.

>>> strip_hlo_metadata('%m = f32[] multiply(%a, %b), metadata={op_type="Mul" op_name="mul"}')
'%m = f32[] multiply(%a, %b)'
>>> inductor_kernels("cpp_fused_add_mul_0 = async_compile.cpp_pybinding(...)")
['cpp_fused_add_mul_0']
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from companion.debugging import shorten_paths
from companion.validation import check_instance


class GraphRecorder:
    """A ``torch.compile`` backend that records each captured graph and runs it as is.

    Use it as ``torch.compile(function, backend=recorder)``; after a call,
    ``recorder.graphs`` holds one ``torch.fx.GraphModule`` per captured
    graph (more than one when Dynamo had to break the function up).
    """

    def __init__(self):
        self.graphs: list = []

    def __call__(self, graph_module, _example_inputs):
        self.graphs.append(graph_module)
        return graph_module.forward

    def codes(self) -> list[str]:
        """The Python source of each recorded graph, as ``torch.fx`` prints it."""
        return [graph.code.strip() for graph in self.graphs]


@dataclass(frozen=True)
class GraphBreak:
    """One place where TorchDynamo stopped capturing and fell back to Python."""

    reason: str
    location: str
    code: str

    def __str__(self) -> str:
        return f"{self.reason}\n    at {self.location}: {self.code}"


@dataclass(frozen=True)
class CaptureReport:
    """What ``torch._dynamo.explain`` found for one call.

    ``skipped`` lists the frames (functions) Dynamo gave up on entirely and
    left to run eagerly, each as its chain of reasons, e.g.
    ``"Data-dependent branching -> graph break in loop"``.
    """

    graph_count: int
    graph_break_count: int
    op_count: int
    breaks: tuple[GraphBreak, ...]
    skipped: tuple[str, ...] = ()

    def __str__(self) -> str:
        lines = [
            f"{self.graph_count} graph(s), {self.graph_break_count} graph break(s), "
            f"{self.op_count} op(s) captured"
        ]
        lines += [
            f"  break {i}: {b}" for i, b in enumerate(self.breaks, start=1)
        ]
        lines += [
            f"  frame left to run eagerly: {reason}" for reason in self.skipped
        ]
        return "\n".join(lines)


_ANOTHER_BREAK = (
    "*** While handling this graph break, another graph break occurred: ***"
)


def _reason_chain(message: str) -> str:
    """``"first reason -> second reason"`` from one of Dynamo's multi-part messages."""
    parts = [
        part.strip().splitlines()[0] for part in message.split(_ANOTHER_BREAK)
    ]
    return " -> ".join(part for part in parts if part)


def graph_breaks(function: Callable, *args, **kwargs) -> CaptureReport:
    """Run ``function(*args, **kwargs)`` under ``torch._dynamo.explain`` and summarise it.

    Each break keeps the first line of Dynamo's reason (the rest is hints)
    and the innermost user source line that caused it, with paths shortened.

    >>> found = GraphBreak("generic_jump", "f.py, line 3, in f", "if y:")
    >>> report = CaptureReport(2, 1, 3, (found,))
    >>> print(report)
    2 graph(s), 1 graph break(s), 3 op(s) captured
      break 1: generic_jump
        at f.py, line 3, in f: if y:
    """
    import torch._dynamo

    if not callable(function):
        raise TypeError(
            f"function must be callable, got {type(function).__name__}"
        )
    from torch._dynamo.utils import counters

    before = dict(counters["unimplemented"])
    explanation = torch._dynamo.explain(function)(*args, **kwargs)
    skipped = [
        _reason_chain(message)
        for message, count in counters["unimplemented"].items()
        if count > before.get(message, 0) and "Skipping the frame" in message
    ]
    breaks = []
    for item in explanation.break_reasons:
        reason = (
            item.reason.strip().splitlines()[0] if item.reason.strip() else "?"
        )
        if item.user_stack:
            frame = item.user_stack[-1]
            name = re.sub(
                r"^torch_dynamo_resume_in_(\w+)_at_\d+$", r"\1", frame.name
            )
            where = f"{shorten_paths(frame.filename)}, line {frame.lineno}, in {name}"
            code = (frame.line or "").strip()
        else:
            where, code = "(no user frame)", ""
        breaks.append(GraphBreak(reason=reason, location=where, code=code))
    return CaptureReport(
        graph_count=explanation.graph_count,
        # explain() reports -1 breaks when it captured no graph at all
        graph_break_count=max(explanation.graph_break_count, 0),
        op_count=explanation.op_count,
        breaks=tuple(breaks),
        skipped=tuple(dict.fromkeys(skipped)),
    )


def strip_hlo_metadata(hlo: str) -> str:
    """Drop the ``metadata={...}`` source annotations (and file paths) from HLO text."""
    check_instance("hlo", hlo, str, what="a string")
    return re.sub(r",?\s*metadata=\{[^{}]*\}", "", hlo)


def hlo_fusions(hlo: str) -> list[str]:
    """The instructions in an HLO module's entry computation that call a fused computation."""
    lines = strip_hlo_metadata(hlo).splitlines()
    try:
        start = next(
            i for i, line in enumerate(lines) if line.startswith("ENTRY")
        )
    except StopIteration:
        raise ValueError(
            "no ENTRY computation found: is this HLO text?"
        ) from None
    return [line.strip() for line in lines[start:] if " fusion(" in line]


def inductor_kernels(code: str) -> list[str]:
    """Names of the C++ (``cpp_fused_*``) or Triton kernels in TorchInductor's output code."""
    check_instance("code", code, str, what="a string")
    return re.findall(
        r"^((?:cpp|triton)_\w+) = async_compile\.", code, flags=re.MULTILINE
    )
