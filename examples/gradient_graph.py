"""Differentiate z = x**2 + 1 in PyTorch and TensorFlow and draw the graph each records.

Prints dz/dx from PyTorch autograd, from an eager GradientTape and from a
GradientTape inside tf.function, then writes one picture per framework of the
graph behind the gradient (SVG, or PNG if --format png).

Examples:
    python examples/gradient_graph.py
    python examples/gradient_graph.py --x 3 --framework pytorch --out graphs/
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import matplotlib

from companion.cli import ensure_output_dir, fail
from companion.frameworks import FRAMEWORKS, label
from companion.graph_inspection import autograd_graph, describe_graph, draw_graph, tf_graph
from companion.quiet import quiet_tensorflow_logs


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Compute dz/dx for z = x**2 + 1 in both frameworks and draw their graphs.",
        epilog="The analytic answer is 2x; the script checks every framework against it.",
    )
    parser.add_argument("--x", type=float, default=2.0, help="where to differentiate (default 2.0)")
    parser.add_argument(
        "--framework",
        choices=[*FRAMEWORKS, "both"],
        default="both",
        help="which framework(s) to run (default both)",
    )
    parser.add_argument(
        "--out", type=Path, default=Path(), help="directory for the pictures (default: here)"
    )
    parser.add_argument("--format", choices=["svg", "png"], default="svg", help="picture format")
    args = parser.parse_args(argv)
    if not math.isfinite(args.x):
        parser.error(f"--x must be a finite number, got {args.x}")
    return args


def run_pytorch(x_value: float):
    import torch

    x = torch.tensor(x_value, requires_grad=True)
    z = x**2 + 1
    graph = autograd_graph(z, inputs={"x": x})  # read the graph before backward frees it
    z.backward()
    return {"autograd": x.grad.item()}, graph


def run_tensorflow(x_value: float):
    import tensorflow as tf

    def value_and_gradient(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            z = x**2 + 1
        return z, tape.gradient(z, x)

    x = tf.constant(x_value)
    _, eager = value_and_gradient(x)
    traced = tf.function(value_and_gradient)
    _, in_graph = traced(x)
    concrete = traced.get_concrete_function(tf.TensorSpec([], tf.float32))
    return {"GradientTape": float(eager), "tf.function": float(in_graph)}, tf_graph(concrete)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quiet_tensorflow_logs()
    matplotlib.use("Agg")
    ensure_output_dir(args.out)

    expected = 2 * args.x
    runners = {"pytorch": run_pytorch, "tensorflow": run_tensorflow}
    chosen = list(runners) if args.framework == "both" else [args.framework]
    all_agree = True
    for name in chosen:
        gradients, graph = runners[name](args.x)
        for method, value in gradients.items():
            agrees = math.isclose(value, expected, rel_tol=1e-6, abs_tol=1e-6)
            all_agree &= agrees
            print(
                f"{name:<11} {method:<13} dz/dx at x={args.x:g}: {value:g}"
                f"  ({'matches' if agrees else 'DIFFERS FROM'} 2x = {expected:g})"
            )
        print(describe_graph(graph), end="\n\n")
        path = args.out / f"graph-{name}.{args.format}"
        figure = draw_graph(graph, title=f"{label(name)}: graph behind dz/dx")
        try:
            figure.savefig(path)
        except OSError as error:
            return fail(f"cannot write {path}: {error.strerror}")
        print(f"wrote {path}")
    return 0 if all_agree else 1


if __name__ == "__main__":
    sys.exit(main())
