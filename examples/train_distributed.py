"""Train the digits CNN data-parallel with several processes on this machine, and check the result.

PyTorch runs DistributedDataParallel over gloo, started with torchrun;
TensorFlow runs MultiWorkerMirroredStrategy, one process per worker with
TF_CONFIG naming 127.0.0.1 ports. Every process starts from the same
initial weights and trains on its share of the same global batches. The
script also trains the same steps in one process on the whole global
batches, and ends with the largest difference between the two sets of
final weights, which data parallelism should keep at rounding level:

    max |Δw| = <float>

It exits with status 1 if that difference exceeds --tolerance, or if a
worker fails or outlives --timeout (every worker is killed at the deadline).

Examples:
    python examples/train_distributed.py --framework pytorch --processes 2 --steps 50
    python examples/train_distributed.py --framework tensorflow --processes 2 --steps 50
"""

from __future__ import annotations

import argparse
import math
import sys

from companion.cli import add_number_option, error_line
from companion.quiet import quiet_tensorflow_logs

FRAMEWORKS = ("pytorch", "tensorflow")
MIN_PROCESSES = 2  # data parallelism needs a second process to compare with one
MAX_PROCESSES = 8


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Data-parallel training of the digits CNN on this machine, "
        "compared with single-process training on the same global batches.",
    )
    parser.add_argument("--framework", choices=FRAMEWORKS, required=True)
    add_number_option(parser, "--processes", "worker processes", default=2)
    add_number_option(parser, "--steps", "SGD steps", default=50)
    add_number_option(parser, "--global-batch", "images per step over all processes", default=64)
    parser.add_argument("--learning-rate", type=float, default=0.1, help="plain SGD (default 0.1)")
    for flag, what, default in (
        ("--tolerance", "largest weight difference accepted", 1e-5),
        ("--timeout", "seconds before every worker is killed", 180.0),
    ):
        add_number_option(parser, flag, what, default=default, kind=float)
    args = parser.parse_args(argv)
    if not MIN_PROCESSES <= args.processes <= MAX_PROCESSES:
        parser.error(
            f"--processes must be between {MIN_PROCESSES} and {MAX_PROCESSES}, got {args.processes}"
        )
    if args.global_batch % args.processes:
        parser.error(
            f"--global-batch ({args.global_batch}) must be a multiple of "
            f"--processes ({args.processes})"
        )
    for name in ("learning_rate", "tolerance", "timeout"):
        value = getattr(args, name)
        if not (math.isfinite(value) and value > 0):
            parser.error(f"--{name.replace('_', '-')} must be a positive number, got {value}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quiet_tensorflow_logs()

    from companion.distributed.plan import TrainingPlan
    from companion.distributed.runs import run_data_parallel, weight_difference
    from companion.processes import ProcessError
    from companion.reproducibility import pin_threads

    needed = ("pytorch",) if args.framework == "pytorch" else ("pytorch", "tensorflow")
    pin_threads(1, frameworks=needed)
    plan = TrainingPlan(
        steps=args.steps,
        global_batch=args.global_batch,
        learning_rate=args.learning_rate,
    )
    print(
        f"{args.framework}: {args.steps} steps of {args.global_batch} images, "
        f"1 process, then {args.processes} processes",
        flush=True,
    )
    try:
        single = run_data_parallel(args.framework, plan, 1)
        print(f"1 process:   {single.step_time().format()} per step", flush=True)
        parallel = run_data_parallel(args.framework, plan, args.processes, timeout=args.timeout)
    except ProcessError as error:
        print(f"error: {error_line(error, limit=400)}", file=sys.stderr)
        return 1
    print(
        f"{args.processes} processes: {parallel.step_time().format()} per step "
        f"({parallel.wall_seconds:.1f} s with start-up)"
    )
    difference = weight_difference(single, parallel)
    print(f"max |Δw| = {difference:.3g}")
    if difference > args.tolerance:
        print(
            f"error: the weights differ by more than --tolerance {args.tolerance:g}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
