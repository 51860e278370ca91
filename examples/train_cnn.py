"""Train the book's digits CNN in PyTorch or in Keras; save its weights and metrics.

The model, data split and training settings are those of the exercise
chapter: the 8x8 digits that ship with scikit-learn, the CNN from
companion.cnn, Adam, the same batch order in both frameworks. By default the
Keras model starts from the PyTorch model's initial weights (ported with
companion.weight_porting), so a PyTorch run and a TensorFlow run with the
same --seed start from the same point.

Writes, into --out:
    weights-<framework>.safetensors   the trained weights (layout in the metadata)
    metrics-<framework>.json          per-epoch history, test accuracy, settings, versions

Examples:
    python examples/train_cnn.py --framework pytorch --epochs 12 --seed 0 --out runs/
    python examples/train_cnn.py --framework tensorflow --epochs 12 --seed 0 --out runs/
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import asdict
from pathlib import Path

from companion.cli import add_number_option, ensure_output_dir
from companion.cnn import build_keras_cnn, build_torch_cnn, parameter_count
from companion.digits import load_digits_split
from companion.environment import machine_summary, package_versions
from companion.frameworks import FRAMEWORKS, KERAS, PYTORCH
from companion.quiet import quiet_tensorflow_logs
from companion.reproducibility import pin_threads, seed_everything
from companion.training import (
    TrainingConfig,
    evaluate_keras,
    evaluate_torch,
    print_progress,
    train_keras,
    train_torch,
)
from companion.weight_porting import (
    port_weights,
    save_keras_weights,
    save_torch_weights,
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Train the digits CNN in PyTorch (explicit loop) or Keras (fit).",
        epilog="Defaults reproduce the exercise chapter's settings.",
    )
    parser.add_argument("--framework", choices=FRAMEWORKS, required=True)
    add_number_option(parser, "--epochs", "training epochs", default=12)
    add_number_option(parser, "--seed", "initial weights and batch order", default=0, kind=int)
    parser.add_argument("--out", type=Path, required=True, help="directory for the results")
    add_number_option(parser, "--batch-size", "images per step", default=32)
    parser.add_argument("--learning-rate", type=float, default=3e-3, help="Adam, default 3e-3")
    parser.add_argument(
        "--init",
        choices=(PYTORCH, KERAS),
        default="pytorch",
        help="where the initial weights come from: PyTorch's initializers, ported to Keras "
        "for --framework tensorflow (default), or Keras's own (TensorFlow only)",
    )
    add_number_option(parser, "--threads", "intra-op threads", default=1)
    args = parser.parse_args(argv)
    if not 0 <= args.seed < 2**32:
        parser.error(f"--seed must be in [0, 2**32), got {args.seed}")
    if not (math.isfinite(args.learning_rate) and args.learning_rate > 0):
        parser.error(f"--learning-rate must be a positive number, got {args.learning_rate}")
    if args.init == KERAS and args.framework == PYTORCH:
        parser.error("--init keras only applies to --framework tensorflow")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ensure_output_dir(args.out)
    quiet_tensorflow_logs()
    # Keras starts from PyTorch's initial weights, so both frameworks run for it.
    needed = (PYTORCH,) if args.framework == PYTORCH else FRAMEWORKS
    threads = pin_threads(args.threads, frameworks=needed)
    seed_everything(args.seed, frameworks=needed)
    config = TrainingConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        seed=args.seed,
    )
    split = load_digits_split(seed=0)  # the book's split, whatever the seed
    print(
        f"training the digits CNN with {args.framework} for {args.epochs} epoch(s), "
        f"seed {args.seed}, {split.sizes()}",
        flush=True,
    )
    start = time.perf_counter()
    if args.framework == PYTORCH:
        model = build_torch_cnn(seed=args.seed)
        history = train_torch(model, split, config, progress=print_progress)
        test_loss, test_accuracy = evaluate_torch(model, split.x_test, split.y_test)
        weights_path = save_torch_weights(model, args.out / "weights-pytorch.safetensors")
    else:
        model = build_keras_cnn(seed=args.seed)
        if args.init == PYTORCH:
            port_weights(build_torch_cnn(seed=args.seed), model)
        history = train_keras(model, split, config, progress=print_progress)
        test_loss, test_accuracy = evaluate_keras(model, split.x_test, split.y_test)
        weights_path = save_keras_weights(model, args.out / "weights-tensorflow.safetensors")
    total = time.perf_counter() - start

    metrics = {
        "framework": args.framework,
        "init": args.init,
        "config": asdict(config),
        "threads": threads,
        "history": history.as_dict(),
        "test_loss": test_loss,
        "test_accuracy": test_accuracy,
        "parameters": parameter_count(),
        "total_seconds": total,
        "weights": weights_path.name,
        "versions": package_versions(["torch", "tensorflow", "keras", "numpy"]),
        "machine": machine_summary(),
    }
    metrics_path = args.out / f"metrics-{args.framework}.json"
    metrics_path.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    print(f"test loss {test_loss:.4f}, test accuracy {test_accuracy:.4f} ({total:.1f} s)")
    print(f"wrote {weights_path} and {metrics_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
