"""Train the digits CNN briefly, export it along one route, check the artifact in a new process.

The artifact is reloaded by ``python -m companion.run_artifact`` in a new
Python process that never imports the model's code; the script prints the
largest difference to the source model's logits on the test images, the
artifact's size, the load time and the per-call latency.

Routes:
    pytorch:    torchscript-trace, torchscript-script, torch-export, aoti, onnx
    tensorflow: saved-model, tflite, tflite-dynamic-range, onnx,
                tf2onnx-from-keras, tf2onnx-from-function

Examples:
    python examples/export_model.py --framework pytorch --format onnx --out exported/
    python examples/export_model.py --framework tensorflow --format tflite --out exported/ \\
        --epochs 2
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from companion import export_pytorch, export_tensorflow
from companion.cli import add_number_option, ensure_output_dir, fail
from companion.cnn import build_keras_cnn, build_torch_cnn
from companion.deployment import (
    evaluate_route,
    format_bytes,
    format_latency,
    format_seconds,
)
from companion.digits import load_digits_split, to_channels_last
from companion.logits import keras_logits, torch_logits
from companion.quiet import quiet_tensorflow_logs
from companion.reproducibility import seed_everything
from companion.training import TrainingConfig, train_keras, train_torch

#: The routes each framework supports (importing their modules loads no framework).
FORMATS = {
    "pytorch": tuple(export_pytorch.ROUTES),
    "tensorflow": tuple(export_tensorflow.ROUTES),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    every_format = sorted({name for names in FORMATS.values() for name in names})
    parser = argparse.ArgumentParser(
        description="Export the digits CNN along one route and verify it in a fresh process.",
        epilog="Routes: "
        + "; ".join(f"{framework}: {', '.join(names)}" for framework, names in FORMATS.items()),
    )
    parser.add_argument("--framework", required=True, choices=sorted(FORMATS))
    parser.add_argument("--format", required=True, choices=every_format, metavar="FORMAT",
                        help="the export route (see the list below)")  # fmt: skip
    parser.add_argument("--out", required=True, type=Path, help="directory for the artifact")
    parser.add_argument(
        "--epochs", type=int, default=3, help="training epochs before export (0: untrained)"
    )
    add_number_option(parser, "--repeats", "timing rounds", default=7)
    args = parser.parse_args(argv)
    if args.format not in FORMATS[args.framework]:
        parser.error(
            f"--format {args.format} is not a {args.framework} route; "
            f"choose one of: {', '.join(FORMATS[args.framework])}"
        )
    if args.epochs < 0:
        parser.error(f"--epochs must be 0 or more, got {args.epochs}")
    return args


def prepare_pytorch(split, epochs: int, route: str, out: Path):
    model = build_torch_cnn(seed=0)
    if epochs:
        train_torch(model, split, TrainingConfig(epochs=epochs))
    record = export_pytorch.export_torch(model, route, out, split.x_train[:32])
    return record, split.x_test, torch_logits(model, split.x_test)


def prepare_tensorflow(split, epochs: int, route: str, out: Path):
    model = build_keras_cnn(seed=0)
    if epochs:
        train_keras(model, split, TrainingConfig(epochs=epochs))
    record = export_tensorflow.export_keras(model, route, out)
    # The artifacts take channels-last images, as the Keras model does.
    return record, to_channels_last(split.x_test), keras_logits(model, split.x_test)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quiet_tensorflow_logs()
    ensure_output_dir(args.out)
    frameworks = (args.framework,)
    seed_everything(0, frameworks=frameworks)
    split = load_digits_split(seed=0)
    prepare = prepare_pytorch if args.framework == "pytorch" else prepare_tensorflow
    record, images, reference = prepare(split, args.epochs, args.format, args.out)
    if not record.worked:
        return fail(f"export along {args.format} failed: {record.error}")
    print(f"wrote {record.path} in {record.seconds:.2f} s")
    for message in record.warnings:
        print(f"  warning: {message}")
    result = evaluate_route(record, images, reference, split.y_test, repeats=args.repeats)
    if not result.ran:
        return fail(result.error)
    run = result.run
    print(f"reloaded in a fresh process with: {', '.join(run.frameworks_loaded)}")
    print(f"max abs diff to the source model: {result.max_abs_diff:.2e}")
    print(f"test accuracy: {result.accuracy:.1%} (source model {result.source_accuracy:.1%})")
    print(f"size on disk: {format_bytes(result.size_bytes)}")
    print(f"import + load: {format_seconds(run.import_s)} + {format_seconds(run.load_s)}")
    rounds = f"median of {run.latency_one.repeats} rounds"
    print(f"latency, 1 image: {format_latency(run.latency_one)}, {rounds}")
    print(f"latency, {run.batch_size} images: {format_latency(run.latency_batch)}, {rounds}")
    if not result.worked:
        return fail("the artifact does not reproduce the source model")
    print("ok: the artifact reproduces the source model")
    return 0


if __name__ == "__main__":
    sys.exit(main())
