"""PyTorch data parallelism for the digits CNN: one process, or DDP over gloo under ``torchrun``.

:func:`train_single` trains in this process on whole global batches (the
reference). ``torchrun ... -m companion.distributed.ddp --run-dir DIR``
trains the same steps with one process per rank, each on its shard of
every global batch, the model wrapped in ``DistributedDataParallel``; rank 0
writes ``result-pytorch.json`` and ``weights-pytorch.npz`` into ``DIR``
(:func:`companion.distributed.runs.run_data_parallel` starts it).

The lines that data parallelism adds to the single-process loop are the
ones marked ``# data-parallel`` in this file's source:
:func:`companion.distributed.runs.data_parallel_lines` prints them. The rest
is the book's instrumentation: a communication hook that counts what is
all-reduced, a checkpoint every few steps, a pause at which a cell can kill
a rank, and a short run of FSDP2 (``fully_shard``) in the same process group.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

import numpy as np

from companion.distributed.launch import die_with_parent, log_event
from companion.distributed.plan import (
    DATA_FILE,
    TrainingPlan,
    add_plan_arguments,
    plan_from_arguments,
    read_run_data,
    report_head,
    shard,
)

FRAMEWORK = "pytorch"
#: How long a rank may wait for its peers in any collective, and at start.
GROUP_TIMEOUT_S = 30.0


def build_model(weights: dict):
    """The digits CNN with the given PyTorch-layout initial weights."""
    from companion.cnn import build_torch_cnn
    from companion.cnn_arrays import load_into_torch

    model = build_torch_cnn()
    load_into_torch(model, weights)
    return model


def train_steps(
    net, optimizer, images, labels, batches, rank, world, hooks=()
):
    """SGD over ``batches`` (one per step), on this rank's shard; per-step seconds."""
    import torch
    import torch.nn.functional as F

    seconds = []
    for step, batch in batches:
        for hook in hooks:
            hook(step)
        index = torch.from_numpy(shard(batch, rank, world))  # data-parallel
        start = time.perf_counter()
        optimizer.zero_grad()
        loss = F.cross_entropy(net(images[index]), labels[index])
        loss.backward()  # under DDP: gradients all-reduced, bucket by bucket
        optimizer.step()
        seconds.append(time.perf_counter() - start)
    return seconds


def train_single(plan: TrainingPlan, images, labels, weights: dict) -> dict:
    """Train in this process on whole global batches; weights and step times.

    >>> from companion.distributed.plan import TrainingPlan
    >>> rng = np.random.default_rng(0)
    >>> images = rng.random((64, 1, 8, 8), dtype=np.float32)
    >>> labels = rng.integers(0, 10, 64)
    >>> from companion.cnn import build_torch_cnn
    >>> from companion.cnn_arrays import torch_arrays
    >>> out = train_single(TrainingPlan(steps=2, global_batch=32), images,
    ...                    labels, torch_arrays(build_torch_cnn(seed=0)))
    >>> len(out["step_seconds"]), sorted(out["weights"])[:2]
    (2, ['0.bias', '0.weight'])
    """
    from companion.cnn_arrays import torch_arrays

    model = build_model(weights)
    seconds = train_in_process(plan, model, images, labels)
    return {"weights": torch_arrays(model), "step_seconds": seconds}


def train_in_process(plan: TrainingPlan, model, images, labels) -> list[float]:
    """Plain SGD of ``model`` on the plan's whole global batches; per-step seconds."""
    import torch

    optimizer = torch.optim.SGD(model.parameters(), lr=plan.learning_rate)
    batches = list(enumerate(plan.global_batches(len(images))))
    return train_steps(
        model,
        optimizer,
        torch.from_numpy(images),
        torch.from_numpy(labels),
        batches,
        rank=0,
        world=1,
    )


class AllReduceCounter:
    """A DDP communication hook: records every bucket it all-reduces, then all-reduces it."""

    def __init__(self):
        self.step = 0
        self.calls: list[tuple[int, int, int]] = []  # (step, bucket, bytes)

    def hook(self, state, bucket):
        from torch.distributed.algorithms.ddp_comm_hooks import default_hooks

        buffer = bucket.buffer()
        self.calls.append(
            (self.step, bucket.index(), buffer.numel() * buffer.element_size())
        )
        return default_hooks.allreduce_hook(state, bucket)

    def per_step(self) -> dict[int, list[int]]:
        """Bytes of each all-reduce, by step."""
        steps: dict[int, list[int]] = {}
        for step, _, size in self.calls:
            steps.setdefault(step, []).append(size)
        return steps


def _attempt() -> int:
    return int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0"))


def _save_checkpoint(path: Path, model, optimizer, steps_done: int) -> None:
    import torch

    partial = path.with_name(path.name + ".partial")
    torch.save(
        {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "steps_done": steps_done,
        },
        partial,
    )
    Path(partial).replace(path)  # a crash never leaves half a checkpoint


def _resume(path: Path, model, optimizer) -> int:
    import torch

    if not path.exists():
        return 0
    state = torch.load(path, weights_only=True)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    return int(state["steps_done"])


def _pause_hook(args, rank: int, who: str):
    """At ``--pause-at-step``, on the first attempt, rank ``--pause-rank`` waits to be killed."""

    def hook(step: int) -> None:
        if step != args.pause_at_step or rank != args.pause_rank or _attempt():
            return
        log_event(args.run_dir, who, "paused", step=step)
        time.sleep(args.pause_timeout)
        sys.exit(f"{who}: paused at step {step} and nobody killed it")

    return hook


def _checkpoint_hook(args, rank: int, model, optimizer, path: Path):
    def hook(step: int) -> None:
        # Called before step `step`: `step` steps are done.
        if (
            rank == 0
            and step
            and args.checkpoint_every
            and not step % args.checkpoint_every
        ):
            _save_checkpoint(path, model, optimizer, step)

    return hook


def bucket_demo(weights, images, labels, batches, rank, world, cap_mb):
    """Three steps with a tiny bucket cap: how DDP splits the gradients into all-reduces."""
    import torch
    from torch.nn.parallel import DistributedDataParallel

    model = build_model(weights)
    net = DistributedDataParallel(model, bucket_cap_mb=cap_mb)
    counter = AllReduceCounter()
    net.register_comm_hook(None, counter.hook)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

    def count(step):
        counter.step = step

    train_steps(
        net,
        optimizer,
        images,
        labels,
        list(enumerate(batches[:3])),
        rank,
        world,
        [count],
    )
    return {"bucket_cap_mb": cap_mb, "bytes_per_step": counter.per_step()}


def fsdp_demo(plan, weights, images, labels, batches, rank, world):
    """A few steps with FSDP2's ``fully_shard`` on this CPU group, against one process."""
    import torch
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard

    mesh = init_device_mesh("cpu", (world,))
    model = build_model(weights)
    for layer in model:
        if any(True for _ in layer.parameters()):
            fully_shard(layer, mesh=mesh)
    fully_shard(model, mesh=mesh)
    weight = model[0].weight
    optimizer = torch.optim.SGD(model.parameters(), lr=plan.learning_rate)
    seconds = train_steps(
        model, optimizer, images, labels, list(enumerate(batches)), rank, world
    )
    full = {
        name: value.full_tensor()
        .detach()
        .numpy()  # an all-gather of the shards
        for name, value in model.state_dict().items()
    }
    reference = train_single(
        TrainingPlan(
            len(batches), plan.global_batch, plan.learning_rate, plan.seed
        ),
        images.numpy(),
        labels.numpy(),
        weights,
    )["weights"]
    from companion.cnn_arrays import max_abs_difference

    return {
        "steps": len(batches),
        "parameter_type": type(weight).__name__,
        "conv1_weight_full_shape": list(weight.shape),
        "conv1_weight_local_shape": list(weight.to_local().shape),
        "max_abs_difference_to_one_process": max_abs_difference(
            full, reference
        ),
        "step_seconds": seconds,
    }


def _ranks_agree(model, world: int) -> float:
    """The largest difference between rank 0's and the last rank's parameters."""
    import torch
    import torch.distributed as dist

    flat = torch.cat([p.detach().flatten() for p in model.parameters()])
    gathered = [torch.zeros_like(flat) for _ in range(world)]
    dist.all_gather(gathered, flat)
    return float((gathered[0] - gathered[-1]).abs().max())


def _extras(args, plan, weights, images, labels, batches, rank, world) -> dict:
    extras = {}
    if args.bucket_cap_mb:
        extras["buckets"] = bucket_demo(
            weights, images, labels, batches, rank, world, args.bucket_cap_mb
        )
    if args.fsdp_steps:
        extras["fsdp2"] = fsdp_demo(
            plan,
            weights,
            images,
            labels,
            batches[: args.fsdp_steps],
            rank,
            world,
        )
    return extras


def run_worker(args) -> dict:
    """One rank's whole run under ``torchrun``; returns its report."""
    import torch
    import torch.distributed as dist  # data-parallel
    from torch.nn.parallel import DistributedDataParallel  # data-parallel

    from companion.cnn_arrays import torch_arrays

    torch.set_num_threads(1)
    plan = plan_from_arguments(args)
    images, labels, weights = read_run_data(Path(args.run_dir) / DATA_FILE)
    images, labels = torch.from_numpy(images), torch.from_numpy(labels)
    started = time.time()
    timeout = timedelta(seconds=args.group_timeout)  # data-parallel
    dist.init_process_group("gloo", timeout=timeout)  # data-parallel
    rank, world = dist.get_rank(), dist.get_world_size()  # data-parallel
    who = f"rank {rank}"
    model = build_model(weights)
    optimizer = torch.optim.SGD(model.parameters(), lr=plan.learning_rate)
    checkpoint = Path(args.run_dir) / "checkpoint-pytorch.pt"
    first_step = _resume(checkpoint, model, optimizer)
    net = DistributedDataParallel(model)  # data-parallel
    counter = AllReduceCounter()
    net.register_comm_hook(None, counter.hook)
    log_event(
        args.run_dir, who, "training", step=first_step, attempt=_attempt()
    )
    batches = list(enumerate(plan.global_batches(len(images))))

    def count(step):
        counter.step = step

    hooks = [
        count,
        _pause_hook(args, rank, who),
        _checkpoint_hook(args, rank, model, optimizer, checkpoint),
    ]
    seconds = train_steps(
        net,
        optimizer,
        images,
        labels,
        batches[first_step:],
        rank,
        world,
        hooks,
    )
    report = {
        **report_head(
            FRAMEWORK, world, _attempt(), first_step, started, seconds
        ),
        "allreduce_bytes_per_step": counter.per_step(),
        "parameters": sum(p.numel() for p in model.parameters()),
        "ranks_max_abs_difference": _ranks_agree(model, world),
        "rendezvous": {
            k: os.environ.get(k)
            for k in ("MASTER_ADDR", "GLOO_SOCKET_IFNAME", "WORLD_SIZE")
        },
    }
    report.update(
        _extras(
            args,
            plan,
            weights,
            images,
            labels,
            [b for _, b in batches],
            rank,
            world,
        )
    )
    report["weights"] = torch_arrays(model)
    dist.destroy_process_group()  # data-parallel
    log_event(args.run_dir, who, "finished", attempt=_attempt())
    return report


def write_report(run_dir, report: dict) -> None:
    """``result-<framework>.json`` and ``weights-<framework>.npz`` in ``run_dir``."""
    from companion.cnn_arrays import save_arrays

    run_dir = Path(run_dir)
    framework = report["framework"]
    save_arrays(run_dir / f"weights-{framework}.npz", report.pop("weights"))
    partial = run_dir / f"result-{framework}.json.partial"
    partial.write_text(json.dumps(report, default=_jsonable))
    partial.replace(run_dir / f"result-{framework}.json")


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def parser() -> argparse.ArgumentParser:
    """The worker's options (shared with :mod:`companion.distributed.mwms`)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run-dir", required=True, type=Path)
    add_plan_arguments(p)
    p.add_argument("--checkpoint-every", type=int, default=0)
    p.add_argument("--pause-at-step", type=int, default=-1)
    p.add_argument("--pause-rank", type=int, default=1)
    p.add_argument("--pause-timeout", type=float, default=60.0)
    p.add_argument("--group-timeout", type=float, default=GROUP_TIMEOUT_S)
    p.add_argument("--bucket-cap-mb", type=float, default=0.0)
    p.add_argument("--fsdp-steps", type=int, default=0)
    return p


def main(argv: list[str] | None = None) -> int:
    die_with_parent()
    args = parser().parse_args(argv)
    report = run_worker(args)
    if int(os.environ.get("RANK", "0")) == 0:
        write_report(args.run_dir, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
