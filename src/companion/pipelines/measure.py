"""Measure both input pipelines, and each framework's model fed from either.

:func:`measure_pipelines` runs every ``DataLoader`` configuration in a
fresh process (``python -m companion.pipelines.measure``) that never
imports TensorFlow: ``DataLoader`` workers are forked processes, and forking
a process in which TensorFlow's thread pools run is not safe. The
``tf.data`` configurations, and the feeds (the 28 x 28 digits CNN of each
framework trained from its own pipeline and from the other's, with the
``DataLoader`` in the main process), run in the calling process.
Configurations are timed interleaved, epoch ``e`` of every one before epoch
``e + 1`` of any, so that a change in the machine's load hits them alike;
the first epoch (worker start-up, tracing, caches) is reported apart. Each
row gives images per second over the later epochs (median, minimum,
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
from pathlib import Path

from companion.frameworks import PYTORCH, TENSORFLOW
from companion.validation import check_int, check_number


@dataclass(frozen=True)
class Config:
    """One pipeline configuration: ``options`` go to ``make_loader`` or ``make_dataset``."""

    framework: str
    label: str
    workers: str  # how many processes or threads decode: "0", "1", "2", "auto"
    options: dict = field(default_factory=dict)


MIN_IMAGES = 64  # one full batch
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
        {k: (lambda _epoch, d=d: d) for k, d in datasets.items()},
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
        for batch_images, batch_labels in feed(epoch):
            images, labels = batch_images, batch_labels
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
            lambda _epoch: data.as_numpy_iterator()
        ),
        (TENSORFLOW, "Keras fit <- tf.data"): keras_trainer(
            lambda _epoch: data, len(blobs)
        ),
        (TENSORFLOW, "Keras fit <- DataLoader, no workers"): keras_trainer(
            _on_epoch(loader), len(blobs)
        ),
    }
    return _feed_rows(trainers, epochs)


def run_loaders(path, epochs: int) -> dict:
    """The child's work: every :data:`LOADERS` configuration on the images in ``path``."""
    import torch

    from companion.pipelines.images import load_png_images

    torch.set_num_threads(1)
    blobs, labels = load_png_images(path)
    rows = measure_loaders(blobs, labels, epochs)
    if "tensorflow" in sys.modules:
        raise RuntimeError(
            "TensorFlow was imported where the DataLoader forks"
        )
    return {"rows": [asdict(r) for r in rows], "torch": torch.__version__}


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
    blobs,
    labels,
    *,
    epochs: int = 4,
    train_epochs: int = 3,
    feed_images: int = 512,
    timeout: float = 120.0,
) -> PipelineReport:
    """Measure every configuration and feed on the PNG images; see the module docstring.

    Every pipeline configuration reads all ``blobs`` for ``epochs`` epochs;
    the first ``feed_images`` of them train the models of the feeds for
    ``train_epochs`` epochs.
    """
    import tempfile
    import warnings

    import tensorflow as tf

    from companion.pipelines.images import save_png_images
    from companion.processes import check_run, run_python

    check_int("epochs", epochs, minimum=2)
    check_int("train_epochs", train_epochs, minimum=2)
    check_int("feed_images", feed_images, minimum=1)
    check_number("timeout", timeout, positive=True)
    if len(blobs) < MIN_IMAGES:
        raise ValueError(
            f"blobs must hold at least {MIN_IMAGES} images, got {len(blobs)}"
        )
    with tempfile.TemporaryDirectory(prefix="companion-png-") as directory:
        path = save_png_images(Path(directory) / "png.npz", blobs, labels)
        arguments = ["-m", "companion.pipelines.measure", "--images", path]
        done = run_python([*arguments, "--epochs", epochs], timeout=timeout)
    child = json.loads(check_run(done, "the DataLoader measurements").stdout)
    datasets = measure_datasets(blobs, labels, epochs)
    with warnings.catch_warnings():
        # tf.data hands PyTorch read-only arrays; training only reads them.
        warnings.filterwarnings(
            "ignore", message="The given NumPy array is not"
        )
        feeds = measure_feeds(
            blobs[:feed_images], labels[:feed_images], train_epochs
        )
    return PipelineReport(
        images=len(blobs),
        feed_images=min(feed_images, len(blobs)),
        png_bytes=sum(map(len, blobs)) / len(blobs),
        rows=[Row(**r) for r in child["rows"]] + datasets,
        feeds=feeds,
        versions={"torch": child["torch"], "tensorflow": tf.__version__},
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, required=True, help=".npz file")
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args(argv)
    print(json.dumps(run_loaders(args.images, args.epochs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
