"""Every route out of PyTorch the book measures, one function call each.

==================  =============================================  ============================
route               how the artifact is written                    what loads it
==================  =============================================  ============================
torchscript-trace   ``torch.jit.trace`` then ``torch.jit.save``     ``torch.jit.load`` (C++ too)
torchscript-script  ``torch.jit.script`` then ``torch.jit.save``    ``torch.jit.load`` (C++ too)
torch-export        ``torch.export.export`` then ``.save`` (.pt2)   ``torch.export.load``
aoti                AOTInductor: ``aoti_compile_and_package``       ``aoti_load_package`` (C++ too)
onnx                ``torch.onnx.export`` (the torch.export-based   onnxruntime
                    exporter, the default since torch 2.9)
==================  =============================================  ============================

Every route keeps the batch dimension dynamic, so the artifact accepts any
number of images. TorchScript is deprecated on the pinned torch and warns;
:func:`export_torch` lets the warning through to the caller (and
:func:`companion.deployment.attempt_export` records it).

>>> sorted(ROUTES)
['aoti', 'onnx', 'torch-export', 'torchscript-script', 'torchscript-trace']
>>> ROUTES["onnx"].runner_format, ROUTES["onnx"].artifact
('onnx', 'pytorch.onnx')
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from companion.deployment import ExportRecord, Route, attempt_export
from companion.run_artifact import check_images

ROUTES: dict[str, Route] = {
    route.name: route
    for route in (
        Route(
            "torchscript-trace",
            "pytorch",
            "TorchScript (trace)",
            "torchscript",
            "traced.pt",
            "torch.jit",
        ),
        Route(
            "torchscript-script",
            "pytorch",
            "TorchScript (script)",
            "torchscript",
            "scripted.pt",
            "torch.jit",
        ),
        Route(
            "torch-export",
            "pytorch",
            "torch.export (.pt2)",
            "torch-export",
            "exported.pt2",
            "torch",
        ),
        Route(
            "aoti",
            "pytorch",
            "AOTInductor package",
            "aoti",
            "aoti.pt2",
            "torch (compiled .so)",
        ),
        Route(
            "onnx",
            "pytorch",
            "torch.onnx.export",
            "onnx",
            "pytorch.onnx",
            "onnxruntime",
        ),
    )
}


def _example_tensor(example_input):
    import torch

    if isinstance(example_input, np.ndarray):
        example_input = torch.from_numpy(
            np.ascontiguousarray(example_input, dtype=np.float32)
        )
    if not isinstance(example_input, torch.Tensor):
        kind = type(example_input).__name__
        raise TypeError(
            f"example_input must be a torch.Tensor or numpy array, got {kind}"
        )
    if example_input.ndim != 4:
        raise ValueError(
            f"example_input must be a batch (N, C, H, W), got shape {tuple(example_input.shape)}"
        )
    if example_input.dtype != torch.float32:
        raise TypeError(
            f"example_input must be float32, got {example_input.dtype}"
        )
    if len(example_input) < 2:
        # With one image, torch.export would specialize the batch size to 1.
        raise ValueError(
            "example_input needs at least 2 images so the batch stays dynamic"
        )
    # Standard strides, even on size-1 dimensions. An array made with np.newaxis
    # has stride 1 on its channel axis; torch calls both layouts contiguous, but
    # an AOTInductor package compiled from one gives wrong outputs for the other
    # (the chapter on deployment shows it). Runtimes receive standard strides.
    return example_input.clone(memory_format=torch.contiguous_format)


def _dynamic_batch():
    import torch

    return ({0: torch.export.Dim("batch", min=1, max=65536)},)


def exported_program(model, example_input):
    """``torch.export.export`` of ``model`` with a dynamic batch dimension."""
    import torch

    return torch.export.export(
        model.eval(),
        (_example_tensor(example_input),),
        dynamic_shapes=_dynamic_batch(),
    )


def write_artifact(model, route: str, path: Path, example_input) -> Path:
    """Export ``model`` (put in eval mode) along ``route`` to ``path``; return ``path``.

    Raises whatever the exporter raises: use :func:`export_torch` to record
    failures instead.
    """
    import torch

    if not isinstance(model, torch.nn.Module):
        raise TypeError(
            f"model must be a torch.nn.Module, got {type(model).__name__}"
        )
    if route not in ROUTES:
        raise ValueError(
            f"route must be one of {sorted(ROUTES)}, got {route!r}"
        )
    example = _example_tensor(example_input)
    model.eval()
    path = Path(path)
    if route == "torchscript-trace":
        torch.jit.save(torch.jit.trace(model, example), str(path))
    elif route == "torchscript-script":
        torch.jit.save(torch.jit.script(model), str(path))
    elif route == "torch-export":
        torch.export.save(exported_program(model, example), str(path))
    elif route == "aoti":
        from torch._inductor import aoti_compile_and_package

        aoti_compile_and_package(
            exported_program(model, example), package_path=str(path)
        )
    else:  # onnx
        torch.onnx.export(
            model,
            (example,),
            str(path),
            input_names=["images"],
            output_names=["logits"],
            dynamic_shapes=_dynamic_batch(),
            external_data=False,  # one self-contained file (the weights are tiny)
            verbose=False,
        )
    return path


def export_torch(
    model, route: str, directory: Path, example_input
) -> ExportRecord:
    """Export along ``route`` into ``directory``; a failure is recorded, not raised.

    >>> import tempfile, torch
    >>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     record = export_torch(model, "torch-export", Path(tmp), torch.zeros(2, 1, 2, 2))
    ...     record.worked, record.path.name
    (True, 'exported.pt2')
    >>> export_torch(model, "tflite", Path("."), torch.zeros(2, 1, 2, 2))
    Traceback (most recent call last):
    ...
    ValueError: route must be one of ['aoti', 'onnx', 'torch-export', 'torchscript-script', \
'torchscript-trace'], got 'tflite'
    """
    import torch

    if not isinstance(model, torch.nn.Module):
        raise TypeError(
            f"model must be a torch.nn.Module, got {type(model).__name__}"
        )
    if route not in ROUTES:
        raise ValueError(
            f"route must be one of {sorted(ROUTES)}, got {route!r}"
        )
    directory = Path(directory)
    if not directory.is_dir():
        raise ValueError(
            f"directory must be an existing directory, got {directory}"
        )
    example = _example_tensor(example_input)
    spec = ROUTES[route]
    return attempt_export(
        spec,
        lambda path: write_artifact(model, route, path, example),
        directory / spec.artifact,
    )


def torch_logits(model, images: np.ndarray) -> np.ndarray:
    """The source model's logits for channels-first ``images``, as float32 numpy."""
    import torch

    if not isinstance(model, torch.nn.Module):
        raise TypeError(
            f"model must be a torch.nn.Module, got {type(model).__name__}"
        )
    images = check_images(images)
    with torch.inference_mode():
        return model.eval()(torch.from_numpy(images)).numpy()
