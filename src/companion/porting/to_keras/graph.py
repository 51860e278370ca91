"""Convert a PyTorch module into a Keras functional model that computes the same function.

:func:`torch_to_keras` traces the module with ``torch.fx`` (an
``nn.Sequential``, or any module whose ``forward`` has no data-dependent
control flow), runs the trace once on the example input to learn every
tensor's shape, and rebuilds it node by node as a Keras functional model
(the converters live in :mod:`~companion.porting.to_keras.layers`,
:mod:`~companion.porting.to_keras.sequences` and
:mod:`~companion.porting.to_keras.functions`). Images become channels-last
on the way in and stay so through convolutions, pooling, normalization and
elementwise layers; only a layer that needs PyTorch's order gets a
``Permute``.

The Keras model takes and returns its framework's usual layout: an image
``(N, C, H, W)`` becomes ``(N, H, W, C)``; sequences stay ``(N, T, F)``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from companion.porting.conversion import Conversion, flatten_outputs, lookup
from companion.porting.errors import UnsupportedLayerError
from companion.porting.layout import (
    Layout,
    channels_last,
    identity,
    to_keras_array,
)
from companion.porting.to_keras import functions, layers, sequences
from companion.porting.to_keras.values import (
    KerasValue,
    Opaque,
    Site,
    as_layout,
)
from companion.porting.tolerance import (
    DEFAULT_RTOL,
    check_example_inputs,
    check_rtol,
    compare_outputs,
)
from companion.validation import check_instance


def torch_to_keras(module, example_input, *, rtol: float = DEFAULT_RTOL):
    """A Keras functional model computing ``module``'s function (in inference mode).

    ``example_input`` is a NumPy array (or a tuple of them, one per input)
    in PyTorch's layout; its non-batch shape becomes the Keras input shape.
    Before returning, both models run on it and must agree to ``rtol`` of
    the output's scale, else :class:`~companion.porting.errors.OutputMismatchError`.
    A layer or function without a translation raises
    :class:`~companion.porting.errors.UnsupportedLayerError`, naming it and
    its path in the module.

    >>> import numpy as np, torch
    >>> from torch import nn
    >>> _ = torch.manual_seed(0)
    >>> model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(64, 2))
    >>> image = np.random.default_rng(0).normal(size=(2, 1, 4, 4)).astype(np.float32)
    >>> keras_model = torch_to_keras(model, image)
    >>> keras_model.input_shape  # channels last
    (None, 4, 4, 1)
    >>> [type(layer).__name__ for layer in keras_model.layers[1:]]
    ['Conv2D', 'ReLU', 'Flatten', 'Dense']
    >>> torch_to_keras(model, image.tolist())
    Traceback (most recent call last):
        ...
    TypeError: example_input must be a numpy array or a tuple of them, got list of list
    """
    return torch_to_keras_conversion(module, example_input, rtol=rtol).model


def torch_to_keras_conversion(
    module, example_input, *, rtol: float = DEFAULT_RTOL
) -> Conversion:
    """:func:`torch_to_keras`, returning the layouts and the measured differences too."""
    import torch

    check_instance("module", module, torch.nn.Module, what="a torch.nn.Module")
    arrays = check_example_inputs(example_input)
    rtol = check_rtol(rtol)
    was_training = module.training
    module.eval()
    try:
        graph_module = _trace(module)
        tensors = [torch.from_numpy(np.ascontiguousarray(a)) for a in arrays]
        builder = _GraphBuilder(
            graph_module, _run_recording(graph_module, tensors)
        )
        keras_model = builder.build()
        with torch.no_grad():
            reference = flatten_outputs(module(*tensors))
        expected = [
            to_keras_array(t.numpy(), layout)
            for t, layout in zip(
                reference, builder.output_layouts, strict=True
            )
        ]
        keras_inputs = [
            to_keras_array(a, layout)
            for a, layout in zip(arrays, builder.input_layouts, strict=True)
        ]
        differences = compare_outputs(
            expected, _keras_outputs(keras_model, keras_inputs), rtol
        )
    finally:
        module.train(was_training)
    return Conversion(
        keras_model,
        tuple(builder.input_layouts),
        tuple(builder.output_layouts),
        tuple(differences),
    )


def _trace(module):
    import torch

    try:
        return torch.fx.symbolic_trace(module)
    except (
        Exception
    ) as error:  # fx raises TraceError, TypeError, ... for untraceable code
        raise UnsupportedLayerError(
            type(module).__name__,
            "<forward>",
            f"torch.fx cannot trace it ({error})",
        ) from error


def _run_recording(graph_module, tensors) -> dict:
    """Every node's concrete value on the example input (for the shapes)."""
    import torch

    values = {}

    class Recorder(torch.fx.Interpreter):
        def run_node(self, node):
            values[node] = result = super().run_node(node)
            return result

    with torch.no_grad():
        Recorder(graph_module).run(*tensors)
    return values


def _keras_outputs(model, inputs) -> list[np.ndarray]:
    outputs = model(inputs if len(inputs) > 1 else inputs[0], training=False)
    return [np.asarray(o) for o in flatten_outputs(outputs)]


class _GraphBuilder:
    """Walks the fx graph in order, converting each node to Keras."""

    def __init__(self, graph_module, concrete: dict):
        self.graph_module = graph_module
        self.concrete = concrete
        self.values: dict = {}
        self.keras_inputs: list = []
        self.input_layouts: list[Layout] = []
        self.output_layouts: list[Layout] = []

    def build(self):
        import keras

        outputs = []
        for node in self.graph_module.graph.nodes:
            if node.op == "output":
                outputs = self._outputs(node)
            else:
                self.values[node] = self._convert(node)
        inputs = self.keras_inputs
        return keras.Model(
            inputs if len(inputs) > 1 else inputs[0],
            outputs if len(outputs) > 1 else outputs[0],
        )

    def _site(self, node) -> Site:
        if node.op == "call_module":
            path = node.target
        else:
            stack = node.meta.get("nn_module_stack") or {}
            owner = next(reversed(stack), "") if stack else ""
            path = f"{owner} ({node.name})" if owner else node.name
        shapes = [
            tuple(self.concrete[a].shape)
            for a in node.all_input_nodes
            if hasattr(self.concrete.get(a), "shape")
        ]
        return Site(node, node.name, path, self.concrete.get(node), shapes)

    def _arg(self, value):
        import torch

        return torch.fx.node.map_aggregate(
            value,
            lambda v: self.values[v] if isinstance(v, torch.fx.Node) else v,
        )

    def _convert(self, node):
        site = self._site(node)
        if node.op == "placeholder":
            return self._placeholder(node)
        if (
            node.op == "get_attr"
        ):  # a constant, usable where a converter expects one
            return Opaque(self.concrete[node])
        args, kwargs = self._arg(node.args), self._arg(node.kwargs)
        if node.op == "call_module":
            module = self.graph_module.get_submodule(node.target)
            convert = lookup(module_converters(), type(module))
            if convert is None:
                raise site.unsupported(
                    type(module).__name__,
                    "no Keras translation for this module",
                )
            return convert(site, module, *args, **kwargs)
        if node.op == "call_function":
            convert = functions.function_converters().get(node.target)
            what = f"function {_function_name(node.target)}"
        else:
            convert = functions.method_converters().get(node.target)
            what = f"method Tensor.{node.target}"
        if convert is None:
            raise site.unsupported(what, "no Keras translation for this call")
        return convert(site, *args, **kwargs)

    def _placeholder(self, node):
        import keras

        example = self.concrete[node]
        layout = input_layout(self.graph_module, node, example.ndim)
        shape = to_keras_array(np.zeros(example.shape, np.int8), layout).shape
        dtype = str(example.dtype).replace("torch.", "")
        tensor = keras.Input(shape=shape[1:], dtype=dtype, name=node.name)
        self.keras_inputs.append(tensor)
        self.input_layouts.append(layout)
        return KerasValue(tensor, layout)

    def _outputs(self, node) -> list:
        site = self._site(node)
        outputs = []
        for value in flatten_outputs(self._arg(node.args[0])):
            if not isinstance(value, KerasValue):
                raise site.unsupported(
                    "non-tensor output", f"forward() returns {value!r}"
                )
            # Flat outputs in PyTorch's order.
            flat = value.layout.features is not None
            output = as_layout(value, identity(2)) if flat else value
            outputs.append(output.tensor)
            self.output_layouts.append(output.layout)
        return outputs


def _function_name(function) -> str:
    """``torch.roll``, ``operator.floordiv``: where a traced function comes from."""
    name = getattr(function, "__name__", repr(function))
    module = getattr(function, "__module__", None) or "torch"
    return f"{module}.{name}"


@lru_cache(maxsize=1)
def _spatial_module_types() -> tuple:
    """Modules that read a rank-3 input as ``(N, C, L)``, not as a sequence."""
    from torch import nn

    return (
        nn.Conv1d,
        nn.ConvTranspose1d,
        nn.MaxPool1d,
        nn.AvgPool1d,
        nn.AdaptiveAvgPool1d,
        nn.AdaptiveMaxPool1d,
        nn.BatchNorm1d,
        nn.ConstantPad1d,
    )


def input_layout(graph_module, node, rank: int) -> Layout:
    """Images (rank 4 or more) are channels-last in Keras; a rank-3 input only if it
    feeds a convolution-like layer (otherwise it is a batch-first sequence)."""
    if rank >= 4:
        return channels_last(rank)
    if rank < 3:
        return identity(rank)
    spatial = _spatial_module_types()
    for user in node.users:
        if user.op == "call_module" and isinstance(
            graph_module.get_submodule(user.target), spatial
        ):
            return channels_last(rank)
    return identity(rank)


@lru_cache(maxsize=1)
def module_converters() -> dict:
    """PyTorch module classes -> converters (subclasses find their base's)."""
    from torch import nn

    table = {
        nn.Linear: layers.linear,
        nn.Conv1d: layers.conv,
        nn.Conv2d: layers.conv,
        nn.ConvTranspose1d: layers.conv_transpose,
        nn.ConvTranspose2d: layers.conv_transpose,
        nn.MaxPool1d: layers.pool,
        nn.MaxPool2d: layers.pool,
        nn.AvgPool1d: layers.pool,
        nn.AvgPool2d: layers.pool,
        nn.AdaptiveAvgPool1d: layers.adaptive_pool,
        nn.AdaptiveAvgPool2d: layers.adaptive_pool,
        nn.AdaptiveMaxPool1d: layers.adaptive_pool,
        nn.AdaptiveMaxPool2d: layers.adaptive_pool,
        nn.ConstantPad1d: layers.constant_pad,
        nn.ConstantPad2d: layers.constant_pad,
        nn.BatchNorm1d: layers.batch_norm,
        nn.BatchNorm2d: layers.batch_norm,
        nn.LayerNorm: layers.layer_norm,
        nn.Embedding: layers.embedding,
        nn.Dropout: layers.dropout,
        nn.Dropout1d: layers.dropout,
        nn.Dropout2d: layers.dropout,
        nn.Identity: layers.passthrough,
        nn.Flatten: functions.flatten_module,
        nn.Unflatten: functions.unflatten_module,
        nn.LSTM: sequences.recurrent,
        nn.GRU: sequences.recurrent,
        nn.MultiheadAttention: sequences.attention,
    }
    for name in sequences.ACTIVATIONS:
        table[getattr(nn, name)] = sequences.activation_module
    return table
