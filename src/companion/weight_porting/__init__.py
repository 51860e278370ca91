"""Move the digits CNN's weights between PyTorch and Keras, through safetensors files.

The two definitions in :mod:`companion.cnn` compute the same function, but
they store their weights in different layouts. Three things change on the
way from PyTorch to Keras (and back, in reverse):

* **Convolution kernels.** PyTorch keeps ``(out, in, height, width)``
  (OIHW); Keras keeps ``(height, width, in, out)`` (HWIO). A transpose.
* **Dense kernels.** ``torch.nn.Linear.weight`` is ``(out, in)`` and is
  applied as ``x @ W.T``; ``keras.layers.Dense.kernel`` is ``(in, out)`` and
  is applied as ``x @ W``. A transpose.
* **Flatten order.** PyTorch flattens the last feature map ``(C, H, W)``
  channel by channel; Keras flattens ``(H, W, C)`` pixel by pixel. The first
  dense layer after the flatten therefore sees the same numbers in another
  order, and its rows must be permuted. Skip this step and every shape still
  matches, but the logits are wrong.

Biases need no change. Weights are handled as plain dictionaries of NumPy
arrays under layout-independent names (``conv1``, ``conv2``, ``dense1``,
``dense2``), in either the ``"pytorch"`` or the ``"keras"`` layout, and are
written to safetensors files that record their layout in the metadata.

One concern per module: ``arrays`` (the layouts and the conversion),
``models`` (weights in and out of each framework's model, gradients),
``files`` (safetensors files). The logits of either model come from
:mod:`companion.logits` (channels-first images for both).

>>> perm = flatten_permutation(channels=2, height=1, width=2)
>>> perm.tolist()  # Keras position k holds PyTorch feature perm[k]
[0, 2, 1, 3]
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> arrays = {
...     "conv1.weight": rng.normal(size=(8, 1, 3, 3)), "conv1.bias": rng.normal(size=8),
...     "conv2.weight": rng.normal(size=(16, 8, 3, 3)), "conv2.bias": rng.normal(size=16),
...     "dense1.weight": rng.normal(size=(32, 64)), "dense1.bias": rng.normal(size=32),
...     "dense2.weight": rng.normal(size=(10, 32)), "dense2.bias": rng.normal(size=10),
... }
>>> arrays = {name: value.astype(np.float32) for name, value in arrays.items()}
>>> keras_arrays = torch_to_keras_arrays(arrays)
>>> keras_arrays["conv1.kernel"].shape, keras_arrays["dense1.kernel"].shape
((3, 3, 1, 8), (64, 32))
>>> back = keras_to_torch_arrays(keras_arrays)
>>> all(np.array_equal(back[name], arrays[name]) for name in arrays)
True
"""

from companion.weight_porting.arrays import (
    ARCHITECTURE,
    CONV_LAYERS,
    DENSE_LAYERS,
    KERNEL_NAME,
    LAYERS,
    LAYOUTS,
    check_arrays,
    check_layout,
    convert_arrays,
    flatten_permutation,
    keras_to_torch_arrays,
    max_abs_differences,
    parameter_names,
    torch_to_keras_arrays,
)
from companion.weight_porting.files import (
    convert_weights_file,
    load_keras_weights,
    load_torch_weights,
    load_weights,
    read_layout,
    save_keras_weights,
    save_torch_weights,
    save_weights,
)
from companion.weight_porting.models import (
    keras_gradients,
    keras_logits,
    keras_model_arrays,
    load_keras_arrays,
    load_torch_arrays,
    port_weights,
    torch_gradients,
    torch_logits,
    torch_model_arrays,
)

__all__ = [
    "ARCHITECTURE",
    "CONV_LAYERS",
    "DENSE_LAYERS",
    "KERNEL_NAME",
    "LAYERS",
    "LAYOUTS",
    "check_arrays",
    "check_layout",
    "convert_arrays",
    "convert_weights_file",
    "flatten_permutation",
    "keras_gradients",
    "keras_logits",
    "keras_model_arrays",
    "keras_to_torch_arrays",
    "load_keras_arrays",
    "load_keras_weights",
    "load_torch_arrays",
    "load_torch_weights",
    "load_weights",
    "max_abs_differences",
    "parameter_names",
    "port_weights",
    "read_layout",
    "save_keras_weights",
    "save_torch_weights",
    "save_weights",
    "torch_gradients",
    "torch_logits",
    "torch_model_arrays",
    "torch_to_keras_arrays",
]
