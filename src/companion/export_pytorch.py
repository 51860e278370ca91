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
executorch          ``torch.export`` lowered with ExecuTorch's      ExecuTorch runtime
                    XNNPACK partitioner to a ``.pte`` program       (phones, microcontrollers)
litert-torch        LiteRT Torch's ``litert_torch.convert`` to      LiteRT interpreter
                    ``.tflite`` (fixed batch)
==================  =============================================  ============================

Every route but LiteRT Torch keeps the batch dimension dynamic, so the
artifact accepts any number of images (LiteRT Torch cannot lower this model
with a dynamic batch; its file takes :data:`LITERT_TORCH_BATCH` images). The
ExecuTorch program plans its memory for the largest batch it allows, so its
bound is :data:`EXECUTORCH_MAX_BATCH`, not the 65,536 of the other routes. :func:`torch_logits` (from :mod:`companion.logits`) gives
the source model's logits to compare an artifact's outputs with. TorchScript is deprecated on the pinned torch and warns;
:func:`export_torch` lets the warning through to the caller (and
:func:`companion.deployment.attempt_export` records it).

>>> sorted(ROUTES)
['aoti', 'executorch', 'litert-torch', 'onnx', 'torch-export', 'torchscript-script', \
'torchscript-trace']
>>> ROUTES["onnx"].runner_format, ROUTES["onnx"].artifact
('onnx', 'pytorch.onnx')
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from companion.deployment.records import (
    ExportRecord,
    Route,
    export_into,
    load_routes,
)
from companion.frameworks import PYTORCH
from companion.logits import torch_logits
from companion.validation import (
    IMAGE_RANK,
    check_choice,
    check_instance,
    check_int,
)

#: With one image, torch.export would specialize the batch size to 1.
MIN_EXAMPLE_BATCH = 2
#: The largest batch most routes accept (torch.export's bound on the batch symbol).
MAX_BATCH = 65536
#: ExecuTorch plans every buffer for the largest allowed batch: a small bound keeps
#: the memory small (the test split has 359 images).
EXECUTORCH_MAX_BATCH = 1024
#: With an example of fewer images, ExecuTorch 1.5.1 plans memory for a few
#: images only, and the program refuses larger batches at run time
#: (``set_inputs() ... failed with error 0x10``), whatever the bound says;
#: the unit tests show it.
EXECUTORCH_MIN_EXAMPLE = 16
#: LiteRT Torch converts with the example's batch size fixed.
LITERT_TORCH_BATCH = 359

ROUTES: dict[str, Route] = load_routes(PYTORCH)


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


def _dynamic_batch(largest: int = MAX_BATCH):
    import torch

    return ({0: torch.export.Dim("batch", min=1, max=largest)},)


def exported_program(model, example_input, *, max_batch: int = MAX_BATCH):
    """``torch.export.export`` of ``model`` with a dynamic batch of 1 to ``max_batch`` images."""
    import torch

    return torch.export.export(
        model.eval(),
        (_example_tensor(example_input),),
        dynamic_shapes=_dynamic_batch(
            check_int("max_batch", max_batch, minimum=2)
        ),
    )


def executorch_program(
    model, example_input, *, max_batch: int = EXECUTORCH_MAX_BATCH
):
    """The ExecuTorch program for ``model``: exported, lowered to XNNPACK where it can be.

    ``to_edge_transform_and_lower`` hands the operators XNNPACK supports (all
    of this CNN's) to that backend's optimized CPU kernels; ``to_executorch``
    plans the memory, for a batch of ``max_batch`` images. Its ``buffer`` is
    the ``.pte`` file.
    """
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import (
        XnnpackPartitioner,
    )
    from executorch.exir import to_edge_transform_and_lower

    if len(example_input) < EXECUTORCH_MIN_EXAMPLE:
        raise ValueError(
            f"example_input needs at least {EXECUTORCH_MIN_EXAMPLE} images for ExecuTorch: "
            "with fewer, the program cannot take larger batches"
        )
    program = exported_program(model, example_input, max_batch=max_batch)
    lowered = to_edge_transform_and_lower(
        program, partitioner=[XnnpackPartitioner()]
    )
    return lowered.to_executorch()


def planned_memory_bytes(pte: Path) -> int:
    """Bytes of working memory an ExecuTorch ``.pte`` program plans for inputs and activations.

    Read with ExecuTorch's own deserializer of the file format.
    """
    from executorch.exir._serialize._program import deserialize_pte_binary

    program = deserialize_pte_binary(Path(pte).read_bytes()).program
    (plan,) = program.execution_plan
    return int(sum(plan.non_const_buffer_sizes))


def graph_operators(program) -> list[str]:
    """The operators an ``ExportedProgram``'s graph calls, sorted by name."""
    calls = {
        str(node.target)
        for node in program.graph.nodes
        if node.op == "call_function"
    }
    return sorted(calls)


def core_aten(program):
    """``program.run_decompositions()``: the same program in core ATen operators.

    torch 2.13 warns from inside the call (a ``FutureWarning`` about its own
    ``LeafSpec``, raised while it copies the program); nothing a caller can
    change, so it is silenced here.
    """
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "`isinstance\\(treespec, LeafSpec\\)`", FutureWarning
        )
        return program.run_decompositions()


def _write_litert_torch(model, example, path: Path) -> None:
    import litert_torch  # not installable beside the pins: see the deployment chapter

    fixed = (
        example[:1].expand(LITERT_TORCH_BATCH, *example.shape[1:]).contiguous()
    )
    litert_torch.convert(model, (fixed,)).export(str(path))


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
    elif route == "executorch":
        path.write_bytes(executorch_program(model, example).buffer)
    elif route == "litert-torch":
        _write_litert_torch(model, example, path)
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
'torch-export', 'aoti', 'onnx', 'executorch', 'litert-torch'), got 'tflite'
    """
    _check_model_and_route(model, route)
    example = _example_tensor(example_input)
    return export_into(
        ROUTES[route],
        lambda path: write_artifact(model, route, path, example),
        directory,
    )


__all__ = [
    "EXECUTORCH_MAX_BATCH",
    "EXECUTORCH_MIN_EXAMPLE",
    "LITERT_TORCH_BATCH",
    "MAX_BATCH",
    "ROUTES",
    "core_aten",
    "executorch_program",
    "export_torch",
    "exported_program",
    "graph_operators",
    "planned_memory_bytes",
    "torch_logits",
    "write_artifact",
]
