"""Weights files: safetensors, with the layout and the architecture in the metadata."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from companion.weight_porting.arrays import (
    ARCHITECTURE,
    LAYOUTS,
    check_arrays,
    check_layout,
    convert_arrays,
    keras_to_torch_arrays,
    torch_to_keras_arrays,
)
from companion.weight_porting.models import (
    keras_model_arrays,
    load_keras_arrays,
    load_torch_arrays,
    torch_model_arrays,
)


def save_weights(arrays, path, layout: str) -> Path:
    """Write weights in ``layout`` to a safetensors file whose metadata names the layout."""
    from safetensors.numpy import save_file

    arrays = check_arrays(arrays, layout)
    path = Path(path)
    metadata = {"layout": layout, "architecture": ARCHITECTURE}
    save_file(
        {name: np.ascontiguousarray(a) for name, a in arrays.items()},
        path,
        metadata,
    )
    return path


def read_layout(path) -> str:
    """The layout recorded in a weights file written by :func:`save_weights`."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no weights file at {path}")
    try:
        with safe_open(str(path), framework="numpy") as handle:
            metadata = handle.metadata() or {}
    except (
        Exception
    ) as error:  # safetensors raises its own error types for bad headers
        raise ValueError(
            f"{path} is not a readable safetensors file ({error})"
        ) from error
    if (
        metadata.get("architecture") != ARCHITECTURE
        or metadata.get("layout") not in LAYOUTS
    ):
        raise ValueError(
            f"{path} was not written by companion.weight_porting "
            f"(metadata {metadata}); expected a layout of {LAYOUTS}"
        )
    return metadata["layout"]


def load_weights(
    path, layout: str | None = None
) -> tuple[dict[str, np.ndarray], str]:
    """Read a weights file; return ``(arrays, layout)``. With ``layout``, insist on it."""
    from safetensors.numpy import load_file

    found = read_layout(path)
    if layout is not None and check_layout(layout) != found:
        raise ValueError(
            f"{path} holds weights in the {found} layout, expected {layout}"
        )
    arrays = dict(load_file(str(path)))
    return check_arrays(arrays, found), found


def save_torch_weights(model, path) -> Path:
    """Write a PyTorch digits CNN's weights (``"pytorch"`` layout) to a safetensors file."""
    return save_weights(torch_model_arrays(model), path, "pytorch")


def save_keras_weights(model, path) -> Path:
    """Write a Keras digits CNN's weights (``"keras"`` layout) to a safetensors file."""
    return save_weights(keras_model_arrays(model), path, "keras")


def load_torch_weights(model, path) -> None:
    """Load a weights file into a PyTorch digits CNN, converting from Keras if needed."""
    arrays, layout = load_weights(path)
    load_torch_arrays(
        model, arrays if layout == "pytorch" else keras_to_torch_arrays(arrays)
    )


def load_keras_weights(model, path) -> None:
    """Load a weights file into a Keras digits CNN, converting from PyTorch if needed."""
    arrays, layout = load_weights(path)
    load_keras_arrays(
        model, arrays if layout == "keras" else torch_to_keras_arrays(arrays)
    )


def convert_weights_file(
    source, destination, *, reorder_flatten: bool = True
) -> str:
    """Convert a weights file to the other layout; return the layout written."""
    source, destination = Path(source), Path(destination)
    if source.resolve() == destination.resolve():
        raise ValueError(f"source and destination are the same file: {source}")
    arrays, layout = load_weights(source)
    target = "keras" if layout == "pytorch" else "pytorch"
    save_weights(
        convert_arrays(arrays, target, reorder_flatten=reorder_flatten),
        destination,
        target,
    )
    return target
