"""Time a training step and an inference batch in every execution mode of PyTorch and TensorFlow.

Runs the performance chapter's benchmark on your machine: the digits CNN and
a small transformer encoder, one training step (forward, loss, backward, Adam)
and one inference batch each, in PyTorch eager, torch.compile, TorchScript,
TensorFlow eager, tf.function (with and without XLA) and Keras. Prints a
table, writes every measurement to benchmark.json and draws the speed-ups
over PyTorch eager into benchmark.svg (or .png).

A GPU is used when one is visible (--device auto) and never required.

``--quick`` runs a first try in seconds: two rounds of one call each, the
CNN only, and no mode that compiles (torch.compile, TorchScript, XLA).

Examples:
    python examples/benchmark.py --quick
    python examples/benchmark.py
    python examples/benchmark.py --models cnn --modes torch-eager tf-function --repeats 5
    python examples/benchmark.py --models transformer --tasks predict --threads 2 \\
        --modes torch-eager torch-compile tf-function-xla --out results/
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

from companion import benchmark
from companion.benchmark.modes import (
    BASELINE,
    DEVICES,
    MODELS,
    MODES,
    NON_COMPILING_MODES,
    TASKS,
)
from companion.cli import add_number_option, ensure_output_dir, fail
from companion.quiet import quiet_tensorflow_logs

#: The mode left out unless asked for: it needs CUDA.
CUDA_ONLY = "torch-compile-reduce-overhead"


class Parser(argparse.ArgumentParser):
    """Report a bad argument in one line (argparse would print the whole usage first)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    # companion.benchmark loads neither torch nor TensorFlow until a
    # measurement starts, so --help and argument errors answer at once.
    modes = tuple(MODES)
    parser = Parser(
        description="Benchmark PyTorch and TensorFlow execution modes on two small models.",
        epilog="Speed-ups are relative to torch-eager, which is always measured.",
    )
    for what, names in (("models", MODELS), ("tasks", TASKS)):
        parser.add_argument(
            f"--{what}",
            nargs="+",
            choices=names,
            default=list(names),
            metavar=what[:-1].upper(),
            help=f"{what} to time, from {', '.join(names)} (default: both)",
        )
    parser.add_argument(
        "--modes",
        nargs="+",
        choices=modes,
        default=[m for m in modes if m != CUDA_ONLY],
        metavar="MODE",
        help=(
            f"execution modes to time, from {', '.join(modes)} "
            f"(default: all but {CUDA_ONLY}, which needs CUDA)"
        ),
    )
    add_number_option(parser, "--repeats", "timed rounds per mode", default=21)
    add_number_option(
        parser,
        "--number",
        "calls per round",
        default=None,
        shown_default="enough for about 30 ms per round",
    )
    add_number_option(
        parser, "--warmup", "warm-up calls after the first one, before the timed rounds", default=2
    )
    add_number_option(
        parser,
        "--threads",
        "intra-op threads per framework",
        default=None,
        shown_default="the frameworks' own choice",
    )
    parser.add_argument(
        "--device",
        choices=DEVICES,
        default="auto",
        help="auto: a GPU where the framework sees one, else the CPU (default: auto)",
    )
    parser.add_argument(
        "--warm-compile-cache",
        action="store_true",
        help="let torch.compile reuse its on-disk cache (default: start each compile cold)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=(
            "tiny settings for a first try: 2 rounds of 1 call, 1 warm-up, the CNN only, "
            "and no torch.compile, TorchScript or XLA mode (overrides those options)"
        ),
    )
    parser.add_argument("--out", type=Path, default=Path(), help="output directory")
    parser.add_argument("--format", choices=["svg", "png"], default="svg", help="plot format")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.number, args.warmup, args.models = 2, 1, 1, ["cnn"]
        args.modes = [m for m in args.modes if m in NON_COMPILING_MODES]
    if BASELINE not in args.modes:
        args.modes.insert(0, BASELINE)  # the baseline every ratio is taken against
    args.modes = list(dict.fromkeys(args.modes))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ensure_output_dir(args.out)
    quiet_tensorflow_logs()
    if args.threads is not None:
        try:
            benchmark.pin_benchmark_threads(args.threads)
        except RuntimeError as error:
            return fail(str(error))
    try:
        benchmark.resolve_devices(args.device)
    except ValueError as error:
        return fail(str(error))

    report = benchmark.run_benchmark(
        args.models,
        args.tasks,
        args.modes,
        repeats=args.repeats,
        number=args.number,
        warmup=args.warmup,
        device=args.device,
        cold_compile_cache=not args.warm_compile_cache,
        progress=benchmark.print_progress,
    )
    print()
    print(benchmark.format_table(report))
    matplotlib.use("Agg")
    json_path = args.out / "benchmark.json"
    plot_path = args.out / f"benchmark.{args.format}"
    try:
        report.write_json(json_path)
        benchmark.plot_speedups(report).savefig(plot_path)
    except OSError as error:
        return fail(f"cannot write results to {args.out}: {error.strerror}")
    print(f"\nwrote {json_path} and {plot_path}")
    failed = [r for r in report.results if not r.ok]
    return 1 if failed and len(failed) == len(report.results) else 0


if __name__ == "__main__":
    sys.exit(main())
