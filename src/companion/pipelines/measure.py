"""Measure both input pipelines, and each framework's model fed from either, in a fresh process.

:func:`measure_pipelines` starts ``python -m companion.pipelines.measure``.
The child first runs every ``DataLoader`` configuration, whose worker
processes are forked from it *before* TensorFlow is imported (forking a
process that runs TensorFlow's thread pools is not safe), then every
``tf.data`` configuration, then trains the 28 x 28 digits CNN from each
feed. Configurations are timed interleaved, epoch ``e`` of every one before
epoch ``e + 1`` of any, so that a change in the machine's load hits them
alike; the first epoch (worker start-up, tracing, caches) is reported apart.
Each row gives images per second over the later epochs (median, minimum,
maximum) and the time to the first batch.

>>> rows = [LOADERS[0], TF_DATASETS[-1]]
>>> [(r.framework, r.label) for r in rows]
[('pytorch', 'DataLoader, no workers'), ('tensorflow', 'tf.data, decode cached, autotuned map')]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field

from companion.frameworks import PYTORCH, TENSORFLOW
from companion.validation import check_int, check_number


@dataclass(frozen=True)
class Config:
    """One pipeline configuration: ``options`` go to ``make_loader`` or ``make_dataset``."""

    framework: str
    label: str
    workers: str  # how many processes or threads decode: "0", "1", "2", "auto"
    options: dict = field(default_factory=dict)


LOADERS = (
    Config(PYTORCH, "DataLoader, no workers", "0", {"num_workers": 0}),
    Config(
        PYTORCH,
        "DataLoader, 1 persistent worker",
        "1",
        {"num_workers": 1, "persistent_workers": True},
    ),
    Config(
        PYTORCH,
        "DataLoader, 2 persistent workers",
        "2",
        {"num_workers": 2, "persistent_workers": True},
    ),
    Config(
        PYTORCH,
        "DataLoader, 2 workers started each epoch",
        "2",
        {"num_workers": 2},
    ),
)
TF_DATASETS = (
    Config(TENSORFLOW, "tf.data, sequential map", "1", {"parallel": None}),
    Config(TENSORFLOW, "tf.data, map on 2 threads", "2", {"parallel": 2}),
    Config(
        TENSORFLOW, "tf.data, autotuned map", "auto", {"parallel": "autotune"}
    ),
    Config(
        TENSORFLOW,
        "tf.data, decode cached, autotuned map",
        "auto",
        {"parallel": "autotune", "cache": True},
    ),
)


@dataclass
class Row:
    """Measurements of one configuration or feed."""

    framework: str
    label: str
    workers: str
    images_per_s: list[float]  # one per epoch after the first
    first_epoch_images_per_s: float
    first_batch_s: list[float] = field(default_factory=list)  # one per epoch
    same_batches: bool | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.images_per_s)

    def spread(self) -> str:
        """``9,120 [8,800-9,400]`` images per second: median [min-max]."""
        low, high = min(self.images_per_s), max(self.images_per_s)
        return f"{self.median:,.0f} [{low:,.0f}-{high:,.0f}]"


def _time_epoch(batches) -> tuple[float, float, int]:
    """Seconds to the first batch, seconds for the epoch, images."""
    start = time.perf_counter()
    first, count = None, 0
    for images, _ in batches:
        if first is None:
            first = time.perf_counter() - start
        count += len(images)
    return first, time.perf_counter() - start, count


def _interleaved(makers: dict, epochs: int, run) -> dict[str, list]:
    results = {name: [] for name in makers}
    for epoch in range(epochs):
        for name, make in makers.items():
            results[name].append(run(make(epoch)))
    return results


def _rows(configs, timings) -> list[Row]:
    rows = []
    for config in configs:
        epochs = timings[config.label]
        rows.append(
            Row(
                config.framework,
                config.label,
                config.workers,
                [n / s for _, s, n in epochs[1:]],
                epochs[0][2] / epochs[0][1],
                [f for f, _, _ in epochs],
            )
        )
    return rows


def _first_batch(batches):
    images, _ = next(iter(batches))
    return images.numpy() if hasattr(images, "numpy") else images


def measure_loaders(blobs, labels, epochs: int) -> list[Row]:
    """Every :data:`LOADERS` configuration, interleaved; same batches for any worker count?"""
    import numpy as np

    from companion.pipelines.pytorch import make_loader

    loaders = {
        c.label: make_loader(blobs, labels, **c.options) for c in LOADERS
    }

    def maker(loader):
        def make(epoch):
            loader.sampler.set_epoch(epoch)
            return loader

        return make

    timings = _interleaved(
        {k: maker(v) for k, v in loaders.items()}, epochs, _time_epoch
    )
    rows = _rows(LOADERS, timings)
    reference = None
    for row in rows:
        loader = loaders[row.label]
        loader.sampler.set_epoch(1)
        batch = _first_batch(loader)
        reference = batch if reference is None else reference
        row.same_batches = bool(np.array_equal(batch, reference))
    return rows


def measure_datasets(blobs, labels, epochs: int) -> list[Row]:
    """Every :data:`TF_DATASETS` configuration, interleaved."""
    import numpy as np

    from companion.pipelines.tensorflow import make_dataset

    datasets = {
        c.label: make_dataset(blobs, labels, **c.options) for c in TF_DATASETS
    }
    timings = _interleaved(
        {k: (lambda epoch, d=d: d) for k, d in datasets.items()},
        epochs,
        _time_epoch,
    )
    rows = _rows(TF_DATASETS, timings)
    first = [_first_batch(d) for d in datasets.values()]
    for row, batch in zip(rows, first, strict=True):
        row.same_batches = bool(np.array_equal(batch, first[0]))
    return rows


def torch_trainer(feed):
    """A PyTorch CNN and loop fed by ``feed(epoch)``; each call trains one epoch."""
    import torch

    from companion.cnn import CNNConfig, build_torch_cnn
    from companion.pipelines.images import CROP_SIZE

    model = build_torch_cnn(CNNConfig(image_size=CROP_SIZE), seed=0)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)

    def run_epoch(epoch):
        start, count = time.perf_counter(), 0
        for images, labels in feed(epoch):
            if not isinstance(images, torch.Tensor):  # NumPy, channels-last
                images = torch.from_numpy(images).permute(0, 3, 1, 2)
                labels = torch.from_numpy(labels)
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(images), labels).backward()
            optimizer.step()
            count += len(images)
        return count / (time.perf_counter() - start)

    return run_epoch


def keras_trainer(feed, count: int):
    """A Keras CNN trained by ``fit`` on ``feed(epoch)``, one epoch per call."""
    import keras

    from companion.cnn import CNNConfig, build_keras_cnn
    from companion.pipelines.images import CROP_SIZE

    model = build_keras_cnn(CNNConfig(image_size=CROP_SIZE), seed=0)
    model.compile(
        optimizer=keras.optimizers.SGD(0.05),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )

    def run_epoch(epoch):
        start = time.perf_counter()
        model.fit(feed(epoch), epochs=1, verbose=0, shuffle=False)
        return count / (time.perf_counter() - start)

    return run_epoch


def _feed_rows(trainers: dict, epochs: int) -> list[Row]:
    rates = _interleaved(trainers, epochs, lambda rate: rate)
    rows = []
    for (framework, label), epoch_rates in zip(
        trainers, rates.values(), strict=True
    ):
        rows.append(Row(framework, label, "", epoch_rates[1:], epoch_rates[0]))
    return rows


def _on_epoch(loader):
    def feed(epoch):
        loader.sampler.set_epoch(epoch)
        return loader

    return feed


def measure_feeds(blobs, labels, epochs: int) -> list[Row]:
    """Each framework's model fed by its own pipeline and by the other's.

    Nothing forks here: the ``DataLoader`` runs in the main process.
    """
    from companion.pipelines.pytorch import make_loader
    from companion.pipelines.tensorflow import make_dataset

    data = make_dataset(blobs, labels, parallel="autotune")
    plain = make_loader(blobs, labels)
    loader = make_loader(blobs, labels, channels_last=True)
    trainers = {
        (PYTORCH, "PyTorch loop <- DataLoader, no workers"): torch_trainer(
            _on_epoch(plain)
        ),
        (PYTORCH, "PyTorch loop <- tf.data (as NumPy)"): torch_trainer(
            lambda epoch: data.as_numpy_iterator()
        ),
        (TENSORFLOW, "Keras fit <- tf.data"): keras_trainer(
            lambda epoch: data, len(blobs)
        ),
        (TENSORFLOW, "Keras fit <- DataLoader, no workers"): keras_trainer(
            _on_epoch(loader), len(blobs)
        ),
    }
    return _feed_rows(trainers, epochs)


def run_measurements(
    count: int, epochs: int, train_epochs: int, feed_images: int
) -> dict:
    """Everything, in the order that keeps forking safe; what the child prints."""
    import warnings

    import torch

    from companion.pipelines.images import make_png_images

    # tf.data hands PyTorch read-only arrays; training only reads them.
    warnings.filterwarnings(
        "ignore", message="The given NumPy array is not writable"
    )
    torch.set_num_threads(1)
    blobs, labels = make_png_images(count)
    loaders = measure_loaders(blobs, labels, epochs)
    if "tensorflow" in sys.modules:
        raise RuntimeError(
            "TensorFlow was imported before the DataLoader forked"
        )
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    datasets = measure_datasets(blobs, labels, epochs)
    feed_images = min(feed_images, count)
    feeds = measure_feeds(
        blobs[:feed_images], labels[:feed_images], train_epochs
    )
    return {
        "images": count,
        "feed_images": feed_images,
        "png_bytes": sum(map(len, blobs)) / len(blobs),
        "rows": [asdict(r) for r in loaders + datasets],
        "feeds": [asdict(r) for r in feeds],
        "versions": {"torch": torch.__version__, "tensorflow": tf.__version__},
    }


@dataclass
class PipelineReport:
    """What :func:`measure_pipelines` measured."""

    images: int
    feed_images: int
    png_bytes: float
    rows: list[Row]
    feeds: list[Row]
    versions: dict

    def row(self, label: str) -> Row:
        for row in self.rows + self.feeds:
            if row.label == label:
                return row
        raise KeyError(f"no row labelled {label!r}")

    def ratio(self, label: str, baseline: str) -> float:
        """Median images/s of ``label`` over that of ``baseline``."""
        return self.row(label).median / self.row(baseline).median


def measure_pipelines(
    images: int = 1024,
    epochs: int = 4,
    train_epochs: int = 3,
    feed_images: int = 512,
    timeout: float = 180.0,
) -> PipelineReport:
    """Run the measurements in a fresh process; see the module docstring.

    ``images`` go through every pipeline configuration for ``epochs``
    epochs; the first ``feed_images`` of them train the models of the
    feeds for ``train_epochs`` epochs.
    """
    from companion.processes import check_run, run_python

    check_int("images", images, minimum=64)
    check_int("epochs", epochs, minimum=2)
    check_int("train_epochs", train_epochs, minimum=2)
    check_int("feed_images", feed_images, minimum=64)
    check_number("timeout", timeout, positive=True)
    arguments = ["-m", "companion.pipelines.measure", "--images", images]
    arguments += ["--epochs", epochs, "--train-epochs", train_epochs]
    arguments += ["--feed-images", feed_images]
    done = check_run(
        run_python(arguments, timeout=timeout), "the pipeline measurements"
    )
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return PipelineReport(
        images=data["images"],
        feed_images=data["feed_images"],
        png_bytes=data["png_bytes"],
        rows=[Row(**r) for r in data["rows"]],
        feeds=[Row(**r) for r in data["feeds"]],
        versions=data["versions"],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1024)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--train-epochs", type=int, default=3)
    parser.add_argument("--feed-images", type=int, default=512)
    args = parser.parse_args(argv)
    report = run_measurements(
        args.images, args.epochs, args.train_epochs, args.feed_images
    )
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
