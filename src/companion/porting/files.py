"""Saved models in and out of the converter: ``.keras`` files and PyTorch ``.pt`` files.

A Keras model is read and written with ``keras.saving``; its file records
its input shape. A PyTorch model is a whole module saved with
``torch.save(module, path)``, which is a pickle: loading one runs code from
the file, so load only files you trust, and the module's class must be
importable (``nn.Sequential`` of standard layers always is; a converted
``torch.fx.GraphModule`` carries its own code). A PyTorch file does not
record its input shape, so converting one needs an example input.

>>> framework_of("model.keras"), framework_of("model.pt")
('keras', 'pytorch')
>>> framework_of("model.onnx")
Traceback (most recent call last):
    ...
ValueError: model.onnx: expected a .keras file (Keras) or a .pt/.pth file (PyTorch)
>>> random_example((3, 8, 8), batch=2).shape
(2, 3, 8, 8)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from companion.porting.tolerance import DEFAULT_RTOL
from companion.validation import check_choice, check_instance, check_int

SUFFIXES = {".keras": "keras", ".pt": "pytorch", ".pth": "pytorch"}
#: The demo models ``save_demo_model`` writes (the porting chapter's two), and
#: the shape of one of their inputs in each framework's layout.
DEMOS = {
    "residual-cnn": {"pytorch": (1, 8, 8), "keras": (8, 8, 1)},
    "gru-classifier": {"pytorch": (8, 8), "keras": (8, 8)},
}


def framework_of(path) -> str:
    """``"keras"`` or ``"pytorch"``, from the file's suffix."""
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(
            f"{path}: expected a .keras file (Keras) or a .pt/.pth file (PyTorch)"
        )
    return SUFFIXES[suffix]


def load_model(path):
    """The model saved in ``path`` (a Keras model, or a PyTorch module in eval mode).

    A file that cannot be read as a model raises ``ValueError`` naming it.
    """
    from companion.cli import error_line

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    framework = framework_of(path)
    try:
        if framework == "keras":
            import keras

            return keras.saving.load_model(path)
        import torch

        module = torch.load(path, weights_only=False)  # a whole-module pickle
    except Exception as error:  # each library raises its own kinds
        kind = ".keras" if framework == "keras" else "torch.save"
        raise ValueError(
            f"{path} is not a readable {kind} file ({error_line(error, limit=200)})"
        ) from error
    check_instance(
        str(path), module, torch.nn.Module, what="a saved torch.nn.Module"
    )
    return module.eval()


def save_model(model, path) -> Path:
    """Write ``model`` to ``path`` in the format its suffix names."""
    path = Path(path)
    if framework_of(path) == "keras":
        model.save(path)
    else:
        import torch

        torch.save(model, path)
    return path


def keras_input_shape(model) -> tuple[int, ...]:
    """The non-batch input shape a Keras model was built with."""
    shape = tuple(model.input_shape[1:])
    if any(size is None for size in shape):
        raise ValueError(
            f"the Keras model's input shape {model.input_shape} has unknown sizes: "
            "give an example input"
        )
    return shape


def random_example(shape, *, batch: int = 8, seed: int = 0) -> np.ndarray:
    """A float32 batch of standard normal numbers of non-batch ``shape``."""
    check_int("batch", batch, minimum=1)
    shape = tuple(check_int("each size of shape", s, minimum=1) for s in shape)
    rng = np.random.default_rng(seed)
    return rng.normal(size=(batch, *shape)).astype(np.float32)


def convert_model(model, example: np.ndarray, *, rtol: float = DEFAULT_RTOL):
    """Convert ``model`` to the other framework; the checked :class:`~companion.porting.Conversion`."""
    import keras

    from companion import porting

    if isinstance(model, keras.Model):
        return porting.keras_to_torch_conversion(model, example, rtol=rtol)
    return porting.torch_to_keras_conversion(model, example, rtol=rtol)


def parameter_count(model) -> int:
    """The number of weights of a Keras model or a PyTorch module."""
    import keras

    if isinstance(model, keras.Model):
        return int(model.count_params())
    return sum(p.numel() for p in model.parameters()) + sum(
        b.numel()
        for n, b in model.named_buffers()
        if not n.endswith("num_batches_tracked")
    )


def save_demo_model(name: str, path, *, epochs: int = 2, seed: int = 0):
    """Train one of the chapter's models briefly on the digits and save it to ``path``.

    The framework comes from ``path``'s suffix; returns the model.
    """
    from companion.digits import load_digits_split, to_channels_last
    from companion.porting import demo_models as demo

    check_choice("demo", name, DEMOS)
    framework = framework_of(path)
    split = load_digits_split(seed=seed)
    kind = name.replace("-", "_")
    images = split.x_train
    if kind == "gru_classifier":
        images = demo.as_sequences(images)
    elif framework == "keras":
        images = to_channels_last(images)
    build = getattr(
        demo, f"{'torch' if framework == 'pytorch' else 'keras'}_{kind}"
    )
    train = demo.train_torch if framework == "pytorch" else demo.train_keras
    model = train(build(seed), images, split.y_train, epochs=epochs, seed=seed)
    if framework == "pytorch":
        import torch

        # A traced module pickles its own code: it loads without this package.
        model = torch.fx.symbolic_trace(model).eval()
    save_model(model, path)
    return model
