"""Convert a Keras model into a PyTorch module that computes the same function.

:func:`keras_to_torch` walks a ``keras.Sequential`` or functional model
(nested models included) in dependency order and writes a ``torch.fx``
graph: one ``call_module`` node per Keras layer, ``call_function`` nodes
for merges, slices and reductions. The result is a
``torch.fx.GraphModule``, an ordinary ``nn.Module`` whose ``.code`` is
readable Python. Every node runs once on the example input as it is added,
so every shape is concrete: TensorFlow's ``padding="same"`` becomes the
exact, possibly asymmetric, padding it means for that input size.

A channels-last Keras image becomes a channels-first PyTorch tensor, and a
Keras ``Flatten`` of it an ``nn.Flatten`` whose features the next
``nn.Linear`` absorbs by reordering its weight columns.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from companion.porting.conversion import Conversion, flatten_outputs, lookup
from companion.porting.errors import UnsupportedLayerError
from companion.porting.layout import (
    Layout,
    channels_last,
    identity,
    to_keras_array,
    to_torch_array,
)
from companion.porting.to_torch import activations, layers, sequences, shapes
from companion.porting.to_torch.values import Site, TorchValue, as_layout
from companion.porting.tolerance import (
    DEFAULT_RTOL,
    check_example_inputs,
    check_rtol,
    compare_outputs,
)
from companion.validation import check_instance


def keras_to_torch(model, example_input, *, rtol: float = DEFAULT_RTOL):
    """A ``torch.fx.GraphModule`` (in eval mode) computing the Keras ``model``'s function.

    ``example_input`` is a NumPy array (or a tuple, one per input) in
    Keras's layout. Both models run on it before returning and must agree
    to ``rtol`` of the output's scale, else
    :class:`~companion.porting.errors.OutputMismatchError`. A layer
    without a translation raises
    :class:`~companion.porting.errors.UnsupportedLayerError` naming it and
    its path (``model/inner/layer``).

    >>> import numpy as np, keras
    >>> model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Conv2D(2, 3, padding="same"),
    ...                           keras.layers.Flatten(), keras.layers.Dense(3)])
    >>> image = np.random.default_rng(0).normal(size=(2, 4, 4, 1)).astype(np.float32)
    >>> torch_model = keras_to_torch(model, image)
    >>> [type(m).__name__ for m in torch_model.children()]
    ['Conv2d', 'Flatten', 'Linear']
    >>> keras_to_torch("model.keras", image)
    Traceback (most recent call last):
        ...
    TypeError: model must be a keras.Model, got str
    """
    return keras_to_torch_conversion(model, example_input, rtol=rtol).model


def keras_to_torch_conversion(
    model, example_input, *, rtol: float = DEFAULT_RTOL
) -> Conversion:
    """:func:`keras_to_torch`, returning the layouts and the measured differences too."""
    import keras
    import torch

    check_instance("model", model, keras.Model, what="a keras.Model")
    arrays = check_example_inputs(example_input)
    rtol = check_rtol(rtol)
    inputs = _model_inputs(model)
    if len(inputs) != len(arrays):
        raise ValueError(
            f"the model takes {len(inputs)} inputs, "
            f"example_input holds {len(arrays)}"
        )
    builder = _GraphBuilder()
    with torch.no_grad():
        values = [
            builder.placeholder(model, tensor, array, index)
            for index, (tensor, array) in enumerate(
                zip(inputs, arrays, strict=True)
            )
        ]
        outputs = _in_keras_feature_order(
            builder,
            model,
            flatten_outputs(builder.run_model(model, values, model.name)),
        )
        graph_module = builder.finish(outputs)
        torch_inputs = [
            torch.from_numpy(to_torch_array(a, v.layout))
            for a, v in zip(arrays, values, strict=True)
        ]
        got = flatten_outputs(graph_module(*torch_inputs))
    reference = model(arrays if len(arrays) > 1 else arrays[0], training=False)
    expected = [np.asarray(r) for r in flatten_outputs(reference)]
    converted = [
        to_keras_array(g.numpy(), o.layout)
        for g, o in zip(got, outputs, strict=True)
    ]
    differences = compare_outputs(expected, converted, rtol)
    return Conversion(
        graph_module,
        tuple(v.layout for v in values),
        tuple(o.layout for o in outputs),
        tuple(differences),
    )


def _in_keras_feature_order(builder, model, outputs) -> list:
    """Flat outputs in Keras's feature order, so that they compare elementwise."""
    site = Site(builder, model, model.name, "output")
    return [
        as_layout(site, o, identity(2)) if o.layout.features is not None else o
        for o in outputs
    ]


def _model_inputs(model) -> list:
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        inputs = None
    if not inputs:
        raise ValueError(
            "the Keras model has no inputs yet: build it with keras.Input"
        )
    return list(inputs)


class _GraphBuilder:
    """Writes the fx graph, running every new node on the example as it goes."""

    def __init__(self):
        import torch

        self.root = torch.nn.Module()
        self.graph = torch.fx.Graph()
        self.names: set[str] = set()

    def placeholder(self, model, tensor, array, index: int) -> TorchValue:
        import torch

        layout = input_layout(model, tensor, array.ndim)
        # keras.Input names its tensors by a process-wide counter: use the
        # input's position instead, so that the code reads the same every run.
        counted = re.fullmatch(r"keras_tensor(_\d+)?", tensor.name or "")
        given = None if counted else tensor.name
        name = self.unique(identifier(given or f"input_{index}"))
        node = self.graph.placeholder(name)
        example = torch.from_numpy(
            to_torch_array(np.ascontiguousarray(array), layout)
        )
        return TorchValue(node, example, layout)

    def unique(self, name: str) -> str:
        base, count = name, 1
        while name in self.names:
            count += 1
            name = f"{base}_{count}"
        self.names.add(name)
        return name

    def call_module(self, name: str, module, args, kwargs) -> TorchValue:
        name = self.unique(identifier(name))
        module.eval()
        self.root.add_module(name, module)
        node = self.graph.call_module(name, _nodes(args), _nodes(kwargs))
        example = module(*_examples(args), **_examples(kwargs))
        return self._result(node, example, args)

    def call(self, target, args, kwargs, layout=None, method=False):
        if method:
            node = self.graph.call_method(target, _nodes(args), _nodes(kwargs))
            first, *rest = _examples(args)
            example = getattr(first, target)(*rest, **_examples(kwargs))
        else:
            node = self.graph.call_function(
                target, _nodes(args), _nodes(kwargs)
            )
            example = target(*_examples(args), **_examples(kwargs))
        return self._result(node, example, args, layout)

    def constant(self, name: str, tensor) -> TorchValue:
        name = self.unique(identifier(name))
        self.root.register_buffer(name, tensor)
        layout = identity(max(tensor.ndim, 1))
        return TorchValue(self.graph.get_attr(name), tensor, layout)

    @staticmethod
    def _result(node, example, args, layout=None) -> TorchValue:
        if layout is None:
            firsts = [a for a in args if isinstance(a, TorchValue)]
            rank = max(getattr(example, "ndim", 1), 1)
            layout = firsts[0].layout if firsts else identity(rank)
        return TorchValue(node, example, layout)

    def finish(self, outputs: list[TorchValue]):
        import torch

        nodes = [o.node for o in outputs]
        self.graph.output(nodes[0] if len(nodes) == 1 else tuple(nodes))
        module = torch.fx.GraphModule(
            self.root, self.graph, class_name="FromKeras"
        )
        return module.eval()

    def run_model(self, model, inputs: list, path: str) -> list:
        """Convert every layer of ``model`` applied to ``inputs``; the converted outputs."""
        import keras

        if isinstance(model, keras.Sequential):
            return self._run_sequential(model, inputs, path)
        known = {id(t): v for t, v in zip(model.inputs, inputs, strict=True)}
        for node in ordered_nodes(model.outputs):
            if not node.is_input:
                self._run_node(node, known, path)
        return [known[id(t)] for t in model.outputs]

    def _run_sequential(self, model, inputs, path) -> list:
        value = inputs[0] if len(inputs) == 1 else inputs
        for layer in model.layers:
            result = self.apply(layer, (value,), {}, f"{path}/{layer.name}")
            single = isinstance(result, list) and len(result) == 1
            value = result[0] if single else result
        return value if isinstance(value, list) else [value]

    def _run_node(self, node, known: dict, path: str) -> None:
        args = _replace(node.arguments.args, known)
        # Keras records mask=None, training=None: keep only what is set.
        kwargs = {
            k: v
            for k, v in _replace(node.arguments.kwargs, known).items()
            if v is not None and k != "training"
        }
        operation = node.operation
        where = f"{path}/{operation.name}"
        results = self.apply(operation, args, kwargs, where)
        results = results if isinstance(results, list) else [results]
        if len(results) != len(node.outputs):
            raise UnsupportedLayerError(
                type(operation).__name__,
                where,
                f"converted to {len(results)} outputs, "
                f"Keras has {len(node.outputs)}",
            )
        for tensor, result in zip(node.outputs, results, strict=True):
            known[id(tensor)] = result

    def apply(self, operation, args, kwargs, path: str):
        import keras

        name = identifier(path.split("/", 1)[-1])
        site = Site(self, operation, path, name)
        if isinstance(operation, keras.Model):
            inputs = [
                a
                for a in flatten_outputs(list(args))
                if isinstance(a, TorchValue)
            ]
            return self.run_model(operation, inputs, path)
        if isinstance(operation, keras.layers.Layer):
            convert = lookup(layer_converters(), type(operation))
        else:
            convert = op_converters().get(type(operation).__name__)
        if convert is None:
            raise site.unsupported(
                type(operation).__name__,
                "no PyTorch translation for this layer",
            )
        return convert(site, operation, *args, **kwargs)


def identifier(text: str) -> str:
    """A Python identifier made from a Keras name, for the PyTorch module.

    >>> identifier("model/conv2d_1"), identifier("3x3")
    ('model_conv2d_1', 'm_3x3')
    """
    name = re.sub(r"\W", "_", text).strip("_") or "layer"
    return f"m_{name}" if name[0].isdigit() else name


def _nodes(structure):
    import torch

    return torch.fx.node.map_aggregate(
        structure, lambda v: v.node if isinstance(v, TorchValue) else v
    )


def _examples(structure):
    import torch

    return torch.fx.node.map_aggregate(
        structure, lambda v: v.example if isinstance(v, TorchValue) else v
    )


def _replace(structure, known: dict):
    import keras

    def swap(value):
        return (
            known[id(value)] if isinstance(value, keras.KerasTensor) else value
        )

    return (
        keras.tree.map_structure(swap, structure) if structure else structure
    )


def ordered_nodes(outputs) -> list:
    """The Keras nodes that compute ``outputs``, each after the nodes it reads from.

    Reads Keras's ``_keras_history`` and ``_inbound_nodes``: private, but
    the only record of a functional graph's wiring.
    """
    ordered, seen = [], set()

    def visit(tensor):
        operation, node_index, _ = tensor._keras_history
        node = operation._inbound_nodes[node_index]
        if id(node) in seen:
            return
        seen.add(id(node))
        for parent in node.input_tensors:
            visit(parent)
        ordered.append(node)

    for tensor in outputs:
        visit(tensor)
    return ordered


@lru_cache(maxsize=1)
def _spatial_layer_types() -> tuple:
    """Layers that read a rank-3 input as ``(N, L, C)`` with channels, not as a sequence."""
    import keras

    layers_ = keras.layers
    return (
        layers_.Conv1D,
        layers_.Conv1DTranspose,
        layers_.MaxPooling1D,
        layers_.AveragePooling1D,
        layers_.GlobalAveragePooling1D,
        layers_.GlobalMaxPooling1D,
        layers_.ZeroPadding1D,
        layers_.Cropping1D,
    )


def _is_spatial(layer, rank: int) -> bool:
    import keras

    if isinstance(layer, keras.layers.BatchNormalization):
        return layer.axis in (-1, rank - 1, [rank - 1], [-1])
    return isinstance(layer, _spatial_layer_types())


def input_layout(model, tensor, rank: int) -> Layout:
    """Images (rank 4 or more) are channels-first in PyTorch; a rank-3 input only
    if it goes straight into a convolution-like layer (else it is a sequence)."""
    import keras

    if rank >= 4:
        return channels_last(rank)
    if rank < 3:
        return identity(rank)
    if isinstance(model, keras.Sequential):
        spatial = bool(model.layers) and _is_spatial(model.layers[0], rank)
    else:
        spatial = any(
            any(t is tensor for t in node.input_tensors)
            and _is_spatial(node.operation, rank)
            for node in ordered_nodes(model.outputs)
        )
    return channels_last(rank) if spatial else identity(rank)


@lru_cache(maxsize=1)
def layer_converters() -> dict:
    """Keras layer classes -> converters (subclasses find their base's)."""
    import keras

    k = keras.layers
    return {
        k.InputLayer: shapes.passthrough,
        k.Identity: shapes.passthrough,
        k.Dense: layers.dense,
        k.Conv1D: layers.conv,
        k.Conv2D: layers.conv,
        k.Conv1DTranspose: layers.conv_transpose,
        k.Conv2DTranspose: layers.conv_transpose,
        k.MaxPooling1D: layers.pool,
        k.MaxPooling2D: layers.pool,
        k.AveragePooling1D: layers.pool,
        k.AveragePooling2D: layers.pool,
        k.GlobalAveragePooling1D: layers.global_pool,
        k.GlobalAveragePooling2D: layers.global_pool,
        k.GlobalMaxPooling1D: layers.global_pool,
        k.GlobalMaxPooling2D: layers.global_pool,
        k.BatchNormalization: layers.batch_norm,
        k.LayerNormalization: layers.layer_norm,
        k.Embedding: layers.embedding,
        k.Dropout: layers.dropout,
        k.SpatialDropout1D: layers.dropout,
        k.SpatialDropout2D: layers.dropout,
        k.Flatten: shapes.flatten_layer,
        k.Reshape: shapes.reshape,
        k.Permute: shapes.permute,
        k.ZeroPadding1D: shapes.zero_padding,
        k.ZeroPadding2D: shapes.zero_padding,
        k.Cropping1D: shapes.cropping,
        k.Cropping2D: shapes.cropping,
        k.Add: shapes.merge,
        k.Subtract: shapes.merge,
        k.Multiply: shapes.merge,
        k.Average: shapes.merge,
        k.Maximum: shapes.merge,
        k.Minimum: shapes.merge,
        k.Concatenate: shapes.concatenate,
        k.Activation: activations.activation_layer,
        k.ReLU: activations.relu_layer,
        k.LeakyReLU: activations.leaky_relu_layer,
        k.ELU: activations.elu_layer,
        k.Softmax: activations.softmax_layer,
        k.LSTM: sequences.recurrent,
        k.GRU: sequences.recurrent,
        k.Bidirectional: sequences.bidirectional,
        k.MultiHeadAttention: sequences.attention,
    }


@lru_cache(maxsize=1)
def op_converters() -> dict:
    """``keras.ops`` operation class names -> converters."""
    return {
        "Add": shapes.op_binary("add"),
        "Subtract": shapes.op_binary("subtract"),
        "Multiply": shapes.op_binary("multiply"),
        "TrueDivide": shapes.op_binary("divide"),
        "Divide": shapes.op_binary("divide"),
        "Mean": shapes.op_reduce("mean"),
        "Sum": shapes.op_reduce("sum"),
        "Max": shapes.op_reduce("amax"),
        "GetItem": shapes.op_getitem,
        "Take": shapes.op_take,
        "Stack": shapes.op_stack,
        "Transpose": shapes.op_transpose,
        "Gelu": activations.gelu_op,
        "LogSoftmax": activations.log_softmax_op,
    }
