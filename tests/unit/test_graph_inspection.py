import matplotlib
import networkx as nx
import pytest
import tensorflow as tf
import torch

from companion.capture import GraphRecorder
from companion.graph_inspection import (
    autograd_graph,
    describe_graph,
    draw_graph,
    fx_graph,
    layered_positions,
    tf_graph,
)

matplotlib.use("Agg")


@pytest.fixture
def torch_z():
    x = torch.tensor(2.0, requires_grad=True)
    return x, x**2 + 1


def test_autograd_graph_follows_the_ops_in_forward_order(torch_z):
    x, z = torch_z
    graph = autograd_graph(z, inputs={"x": x})
    labels = [graph.nodes[n]["label"] for n in nx.topological_sort(graph)]
    assert labels == ["x", "PowBackward0", "AddBackward0", "output"]
    assert "exponent=2" in describe_graph(graph)


def test_the_same_computation_gives_the_same_nodes_whatever_the_memory_addresses():
    # Both records are alive at once, so their backward functions have different ids;
    # the figure orders nodes by name, so names must not come from ids.
    x = torch.tensor(2.0, requires_grad=True)
    first, second = x**2 + 1, x**2 + 1
    assert first.grad_fn is not second.grad_fn
    one, other = autograd_graph(first), autograd_graph(second)
    assert list(one.nodes(data=True)) == list(other.nodes(data=True))
    assert list(one.edges) == list(other.edges)


def test_unnamed_leaves_are_labelled_by_shape():
    w = torch.ones(2, 3, requires_grad=True)
    graph = autograd_graph((w * 3).sum())
    assert "leaf (2, 3)" in {data["label"] for _, data in graph.nodes(data=True)}


def test_a_shared_input_appears_once():
    x = torch.tensor(1.0, requires_grad=True)
    graph = autograd_graph(x * x + x, inputs={"x": x})
    assert [d["label"] for _, d in graph.nodes(data=True)].count("x") == 1


def test_define_by_run_graph_depends_on_the_branch_taken():
    def f(x):
        return x.exp() if x > 0 else x.sin() * 2

    positive = torch.tensor(1.0, requires_grad=True)
    negative = torch.tensor(-1.0, requires_grad=True)
    ops = lambda g: [g.nodes[n]["label"] for n in nx.topological_sort(g)]  # noqa: E731
    assert "ExpBackward0" in ops(autograd_graph(f(positive)))
    assert "SinBackward0" in ops(autograd_graph(f(negative)))


def test_autograd_graph_rejects_tensors_without_history():
    with pytest.raises(ValueError, match="requires_grad=True"):
        autograd_graph(torch.tensor(1.0) + 1)
    with pytest.raises(TypeError, match=r"torch\.Tensor"):
        autograd_graph(3.0)
    x = torch.tensor(1.0, requires_grad=True)
    with pytest.raises(TypeError, match="inputs must be a dict"):
        autograd_graph(x * 2, inputs={"x": 1.0})


def test_tf_graph_holds_forward_and_gradient_ops():
    @tf.function
    def value_and_gradient(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            z = x**2 + 1
        return z, tape.gradient(z, x)

    concrete = value_and_gradient.get_concrete_function(tf.TensorSpec([], tf.float32))
    graph = tf_graph(concrete)
    kinds = {data["kind"] for _, data in graph.nodes(data=True)}
    assert {"input", "constant", "op", "gradient", "output"} <= kinds
    labels = {data["label"] for _, data in graph.nodes(data=True)}
    assert {"x", "Pow", "AddV2", "output 0", "output 1", "2"} <= labels
    without_constants = tf_graph(concrete, drop_constants=True)
    assert "constant" not in {d["kind"] for _, d in without_constants.nodes(data=True)}


def test_tf_graph_rejects_python_functions():
    with pytest.raises(TypeError, match="concrete function"):
        tf_graph(lambda x: x)


def test_draw_graph_returns_a_figure_with_one_box_per_node(torch_z):
    x, z = torch_z
    graph = autograd_graph(z, inputs={"x": x})
    figure = draw_graph(graph, title="z = x**2 + 1")
    texts = {t.get_text() for t in figure.axes[0].texts}
    assert {"x", "PowBackward0", "AddBackward0", "output"} <= texts
    assert figure.axes[0].get_title() == "z = x**2 + 1"


def test_layout_puts_each_node_right_of_its_inputs():
    graph = nx.DiGraph([("a", "b"), ("b", "c"), ("k", "c")])
    positions = layered_positions(graph)
    for source, target in graph.edges:
        assert positions[source][0] < positions[target][0]
    # A source (k) sits just before its consumer, not at the far left.
    assert positions["k"][0] == positions["b"][0]


@pytest.mark.parametrize(
    ("graph", "error", "message"),
    [
        ("not a graph", TypeError, "networkx.DiGraph"),
        (nx.DiGraph(), ValueError, "empty"),
        (nx.DiGraph([("a", "b"), ("b", "a")]), ValueError, "cycle"),
        (nx.DiGraph([("a", "b")]), ValueError, "kind"),
    ],
)
def test_draw_graph_validates_its_input(graph, error, message):
    with pytest.raises(error, match=message):
        draw_graph(graph)


# --- torch.fx and torch.export graphs ---------------------------------------------


def straight_line(x):
    return torch.relu(x) * 2 + 1


class TinyMLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = torch.nn.Linear(3, 4)
        self.out = torch.nn.Linear(4, 1)

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x)))


def test_fx_graph_of_an_exported_program_marks_parameters_as_variables():
    exported = torch.export.export(TinyMLP(), (torch.ones(2, 3),))
    graph = fx_graph(exported)
    kinds = {data["label"]: data["kind"] for _, data in graph.nodes(data=True)}
    assert kinds["hidden.weight"] == "variable"
    assert kinds["x"] == "input"
    assert kinds["output 0"] == "output"
    ops = [graph.nodes[n]["label"] for n in nx.topological_sort(graph)]
    assert [op for op in ops if op in {"linear", "relu"}] == ["linear", "relu", "linear"]
    assert draw_graph(graph).axes  # draws without error


def test_fx_graph_of_a_dynamo_graph_and_constants():
    recorder = GraphRecorder()
    torch.compile(straight_line, backend=recorder)(torch.ones(3))
    text = describe_graph(fx_graph(recorder.graphs[0]))
    assert "relu (op)" in text
    assert "mul (op) <- relu, 2" in text
    without = fx_graph(recorder.graphs[0], show_constants=False)
    assert "constant" not in {d["kind"] for _, d in without.nodes(data=True)}


def test_fx_graph_rejects_other_objects():
    with pytest.raises(TypeError, match="ExportedProgram"):
        fx_graph(TinyMLP())
