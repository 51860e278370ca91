"""Convert the digits CNN's weights between PyTorch's and Keras's layout (safetensors files).

The source file's layout is read from its metadata (files written by
companion.weight_porting or examples/train_cnn.py record it); the destination
gets the other layout. Convolution kernels go OIHW <-> HWIO, dense kernels
are transposed, and the first dense layer's rows are reordered between
PyTorch's (C, H, W) and Keras's (H, W, C) flatten order.

With --check, both files are loaded into the two frameworks' models and their
logits on the digits test split are compared (the check fails above 1e-5).

Examples (the first line makes a weights file to convert):
    python examples/train_cnn.py --framework pytorch --epochs 2 --out runs/
    python examples/port_weights.py runs/weights-pytorch.safetensors runs/as-keras.safetensors
    python examples/port_weights.py runs/as-keras.safetensors back.safetensors --check
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from companion.cli import fail
from companion.cnn import build_keras_cnn, build_torch_cnn
from companion.digits import load_digits_split
from companion.logits import keras_logits, torch_logits
from companion.quiet import quiet_tensorflow_logs
from companion.weight_porting import (
    convert_weights_file,
    load_keras_arrays,
    load_torch_arrays,
    load_weights,
    read_layout,
)

TOLERANCE = 1e-5


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Convert digits-CNN weights between the PyTorch and Keras layouts.",
        epilog=f"--check fails (exit 1) if the logits differ by more than {TOLERANCE:g}.",
    )
    parser.add_argument("source", type=Path, help="weights file (safetensors) to convert")
    parser.add_argument("destination", type=Path, help="where to write the converted weights")
    parser.add_argument(
        "--check",
        action="store_true",
        help="compare both models' logits on the digits test split after converting",
    )
    parser.add_argument(
        "--no-reorder-flatten",
        dest="reorder_flatten",
        action="store_false",
        help="skip reordering the first dense layer's rows (reproduces the classic porting bug)",
    )
    parser.add_argument(
        "--force", action="store_true", help="overwrite the destination if it exists"
    )
    args = parser.parse_args(argv)
    if not args.source.is_file():
        parser.error(f"source file {args.source} does not exist")
    if args.destination.exists() and not args.force:
        parser.error(f"{args.destination} exists; pass --force to overwrite it")
    if args.destination.resolve() == args.source.resolve():
        parser.error("source and destination must be different files")
    return args


def check_logits(source: Path, destination: Path, source_layout: str) -> tuple[float, int]:
    """Max |logit difference| between the two files' models on the digits test split,
    and the number of images compared."""
    images = load_digits_split(seed=0).x_test
    torch_model, keras_model = build_torch_cnn(), build_keras_cnn()
    torch_file, keras_file = (
        (source, destination) if source_layout == "pytorch" else (destination, source)
    )
    load_torch_arrays(torch_model, load_weights(torch_file, "pytorch")[0])
    load_keras_arrays(keras_model, load_weights(keras_file, "keras")[0])
    difference = torch_logits(torch_model, images) - keras_logits(keras_model, images)
    return float(np.abs(difference).max()), len(images)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quiet_tensorflow_logs()
    try:
        source_layout = read_layout(args.source)
        written = convert_weights_file(
            args.source, args.destination, reorder_flatten=args.reorder_flatten
        )
    except (OSError, ValueError) as error:
        return fail(str(error))
    note = "" if args.reorder_flatten else " (flatten order NOT reordered)"
    print(f"{args.source} ({source_layout} layout) -> {args.destination} ({written} layout){note}")
    if not args.check:
        return 0
    gap, count = check_logits(args.source, args.destination, source_layout)
    verdict = "ok" if gap <= TOLERANCE else "MISMATCH"
    print(f"check: max |logit difference| on {count} test images = {gap:.2e} ({verdict})")
    return 0 if gap <= TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())
