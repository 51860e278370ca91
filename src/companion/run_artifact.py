"""Load one exported model in this process, run a batch through it and time it.

This is the other half of every export route in the book: the process that
runs it has never seen the Python code that defined the model. It imports
only the runtime the artifact's format needs (torch, TensorFlow, onnxruntime,
the LiteRT interpreter, ExecuTorch's runtime or OpenVINO), loads the file, runs the images from a ``.npy``
file and prints one line of JSON: how long the runtime import and the load
took, the first call, how far the first image run alone lands from its row
in the batch, per-call latency on one image and on the whole batch (median
and spread, see :mod:`companion.timing`), which frameworks ended up
imported, and any warnings the runtime raised. With ``--output`` it also
saves the outputs, so the caller can compare them with the source model.

Run it as a script in a fresh process::

    python -m companion.run_artifact onnx model.onnx images.npy --output out.npy

:func:`companion.deployment.run_in_fresh_process` does exactly that.

>>> sorted(FORMATS)
['aoti', 'executorch', 'onnx', 'openvino', 'saved-model', 'tflite', 'torch-export', 'torchscript']
>>> check_images(np.zeros((2, 1, 8, 8), dtype=np.float32)).shape
(2, 1, 8, 8)
>>> check_images(np.zeros((2, 8, 8)))
Traceback (most recent call last):
...
ValueError: images must have 4 dimensions (batch first), got shape (2, 8, 8)
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from companion.cli import add_number_option, fail
from companion.timing import TimingResult, time_callable
from companion.validation import check_choice, check_images, check_int

#: What each format needs to be loaded, as it is reported.
FORMATS = {
    "torchscript": "torch.jit.load",
    "torch-export": "torch.export.load",
    "aoti": "torch._inductor.aoti_load_package",
    "onnx": "onnxruntime.InferenceSession",
    "saved-model": "tf.saved_model.load",
    "tflite": "ai_edge_litert.interpreter.Interpreter",
    "executorch": "executorch.runtime.Runtime",
    "openvino": "openvino.Core.compile_model",
}

#: Modules whose presence in ``sys.modules`` the report lists. ``companion.cnn``
#: holds the model definitions: it must never be imported here.
WATCHED_MODULES = (
    "torch",
    "tensorflow",
    "keras",
    "onnxruntime",
    "ai_edge_litert",
    "executorch",
    "openvino",
    "companion.cnn",
)

Predict = Callable[[np.ndarray], np.ndarray]


def _torch_predict(module) -> Predict:
    """A loaded PyTorch program as a function of NumPy images, run without autograd."""
    import torch

    def predict(images):
        with torch.inference_mode():
            return module(torch.from_numpy(images)).numpy()

    return predict


def _load_torchscript(path: Path, threads: int) -> Predict:
    import torch

    torch.set_num_threads(threads)
    return _torch_predict(torch.jit.load(str(path)).eval())


def _load_torch_export(path: Path, threads: int) -> Predict:
    import torch

    torch.set_num_threads(threads)
    return _torch_predict(torch.export.load(str(path)).module())


def _load_aoti(path: Path, threads: int) -> Predict:
    import torch
    from torch._inductor import aoti_load_package

    torch.set_num_threads(threads)
    return _torch_predict(aoti_load_package(str(path)))


def _load_onnx(path: Path, threads: int) -> Predict:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(
        str(path),
        options,
        providers=["CPUExecutionProvider"],
    )
    input_name = session.get_inputs()[0].name

    def predict(images):
        return session.run(None, {input_name: images})[0]

    return predict


def _load_saved_model(path: Path, threads: int) -> Predict:
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    loaded = tf.saved_model.load(str(path))
    signature = loaded.signatures["serving_default"]
    (input_name,) = signature.structured_input_signature[1]
    (output_name,) = signature.structured_outputs

    def predict(images):
        return signature(**{input_name: tf.constant(images)})[
            output_name
        ].numpy()

    return predict


def _load_tflite(path: Path, threads: int) -> Predict:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path), num_threads=threads)
    runner = interpreter.get_signature_runner()
    (signature,) = interpreter.get_signature_list().values()
    (input_name,) = signature["inputs"]
    (output_name,) = signature["outputs"]

    def predict(images):
        # The runner resizes its input tensor when the batch size changes.
        return runner(**{input_name: images})[output_name].copy()

    return predict


def _load_executorch(path: Path, threads: int) -> Predict:
    import torch
    from executorch.extension.pybindings import portable_lib
    from executorch.runtime import Runtime

    torch.set_num_threads(threads)
    portable_lib._unsafe_reset_threadpool(threads)  # XNNPACK's own thread pool
    method = Runtime.get().load_program(str(path)).load_method("forward")

    def predict(images):
        return method.execute([torch.from_numpy(images)])[0].numpy()

    return predict


def _load_openvino(path: Path, threads: int) -> Predict:
    import openvino

    # The CPU plugin computes in bfloat16 where the processor supports it,
    # unless told otherwise; the matrix compares float32 with float32.
    settings = {
        "INFERENCE_PRECISION_HINT": "f32",
        "INFERENCE_NUM_THREADS": threads,
    }
    model = path / "model.xml" if path.is_dir() else path
    compiled = openvino.Core().compile_model(str(model), "CPU", settings)
    request = compiled.create_infer_request()
    output = compiled.outputs[0]

    def predict(images):
        return request.infer([images])[output].copy()

    return predict


LOADERS: dict[str, Callable[[Path, int], Predict]] = {
    "torchscript": _load_torchscript,
    "torch-export": _load_torch_export,
    "aoti": _load_aoti,
    "onnx": _load_onnx,
    "saved-model": _load_saved_model,
    "tflite": _load_tflite,
    "executorch": _load_executorch,
    "openvino": _load_openvino,
}

_RUNTIME_IMPORTS = {
    "torchscript": ("torch",),
    "torch-export": ("torch",),
    "aoti": ("torch", "torch._inductor"),
    "onnx": ("onnxruntime",),
    "saved-model": ("tensorflow",),
    "tflite": ("ai_edge_litert.interpreter",),
    "executorch": ("torch", "executorch.runtime"),
    "openvino": ("openvino",),
}


def _timed_first_call(format_name: str, path: Path, images, threads: int):
    """Import the runtime, load the artifact, run the batch once: each step timed."""
    start = time.perf_counter()
    for module in _RUNTIME_IMPORTS[format_name]:
        importlib.import_module(module)
    imported = time.perf_counter()
    predict = LOADERS[format_name](path, threads)
    loaded = time.perf_counter()
    outputs = predict(images)
    seconds = {
        "import_s": imported - start,
        "load_s": loaded - imported,
        "first_call_s": time.perf_counter() - loaded,
    }
    return predict, outputs, seconds


#: How :func:`run` times one image and the batch: warm-up calls, then rounds of
#: about 20 ms and 50 ms (at most ``most`` calls a round), enough calls per
#: round to beat timer noise.
ONE_IMAGE_ROUNDS = {"warmup": 3, "round_s": 0.02, "most": 200}
BATCH_ROUNDS = {"warmup": 2, "round_s": 0.05, "most": 50}


def _latency(call, *, warmup: int, repeats: int, round_s: float, most: int):
    """Per-call latency, with enough calls per round (at most ``most``) to last ``round_s``."""
    per_call = time_callable(call, warmup=warmup, repeats=1).median_s
    number = max(1, min(most, int(round_s / max(per_call, 1e-6))))
    return time_callable(call, warmup=warmup, repeats=repeats, number=number)


def _without_samples(timing: TimingResult) -> dict:
    return {k: v for k, v in timing.as_dict().items() if k != "samples_s"}


def run(
    format_name: str,
    path: Path,
    images: np.ndarray,
    *,
    repeats: int = 15,
    threads: int = 1,
) -> tuple[dict, np.ndarray]:
    """Load ``path`` as ``format_name``, run ``images`` and time it; return (report, outputs).

    The report is what the command line prints as JSON.
    """
    check_choice("format", format_name, LOADERS)
    images = check_images(images)
    check_int("repeats", repeats, minimum=1)
    check_int("threads", threads, minimum=1)
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no artifact at {path}")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        predict, outputs, seconds = _timed_first_call(
            format_name, path, images, threads
        )
    single = images[:1]
    # The same image alone must give the same logits: catches artifacts whose
    # compiled code is only right for some batch sizes.
    one_image_diff = float(np.max(np.abs(predict(single) - outputs[:1])))
    latency_one = _latency(
        lambda: predict(single), repeats=repeats, **ONE_IMAGE_ROUNDS
    )
    latency_batch = _latency(
        lambda: predict(images), repeats=repeats, **BATCH_ROUNDS
    )
    report = {
        "format": format_name,
        "loader": FORMATS[format_name],
        "batch_size": len(images),
        "threads": threads,
        **seconds,
        "one_image_max_abs_diff": one_image_diff,
        "latency_one": _without_samples(latency_one),
        "latency_batch": _without_samples(latency_batch),
        "output_shape": list(outputs.shape),
        "modules": {name: name in sys.modules for name in WATCHED_MODULES},
        "warnings": list(
            dict.fromkeys(
                f"{w.category.__name__}: {w.message}" for w in caught
            )
        ),
    }
    return report, outputs


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m companion.run_artifact",
        description="Load an exported model without its Python code, run a batch, print JSON.",
    )
    parser.add_argument(
        "format", choices=sorted(LOADERS), help="the artifact's format"
    )
    parser.add_argument(
        "path", type=Path, help="the artifact (file or SavedModel directory)"
    )
    parser.add_argument(
        "images", type=Path, help="a .npy file holding a 4-D float32 batch"
    )
    parser.add_argument(
        "--output", type=Path, help="save the outputs here (.npy)"
    )
    add_number_option(parser, "--repeats", "timing rounds", default=15)
    add_number_option(parser, "--threads", "intra-op threads", default=1)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        images = np.load(args.images, allow_pickle=False)
    except (OSError, ValueError) as error:
        return fail(
            f"cannot read images from {args.images}: {error}", status=2
        )
    # Anything a runtime prints on stdout would spoil the JSON line: send it to stderr.
    with contextlib.redirect_stdout(sys.stderr):
        try:
            report, outputs = run(
                args.format,
                args.path,
                images,
                repeats=args.repeats,
                threads=args.threads,
            )
        except (ValueError, TypeError, FileNotFoundError) as error:
            return fail(str(error), status=2)
    if args.output is not None:
        np.save(args.output, outputs)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
