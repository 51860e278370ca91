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
number of images. :func:`torch_logits` (from :mod:`companion.logits`) gives
the source model's logits to compare an artifact's outputs with. TorchScript is deprecated on the pinned torch and warns;
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

from companion.deployment.records import ExportRecord, Route, export_into
from companion.frameworks import PYTORCH
from companion.logits import torch_logits
from companion.validation import IMAGE_RANK, check_choice, check_instance

#: With one image, torch.export would specialize the batch size to 1.
MIN_EXAMPLE_BATCH = 2

ROUTES: dict[str, Route] = {
    route.name: route
    for route in (
        Route(
            name="torchscript-trace",
            framework=PYTORCH,
            exporter="TorchScript (trace)",
            runner_format="torchscript",
            artifact="traced.pt",
            runtime="torch.jit",
        ),
        Route(
            name="torchscript-script",
            framework=PYTORCH,
            exporter="TorchScript (script)",
            runner_format="torchscript",
            artifact="scripted.pt",
            runtime="torch.jit",
        ),
        Route(
            name="torch-export",
            framework=PYTORCH,
            exporter="torch.export (.pt2)",
            runner_format="torch-export",
            artifact="exported.pt2",
            runtime="torch",
        ),
        Route(
            name="aoti",
            framework=PYTORCH,
            exporter="AOTInductor package",
            runner_format="aoti",
            artifact="aoti.pt2",
            runtime="torch (compiled .so)",
        ),
        Route(
            name="onnx",
            framework=PYTORCH,
            exporter="torch.onnx.export",
            runner_format="onnx",
            artifact="pytorch.onnx",
            runtime="onnxruntime",
        ),
    )
}


def _example_tensor(example_input):
    import torch

    if isinstance(example_input, np.ndarray):
        example_input = torch.from_numpy(
            np.ascontiguousarray(example_input, dtype=np.float32)
        )
    check_instance(
        "example_input",
        example_input,
        torch.Tensor,
        what="a torch.Tensor or numpy array",
    )
    if example_input.ndim != IMAGE_RANK:
        raise ValueError(
            f"example_input must be a batch (N, C, H, W), got shape {tuple(example_input.shape)}"
        )
    if example_input.dtype != torch.float32:
        raise TypeError(
            f"example_input must be float32, got {example_input.dtype}"
        )
    if len(example_input) < MIN_EXAMPLE_BATCH:
        # With one image, torch.export would specialize the batch size to 1.
        raise ValueError(
            "example_input needs at least 2 images so the batch stays dynamic"
        )
    # Standard strides, even on size-1 dimensions. An array made with np.newaxis
    # has stride 1 on its channel axis; torch calls both layouts contiguous, but
    # an AOTInductor package compiled from one gives wrong outputs for the other
    # (the chapter on deployment shows it). Runtimes receive standard strides.
    return example_input.clone(memory_format=torch.contiguous_format)


def _check_model_and_route(model, route) -> None:
    import torch

    check_instance("model", model, torch.nn.Module, what="a torch.nn.Module")
    check_choice("route", route, ROUTES)


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

    _check_model_and_route(model, route)
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
    ValueError: route must be one of ('torchscript-trace', 'torchscript-script', \
'torch-export', 'aoti', 'onnx'), got 'tflite'
    """
    _check_model_and_route(model, route)
    example = _example_tensor(example_input)
    return export_into(
        ROUTES[route],
        lambda path: write_artifact(model, route, path, example),
        directory,
    )


__all__ = [
    "ROUTES",
    "export_torch",
    "exported_program",
    "torch_logits",
    "write_artifact",
]
