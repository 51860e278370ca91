"""The graphs the frameworks record, as networkx graphs you can print or draw.

PyTorch's autograd keeps, on every tensor that needs a gradient, a
``grad_fn``: the backward function of the op that made it, linked to the
backward functions of that op's inputs. :func:`autograd_graph` walks that
chain. TensorFlow's ``tf.function`` traces Python into a ``tf.Graph`` of
operations; :func:`tf_graph` reads it. Both return a ``networkx.DiGraph``
whose edges point the way data flows forward, with node attributes
``label`` (what to print) and ``kind`` (``input``, ``constant``, ``op`` or
``output``). :func:`fx_graph` reads the graphs PyTorch 2 captures
(``torch.export`` programs, ``torch.fx`` graphs) into the same form.
:func:`draw_graph` draws any of them the same way.

>>> import torch
>>> x = torch.tensor(2.0, requires_grad=True)
>>> graph = autograd_graph(x**2 + 1, inputs={"x": x})
>>> print(describe_graph(graph))
x (input)
PowBackward0 (op) <- x; exponent=2
AddBackward0 (op) <- PowBackward0; alpha=1
output (output) <- AddBackward0
"""

from __future__ import annotations

import networkx as nx

from companion.plotting import new_figure, patches
from companion.validation import check_instance

KINDS = ("input", "constant", "variable", "op", "gradient", "output")

# Fill colours by node kind; chosen to be readable in print and for colour-blind readers.
KIND_COLOURS = {
    "input": "#cfe3f7",
    "variable": "#cfe3f7",
    "constant": "#eeeeee",
    "op": "#fde4c8",
    "gradient": "#f6c9d0",
    "output": "#d7f0d2",
}
EDGE_COLOUR = "#666666"
ARROW_COLOUR = "#555555"


def _scalar_details(grad_fn) -> str:
    """Non-tensor values autograd saved for the backward pass, e.g. ``exponent=2``."""
    details = []
    for attribute in sorted(dir(grad_fn)):
        if not attribute.startswith("_saved_"):
            continue
        try:
            value = getattr(grad_fn, attribute)
        except RuntimeError:  # saved tensors freed after backward()
            continue
        if isinstance(value, bool | int | float):
            details.append(f"{attribute.removeprefix('_saved_')}={value:g}")
    return ", ".join(details)


def autograd_graph(output, inputs: dict | None = None) -> nx.DiGraph:
    """The autograd graph behind ``output``, with edges in forward direction.

    ``inputs`` maps names to leaf tensors so the picture can label them;
    leaves not named there are labelled by shape.
    """
    import torch

    check_instance("output", output, torch.Tensor, what="a torch.Tensor")
    if output.grad_fn is None:
        raise ValueError(
            "output has no autograd history: it is a leaf or was computed without "
            "gradients; create the inputs with requires_grad=True"
        )
    inputs = inputs or {}
    if not isinstance(inputs, dict) or not all(
        isinstance(value, torch.Tensor) for value in inputs.values()
    ):
        raise TypeError(
            "inputs must be a dict mapping names to torch.Tensor leaves"
        )
    names = {id(tensor): name for name, tensor in inputs.items()}

    graph = nx.DiGraph()
    # Nodes are named in visit order, not by id(): ids are memory addresses, and
    # the drawing orders nodes by name, so id-based names made the figure vary.
    # `visited` keeps each wrapper alive, so no id is reused for another node.
    named: dict[int, str] = {}
    visited = []

    def visit(fn) -> str:
        if id(fn) in named:
            return named[id(fn)]
        node = named[id(fn)] = f"fn{len(named)}"
        visited.append(fn)
        if hasattr(
            fn, "variable"
        ):  # AccumulateGrad: the leaf that receives a gradient
            leaf = fn.variable
            label = names.get(id(leaf), f"leaf {tuple(leaf.shape)}")
            graph.add_node(node, label=label, kind="input", detail="")
            return node
        graph.add_node(
            node, label=fn.name(), kind="op", detail=_scalar_details(fn)
        )
        for parent, _ in fn.next_functions:
            if parent is not None:
                graph.add_edge(visit(parent), node)
        return node

    graph.add_node("output", label="output", kind="output", detail="")
    graph.add_edge(visit(output.grad_fn), "output")
    return graph


def _op_kind(op, output_ops: set[str]) -> str:
    if op.name in output_ops:
        return "output"
    if op.type == "Placeholder":
        return "input"
    if op.type == "Const":
        return "constant"
    if op.type in {"VarHandleOp", "ReadVariableOp"}:
        return "variable"
    if op.name.startswith("gradient_tape/"):
        return "gradient"
    return "op"


def _op_label(op, kind: str, output_index: dict[str, int]) -> str:
    """What a reader needs to see: an input's name, a scalar constant's value, an op's type."""
    import tensorflow as tf

    if kind == "output":
        return f"output {output_index[op.name]}"
    if kind == "input":
        return op.name
    if kind == "constant":
        value = tf.make_ndarray(op.get_attr("value"))
        return (
            f"{value.item():g}"
            if value.size == 1
            else f"const {list(value.shape)}"
        )
    return op.type


def tf_graph(function, *, drop_constants: bool = False) -> nx.DiGraph:
    """The operations of a ``tf.function``'s concrete function (or a ``tf.Graph``).

    Each node is an operation labelled with its type (``Pow``, ``AddV2``),
    an input with its argument name, a scalar constant with its value;
    ``detail`` holds the op's name in the graph. Ops that ``GradientTape``
    added are of kind ``gradient``; the Identity ops that return the
    function's results are ``output 0``, ``output 1`` and so on.
    """
    import tensorflow as tf

    if isinstance(function, tf.Graph):
        tf_graph_obj, outputs = function, []
    elif hasattr(function, "graph") and isinstance(function.graph, tf.Graph):
        tf_graph_obj, outputs = function.graph, list(function.graph.outputs)
    else:
        raise TypeError(
            "expected a concrete function (e.g. f.get_concrete_function(...)) or a tf.Graph, "
            f"got {type(function).__name__}"
        )
    output_index = {tensor.op.name: i for i, tensor in enumerate(outputs)}
    graph = nx.DiGraph()
    for op in tf_graph_obj.get_operations():
        kind = _op_kind(op, set(output_index))
        if drop_constants and kind == "constant":
            continue
        label = _op_label(op, kind, output_index)
        graph.add_node(op.name, label=label, kind=kind, detail=op.name)
    for op in tf_graph_obj.get_operations():
        for tensor in op.inputs:
            if tensor.op.name in graph and op.name in graph:
                graph.add_edge(tensor.op.name, op.name)
    return graph


def _fx_target_label(node) -> str:
    """A short op name: ``aten.linear.default`` -> ``linear``, ``operator.mul`` -> ``mul``."""
    target = node.target
    if node.op in {"call_method", "call_module", "get_attr"}:
        return str(target)
    schema = getattr(target, "_schema", None)
    if schema is not None:  # an ATen operator overload, e.g. aten::linear
        return schema.name.split("::")[-1]
    return getattr(target, "__name__", str(target))


def _fx_leaves(value):
    """The nodes and constants inside an FX argument (tuples, lists, dicts, slices)."""
    if isinstance(value, list | tuple):
        for item in value:
            yield from _fx_leaves(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _fx_leaves(item)
    elif isinstance(value, slice):
        yield from _fx_leaves((value.start, value.stop, value.step))
    elif value is not None:
        yield value


def fx_graph(program, *, show_constants: bool = True) -> nx.DiGraph:
    """The graph of a ``torch.export`` program or a ``torch.fx`` graph, as :func:`tf_graph` gives.

    ``program`` is an ``ExportedProgram`` (from ``torch.export.export``), a
    ``torch.fx.GraphModule`` (from ``torch.fx.symbolic_trace`` or handed to a
    ``torch.compile`` backend) or a ``torch.fx.Graph``. Inputs are of kind
    ``input``; in an exported program, parameters and buffers are of kind
    ``variable`` and labelled with their name in the module (``linear.weight``).
    Operators are labelled by their short name (``linear``, ``relu``, ``mul``),
    scalar arguments become ``constant`` nodes when ``show_constants`` is true,
    and each returned value is an ``output`` node.

    >>> import torch
    >>> def f(x):
    ...     return torch.sin(x) * 2
    >>> print(describe_graph(fx_graph(torch.fx.symbolic_trace(f))))
    2 (constant)
    x (input)
    sin (op) <- x
    mul (op) <- sin, 2
    output 0 (output) <- mul
    """
    import torch

    fx, state = _fx_graph_and_state(program)
    graph = nx.DiGraph()
    constants = 0
    for node in fx.nodes:
        if node.op == "placeholder":
            lifted = node.name in state  # a parameter, buffer or constant
            graph.add_node(
                node.name,
                label=state[node.name] if lifted else node.name,
                kind="variable" if lifted else "input",
                detail="",
            )
        elif node.op == "output":
            for index, value in enumerate(_fx_leaves(node.args)):
                name = f"output {index}"
                graph.add_node(name, label=name, kind="output", detail="")
                if isinstance(value, torch.fx.Node):
                    graph.add_edge(value.name, name)
        else:
            constants = _add_fx_op(graph, node, show_constants, constants)
    return graph


def _fx_graph_and_state(program):
    """The ``torch.fx.Graph`` of ``program``, and the names of its lifted state.

    The second item maps the placeholders an exported program made of its
    parameters, buffers and constants to their names in the module.
    """
    import torch

    if isinstance(program, torch.export.ExportedProgram):
        signature = program.graph_signature
        state = {
            **signature.inputs_to_parameters,
            **signature.inputs_to_buffers,
            **getattr(signature, "inputs_to_lifted_tensor_constants", {}),
        }
        return program.graph, state
    if isinstance(program, torch.fx.GraphModule):
        return program.graph, {}
    if isinstance(program, torch.fx.Graph):
        return program, {}
    raise TypeError(
        "expected a torch.export.ExportedProgram, torch.fx.GraphModule or torch.fx.Graph, "
        f"got {type(program).__name__}"
    )


def _add_fx_op(graph, node, show_constants: bool, constants: int) -> int:
    """Add an operator node, its edges and its scalar arguments; return the constant count."""
    import torch

    kind = "variable" if node.op == "get_attr" else "op"
    graph.add_node(
        node.name, label=_fx_target_label(node), kind=kind, detail=node.name
    )
    for value in _fx_leaves((node.args, node.kwargs)):
        if isinstance(value, torch.fx.Node):
            graph.add_edge(value.name, node.name)
        elif show_constants and isinstance(value, bool | int | float):
            constants += 1
            constant = f"constant {constants}"
            graph.add_node(
                constant, label=f"{value:g}", kind="constant", detail=""
            )
            graph.add_edge(constant, node.name)
    return constants


def describe_graph(graph: nx.DiGraph) -> str:
    """One line per node in data-flow order: ``label (kind) <- inputs; details``."""
    check_instance("graph", graph, nx.DiGraph, what="a networkx.DiGraph")
    lines = []
    for node in nx.lexicographical_topological_sort(graph, key=str):
        data = graph.nodes[node]
        line = f"{data['label']} ({data['kind']})"
        parents = [graph.nodes[p]["label"] for p in graph.predecessors(node)]
        if parents:
            line += " <- " + ", ".join(parents)
        if (
            data.get("detail")
            and data["detail"] != data["label"]
            and data["kind"] in {"op", "gradient"}
        ):
            line += "; " + data["detail"]
        lines.append(line)
    return "\n".join(lines)


def layered_positions(graph: nx.DiGraph) -> dict:
    """Left-to-right positions: one column per step of data flow, few crossing edges.

    A node's column is its longest path from a source; a source (input or
    constant) moves right to sit just before its first consumer. Rows in a
    column follow the mean row of each node's neighbours (barycentre
    ordering), which keeps most edges from crossing.
    """
    order = list(nx.topological_sort(graph))
    layer = {}
    for node in order:
        parents = list(graph.predecessors(node))
        layer[node] = 1 + max(layer[p] for p in parents) if parents else 0
    for node in order:
        children = list(graph.successors(node))
        if not list(graph.predecessors(node)) and children:
            layer[node] = min(layer[c] for c in children) - 1
    columns: dict[int, list] = {}
    for node in sorted(graph, key=str):
        columns.setdefault(layer[node], []).append(node)
    row = {
        node: float(i)
        for members in columns.values()
        for i, node in enumerate(members)
    }
    for _ in range(4):
        for column in sorted(columns):
            for node in columns[column]:
                neighbours = list(graph.predecessors(node)) or list(
                    graph.successors(node)
                )
                if neighbours:
                    row[node] = sum(row[n] for n in neighbours) / len(
                        neighbours
                    )
            columns[column].sort(key=lambda n: (row[n], str(n)))
            for i, node in enumerate(columns[column]):
                row[node] = float(i)
    positions = {}
    for column, members in columns.items():
        top = (len(members) - 1) / 2
        for i, node in enumerate(members):
            positions[node] = (column * 2.4, top - i)
    return positions


def draw_graph(graph: nx.DiGraph, *, title: str | None = None, ax=None):
    """Draw a graph from :func:`autograd_graph` or :func:`tf_graph`; return the figure.

    Columns follow the data flow left to right; colours mark inputs,
    constants, ops, gradient ops and outputs. Pass ``ax`` to draw into an
    existing matplotlib axes (two graphs side by side, say).

    >>> import networkx as nx
    >>> graph = nx.DiGraph([("a", "f"), ("f", "out")])
    >>> for node, kind in [("a", "input"), ("f", "op"), ("out", "output")]:
    ...     graph.nodes[node].update(label=node, kind=kind)
    >>> figure = draw_graph(graph, title="f(a)")
    >>> sorted(t.get_text() for t in figure.axes[0].texts if t.get_text())
    ['a', 'f', 'out']
    """
    check_instance("graph", graph, nx.DiGraph, what="a networkx.DiGraph")
    if graph.number_of_nodes() == 0:
        raise ValueError("graph is empty: nothing to draw")
    if not nx.is_directed_acyclic_graph(graph):
        raise ValueError(
            "graph has a cycle; expected a data-flow graph (a DAG)"
        )
    missing = [
        n
        for n, data in graph.nodes(data=True)
        if data.get("kind") not in KINDS
    ]
    if missing:
        raise ValueError(
            f"nodes {missing[:3]} lack a 'kind' attribute from {KINDS}"
        )

    positions = layered_positions(graph)
    columns = (
        1
        + (
            max(x for x, _ in positions.values())
            - min(x for x, _ in positions.values())
        )
        / 2.4
    )
    rows = 1 + max(abs(y) for _, y in positions.values()) * 2
    if ax is None:
        # Closed, so a notebook shows it once (as the cell's value).
        fig, axes = new_figure(
            figsize=(max(3.5, 1.55 * columns), max(1.6, 0.85 * rows + 0.8)),
            close=True,
        )
        ax = axes[0, 0]
    else:
        fig = ax.figure
    boxes = {}
    for node, (x, y) in positions.items():
        data = graph.nodes[node]
        boxes[node] = ax.text(
            x,
            y,
            data["label"],
            ha="center",
            va="center",
            fontsize=10,
            family="monospace",
            bbox={
                "boxstyle": "round,pad=0.4",
                "facecolor": KIND_COLOURS[data["kind"]],
                "edgecolor": EDGE_COLOUR,
            },
            zorder=2,
        )
    for source, target in graph.edges:
        # Clip each arrow to the two boxes, so arrowheads stop at the box edge.
        ax.annotate(
            "",
            xy=positions[target],
            xytext=positions[source],
            arrowprops={
                "arrowstyle": "-|>",
                "color": ARROW_COLOUR,
                "shrinkA": 1,
                "shrinkB": 1,
                "patchA": boxes[source].get_bbox_patch(),
                "patchB": boxes[target].get_bbox_patch(),
            },
            zorder=1,
        )
    xs = [x for x, _ in positions.values()]
    ys = [y for _, y in positions.values()]
    ax.set_xlim(min(xs) - 1.1, max(xs) + 1.1)
    ax.set_ylim(min(ys) - 0.7, max(ys) + 0.7)
    ax.axis("off")
    kinds = [
        k
        for k in KINDS
        if any(d["kind"] == k for _, d in graph.nodes(data=True))
    ]
    ax.legend(
        handles=patches(
            ((k, KIND_COLOURS[k]) for k in kinds), edgecolor=EDGE_COLOUR
        ),
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=len(kinds),
        frameon=False,
        fontsize=8,
    )
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
