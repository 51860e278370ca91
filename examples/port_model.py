"""Convert a saved model between PyTorch and Keras, check it, and write the result.

The direction follows the source file: a Keras model (.keras) becomes a
PyTorch module saved with torch.save (.pt), a PyTorch module saved with
torch.save (.pt or .pth) becomes a Keras model (.keras). The conversion is
companion.porting's, layer by layer; before anything is written, both
models run on the same example batch and must agree to --rtol of the
output's scale (float32 round-off is about 1e-7; see the porting chapter).

The example batch is --example (a .npy file, in the source framework's
layout), or random numbers of --input-shape (the shape of one sample, in
the source framework's layout; a Keras model knows its own). A .pt file is
a pickle: it runs code when loaded, so convert only files you trust.

--make-demo NAME first trains one of the porting chapter's two models for
two epochs on the 8x8 digits and saves it as the source.

Examples:
    python examples/port_model.py demo.pt demo.keras --make-demo residual-cnn
    python examples/port_model.py demo.keras back.pt --batch 4
    python examples/port_model.py gru.keras gru.pt --make-demo gru-classifier

A PyTorch file of your own needs the shape of one input, e.g. for 28 x 28
greyscale images: python examples/port_model.py model.pt model.keras
--input-shape 1,28,28
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from companion.quiet import quiet_tensorflow_logs

LABELS = {"pytorch": "PyTorch", "keras": "Keras"}


def shape_argument(text: str) -> tuple[int, ...]:
    """``"1,8,8"`` -> ``(1, 8, 8)``."""
    try:
        shape = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected sizes separated by commas, e.g. 1,8,8, got {text!r}"
        ) from None
    if not shape or min(shape) < 1:
        raise argparse.ArgumentTypeError(f"every size must be at least 1, got {text!r}")
    return shape


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    from companion.cli import add_number_option, positive_float
    from companion.porting.files import DEMOS, framework_of
    from companion.porting.tolerance import DEFAULT_RTOL

    parser = argparse.ArgumentParser(
        description="Convert a saved model between PyTorch (.pt) and Keras (.keras), checked.",
        epilog="Exit status 1 if the model cannot be converted or the outputs disagree.",
    )
    parser.add_argument("source", type=Path, help="the saved model (.keras, .pt or .pth)")
    parser.add_argument("destination", type=Path, help="where to write the converted model")
    examples = parser.add_mutually_exclusive_group()
    examples.add_argument(
        "--input-shape",
        type=shape_argument,
        help="shape of one input sample in the source's layout, e.g. 1,8,8",
    )
    examples.add_argument("--example", type=Path, help="an example batch (.npy) to check with")
    add_number_option(parser, "--batch", "random samples to check", default=8)
    add_number_option(
        parser,
        "--rtol",
        "largest relative difference accepted",
        default=DEFAULT_RTOL,
        kind=positive_float,
    )
    parser.add_argument(
        "--make-demo",
        choices=list(DEMOS),
        help="first train and save this demo model as the source",
    )
    parser.add_argument("--force", action="store_true", help="overwrite the destination")
    args = parser.parse_args(argv)
    frameworks = []
    for name in ("source", "destination"):
        try:
            frameworks.append(framework_of(getattr(args, name)))
        except ValueError as error:
            parser.error(str(error))
    if frameworks[0] == frameworks[1]:
        parser.error("source and destination must be one .keras and one .pt/.pth file")
    if args.make_demo is None and not args.source.is_file():
        parser.error(f"source file {args.source} does not exist")
    if args.example is not None and not args.example.is_file():
        parser.error(f"example file {args.example} does not exist")
    if args.destination.exists() and not args.force:
        parser.error(f"{args.destination} exists; pass --force to overwrite it")
    given = args.input_shape is not None or args.example is not None
    if frameworks[0] == "pytorch" and args.make_demo is None and not given:
        parser.error(
            "a PyTorch file does not record its input shape: give --input-shape or --example"
        )
    return args


def example_batch(args, model, framework: str):
    """The batch both models run on: the --example file, or random numbers."""
    import numpy as np

    from companion.porting.files import DEMOS, keras_input_shape, random_example

    if args.example is not None:
        return np.load(args.example, allow_pickle=False)
    shape = args.input_shape
    if shape is None and args.make_demo:
        shape = DEMOS[args.make_demo][framework]
    elif shape is None:
        shape = keras_input_shape(model)
    return random_example(shape, batch=args.batch)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quiet_tensorflow_logs()
    from companion.cli import error_line, fail
    from companion.porting import OutputMismatchError, UnsupportedLayerError
    from companion.porting.files import (
        convert_model,
        framework_of,
        load_model,
        parameter_count,
        save_demo_model,
        save_model,
    )

    source = framework_of(args.source)
    target = "keras" if source == "pytorch" else "pytorch"
    try:
        if args.make_demo:
            save_demo_model(args.make_demo, args.source)
            print(f"made {args.source}: the {args.make_demo} demo, trained 2 epochs on the digits")
        model = load_model(args.source)
        example = example_batch(args, model, source)
        conversion = convert_model(model, example, rtol=args.rtol)
        save_model(conversion.model, args.destination)
    except (UnsupportedLayerError, OutputMismatchError, OSError, ValueError, TypeError) as error:
        return fail(error_line(error))
    print(
        f"{args.source} ({LABELS[source]}, {parameter_count(model):,} weights) -> "
        f"{args.destination} ({LABELS[target]}, {parameter_count(conversion.model):,} weights)"
    )
    print(
        f"check on {len(example)} inputs of shape {tuple(example.shape[1:])}: largest "
        f"relative difference {conversion.relative_difference:.1e} <= {args.rtol:g} (ok)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
