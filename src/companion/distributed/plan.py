"""What every data-parallel run shares: the steps, the global batches, the data and the start.

A :class:`TrainingPlan` fixes the number of steps, the global batch size,
the learning rate of plain SGD and the seed of the batch order. Every
process of a run, and the single-process reference, reads the same
:func:`global_batches`; process ``rank`` of ``world`` trains on its
contiguous :func:`shard` of each. With the mean loss over each shard and
gradients averaged across processes (what DDP and
``MultiWorkerMirroredStrategy`` do), the update is the one a single process
computes from the whole global batch: the weights may differ only by
floating-point rounding.

>>> plan = TrainingPlan(steps=3, global_batch=8)
>>> [len(b) for b in plan.global_batches(20)]
[8, 8, 8]
>>> shard(np.arange(8), rank=1, world=2).tolist()
[4, 5, 6, 7]
>>> shard(np.arange(8), rank=0, world=3)
Traceback (most recent call last):
    ...
ValueError: a global batch of 8 does not split evenly over 3 processes
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from companion.training import epoch_order
from companion.validation import check_int, check_number

#: The files a run directory holds for its workers.
DATA_FILE = "data.npz"


@dataclass(frozen=True)
class TrainingPlan:
    """Steps, global batch size, SGD learning rate and batch-order seed of one run."""

    steps: int = 60
    global_batch: int = 64
    learning_rate: float = 0.1
    seed: int = 0

    def __post_init__(self):
        check_int("steps", self.steps, minimum=1)
        check_int("global_batch", self.global_batch, minimum=1)
        check_number("learning_rate", self.learning_rate, positive=True)
        check_int("seed", self.seed, minimum=0)

    def global_batches(self, size: int) -> list[np.ndarray]:
        """Indices into ``size`` training images of each step's global batch.

        Epoch after epoch in :func:`companion.training.epoch_order`; the last
        incomplete batch of an epoch is dropped, so every batch is full.
        """
        check_int("size", size, minimum=self.global_batch)
        per_epoch = size // self.global_batch
        batches = []
        for step in range(self.steps):
            epoch, k = divmod(step, per_epoch)
            order = epoch_order(size, self.seed, epoch)
            batches.append(
                order[k * self.global_batch : (k + 1) * self.global_batch]
            )
        return batches

    def arguments(self) -> list[str]:
        """The plan as the command-line options every worker takes."""
        return [
            "--steps",
            str(self.steps),
            "--global-batch",
            str(self.global_batch),
            "--learning-rate",
            repr(self.learning_rate),
            "--seed",
            str(self.seed),
        ]

    def as_dict(self) -> dict:
        return asdict(self)


def add_plan_arguments(parser) -> None:
    """Add the options of :meth:`TrainingPlan.arguments` to an argparse parser."""
    defaults = TrainingPlan()
    parser.add_argument("--steps", type=int, default=defaults.steps)
    parser.add_argument(
        "--global-batch", type=int, default=defaults.global_batch
    )
    parser.add_argument(
        "--learning-rate", type=float, default=defaults.learning_rate
    )
    parser.add_argument("--seed", type=int, default=defaults.seed)


def plan_from_arguments(args) -> TrainingPlan:
    """The :class:`TrainingPlan` that :func:`add_plan_arguments` options describe."""
    return TrainingPlan(
        steps=args.steps,
        global_batch=args.global_batch,
        learning_rate=args.learning_rate,
        seed=args.seed,
    )


def shard(indices: np.ndarray, rank: int, world: int) -> np.ndarray:
    """Process ``rank``'s contiguous share of one global batch of ``world`` shares."""
    check_int("world", world, minimum=1)
    check_int("rank", rank, minimum=0, maximum=world - 1)
    if len(indices) % world:
        raise ValueError(
            f"a global batch of {len(indices)} does not split evenly "
            f"over {world} processes"
        )
    per = len(indices) // world
    return indices[rank * per : (rank + 1) * per]


def report_head(
    framework: str,
    world: int,
    attempt: int,
    first_step: int,
    started: float,
    seconds,
) -> dict:
    """The fields every worker's report starts with; ``started`` is its ``time.time()``."""
    return {
        "framework": framework,
        "processes": world,
        "attempt": attempt,
        "resumed_from_step": first_step,
        "startup_seconds": time.time() - started,
        "step_seconds": seconds,
    }


def write_run_data(directory, seed: int = 0) -> Path:
    """Write the training images, labels and initial weights a run's workers read.

    The images are the digits training split (channels-first), the weights
    PyTorch's initialisation of the digits CNN with ``seed``, in PyTorch's
    layout (:mod:`companion.cnn_arrays`). Workers read this file instead of
    importing scikit-learn and building a model from a seed, so that every
    process, in either framework, starts from the same numbers.
    """
    from companion.cnn import build_torch_cnn
    from companion.cnn_arrays import save_arrays, torch_arrays
    from companion.digits import load_digits_split

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    split = load_digits_split(seed=0)
    weights = torch_arrays(build_torch_cnn(seed=seed))
    return save_arrays(
        directory / DATA_FILE,
        {
            "x": split.x_train,
            "y": split.y_train,
            **{f"weight/{k}": v for k, v in weights.items()},
        },
    )


def read_run_data(path) -> tuple[np.ndarray, np.ndarray, dict]:
    """``(images, labels, initial PyTorch-layout weights)`` from :func:`write_run_data`."""
    from companion.cnn_arrays import load_arrays

    arrays = load_arrays(path)
    weights = {
        k.split("/", 1)[1]: v
        for k, v in arrays.items()
        if k.startswith("weight/")
    }
    return arrays["x"], arrays["y"], weights
