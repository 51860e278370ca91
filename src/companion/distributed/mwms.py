"""TensorFlow data parallelism for the digits CNN: one process, or ``MultiWorkerMirroredStrategy``.

:func:`train_single` trains a Keras model in this process on whole global
batches (the reference). ``python -m companion.distributed.mwms --run-dir
DIR``, started once per worker with ``TF_CONFIG`` naming the cluster,
trains the same steps with ``MultiWorkerMirroredStrategy``: each worker
reads its shard of every global batch through
``distribute_datasets_from_function``, computes the loss averaged over the
*global* batch, and the Keras optimizer all-reduces the gradients. Worker 0
writes ``result-tensorflow.json`` and ``weights-tensorflow.npz``.

The loop is a custom one (``strategy.run`` inside ``tf.function``) because
``model.fit`` fails under this strategy on Keras 3.15.1
(keras-team/keras#20585); with ``--try-fit`` each worker afterwards calls
``fit`` the way TensorFlow's multi-worker tutorial does and records the
error it raises. Lines that data parallelism adds are marked
``# data-parallel``. Checkpoints use ``tf.train.CheckpointManager``, one
directory per worker.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import traceback
from pathlib import Path

import numpy as np

from companion.distributed.launch import die_with_parent, log_event
from companion.distributed.plan import (
    DATA_FILE,
    TrainingPlan,
    plan_from_arguments,
    read_run_data,
    report_head,
    shard,
)

FRAMEWORK = "tensorflow"


def build_model(weights: dict):
    """The Keras digits CNN with the given (PyTorch-layout) initial weights."""
    from companion.cnn import build_keras_cnn
    from companion.cnn_arrays import keras_arrays

    model = build_keras_cnn()
    model.set_weights(keras_arrays(weights))
    return model


def make_step(strategy, model, optimizer, global_batch: int):
    """One training step as a ``tf.function``: every replica's step, then this worker's loss."""
    import keras
    import tensorflow as tf

    loss_fn = keras.losses.SparseCategoricalCrossentropy(
        from_logits=True, reduction=None
    )

    def replica_step(images, labels):
        with tf.GradientTape() as tape:
            per_image = loss_fn(labels, model(images, training=True))
            loss = tf.nn.compute_average_loss(  # data-parallel
                per_image,
                global_batch_size=global_batch,  # data-parallel
            )  # data-parallel
        grads = tape.gradient(loss, model.trainable_variables)
        # Under the strategy, apply_gradients all-reduces (sums) the gradients.
        optimizer.apply_gradients(
            zip(grads, model.trainable_variables, strict=True)
        )
        return loss

    @tf.function
    def step(batch):
        losses = strategy.run(replica_step, args=batch)  # data-parallel
        return strategy.experimental_local_results(losses)[0]

    return step


def _dataset(images, labels, batches, rank: int, world: int):
    import tensorflow as tf

    index = np.stack([shard(b, rank, world) for b in batches])
    return tf.data.Dataset.from_tensor_slices((images[index], labels[index]))


def train_steps(step_fn, iterator, steps, hooks=()):
    """Run ``step_fn`` on each batch of ``iterator`` for ``steps`` (step numbers)."""
    seconds = []
    for step in steps:
        for hook in hooks:
            hook(step)
        batch = next(iterator)
        start = time.perf_counter()
        float(step_fn(batch))  # waits for the step to finish
        seconds.append(time.perf_counter() - start)
    return seconds


def train_single(plan: TrainingPlan, images, labels, weights: dict) -> dict:
    """Train in this process (default strategy) on whole global batches."""
    import keras
    import tensorflow as tf

    from companion.cnn_arrays import torch_layout

    strategy = tf.distribute.get_strategy()
    model = build_model(weights)
    optimizer = keras.optimizers.SGD(plan.learning_rate)
    step_fn = make_step(strategy, model, optimizer, plan.global_batch)
    x = np.ascontiguousarray(images.transpose(0, 2, 3, 1))
    data = _dataset(x, labels, plan.global_batches(len(x)), 0, 1)
    seconds = train_steps(step_fn, iter(data), range(plan.steps))
    return {
        "weights": torch_layout(model.get_weights()),
        "step_seconds": seconds,
    }


def count_collectives(step_fn, batch) -> dict[str, int]:
    """The collective ops in the traced graph of one step (nested functions included)."""
    graph_def = step_fn.get_concrete_function(batch).graph.as_graph_def()
    nodes = list(graph_def.node)
    for function in graph_def.library.function:
        nodes.extend(function.node_def)
    counts: dict[str, int] = {}
    for node in nodes:
        if "Collective" in node.op:
            counts[node.op] = counts.get(node.op, 0) + 1
    return counts


def _checkpointing(args, index: int, model, optimizer):
    """A CheckpointManager in this worker's own directory, and the step it resumes at."""
    import tensorflow as tf

    checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer)
    directory = (
        Path(args.run_dir) / "checkpoints-tensorflow" / f"worker{index}"
    )
    manager = tf.train.CheckpointManager(checkpoint, directory, max_to_keep=1)
    first_step = 0
    if manager.latest_checkpoint:
        checkpoint.restore(
            manager.latest_checkpoint
        ).assert_existing_objects_matched()
        first_step = int(manager.latest_checkpoint.rsplit("-", 1)[1])
    return manager, first_step


def _hooks(args, index: int, manager, who: str) -> list:
    def pause(step: int) -> None:
        if (
            step == args.pause_at_step
            and index == args.pause_rank
            and not _attempt()
        ):
            log_event(args.run_dir, who, "paused", step=step)
            time.sleep(args.pause_timeout)
            sys.exit(f"{who}: paused at step {step} and nobody killed it")

    def save(step: int) -> None:
        if step and args.checkpoint_every and not step % args.checkpoint_every:
            manager.save(checkpoint_number=step)  # every worker saves

    return [pause, save]


def _attempt() -> int:
    return int(os.environ.get("BOOK_ATTEMPT", "0"))


def try_fit(plan, weights, images, labels, strategy) -> dict:
    """``model.fit`` under the strategy, as TensorFlow's tutorial writes it; what it raised."""
    import keras
    import tensorflow as tf

    with strategy.scope():
        model = build_model(weights)
        model.compile(
            optimizer=keras.optimizers.SGD(plan.learning_rate),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
    data = tf.data.Dataset.from_tensor_slices((images, labels))
    data = data.batch(plan.global_batch, drop_remainder=True)
    keras.config.disable_traceback_filtering()  # to see where in Keras it fails
    try:
        model.fit(data, epochs=1, steps_per_epoch=2, verbose=0)
    except Exception as error:  # the error is the result
        frames = traceback.extract_tb(error.__traceback__)
        inside = [f for f in frames if "keras" in f.filename]
        where = inside[-1] if inside else frames[-1]
        # The first batch's values fill most of the message: elide them.
        message = re.sub(r"numpy=.*?\)>", "numpy=...>", str(error), flags=re.S)
        return {
            "raised": type(error).__name__,
            "message": " ".join(message.split()),
            "where": f"{Path(where.filename).name}, in {where.name}",
        }
    return {"raised": None}


def run_worker(args) -> tuple[dict, tuple]:
    """One worker's whole run: its report, and what :func:`try_fit` needs."""
    import keras
    import tensorflow as tf

    from companion.cnn_arrays import torch_layout

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(2)
    plan = plan_from_arguments(args)
    started = time.time()
    options = tf.distribute.experimental.CommunicationOptions(  # data-parallel
        timeout_seconds=args.group_timeout  # data-parallel
    )  # data-parallel
    strategy = tf.distribute.MultiWorkerMirroredStrategy(  # data-parallel
        communication_options=options  # data-parallel
    )  # data-parallel
    resolver = strategy.cluster_resolver
    index, world = resolver.task_id, strategy.num_replicas_in_sync
    who = f"worker {index}"
    images, labels, weights = read_run_data(Path(args.run_dir) / DATA_FILE)
    images = np.ascontiguousarray(images.transpose(0, 2, 3, 1))
    with strategy.scope():  # data-parallel
        model = build_model(weights)
        optimizer = keras.optimizers.SGD(plan.learning_rate)
        optimizer.build(model.trainable_variables)
    manager, first_step = _checkpointing(args, index, model, optimizer)
    batches = plan.global_batches(len(images))[first_step:]
    data = strategy.distribute_datasets_from_function(  # data-parallel
        lambda context: _dataset(  # data-parallel
            images,
            labels,
            batches,
            context.input_pipeline_id,
            context.num_input_pipelines,  # data-parallel
        )  # data-parallel
    )  # data-parallel
    step_fn = make_step(strategy, model, optimizer, plan.global_batch)
    iterator = iter(data)
    log_event(
        args.run_dir, who, "training", step=first_step, attempt=_attempt()
    )
    seconds = train_steps(
        step_fn,
        iterator,
        range(first_step, plan.steps),
        _hooks(args, index, manager, who),
    )
    report = {
        **report_head(
            FRAMEWORK, world, _attempt(), first_step, started, seconds
        ),
        "strategy": type(strategy).__name__,
        "parameters": int(model.count_params()),
        "gradient_tensors": len(model.trainable_variables),
        "weights": torch_layout(model.get_weights()),
    }
    if args.count_collectives:
        probe = strategy.distribute_datasets_from_function(
            lambda context: _dataset(
                images,
                labels,
                batches,
                context.input_pipeline_id,
                context.num_input_pipelines,
            )
        )
        report["collectives_per_step"] = count_collectives(
            step_fn, next(iter(probe))
        )
    log_event(args.run_dir, who, "finished", attempt=_attempt())
    return report, (plan, weights, images, labels, strategy)


def main(argv: list[str] | None = None) -> int:
    die_with_parent()
    from companion.distributed.ddp import parser, write_report

    p = parser()
    p.add_argument("--count-collectives", action="store_true")
    p.add_argument("--try-fit", action="store_true")
    args = p.parse_args(argv)
    if "TF_CONFIG" not in os.environ:
        p.error("TF_CONFIG must name the cluster and this worker's index")
    index = json.loads(os.environ["TF_CONFIG"])["task"]["index"]
    report, context = run_worker(args)
    if index == 0:
        write_report(args.run_dir, report)
    if args.try_fit:
        outcome = try_fit(*context)
        path = Path(args.run_dir) / f"fit-worker{index}.json"
        path.write_text(json.dumps(outcome))
    return 0


if __name__ == "__main__":
    sys.exit(main())
