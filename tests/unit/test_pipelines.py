"""The PNG decode-and-augment pipeline as a DataLoader and as tf.data, and its measurement."""

import numpy as np
import pytest

from companion.pipelines.images import CROP_SIZE, augment_png, make_png_images
from companion.pipelines.measure import PipelineReport, Row, measure_pipelines
from companion.pipelines.pytorch import EpochSampler, PngDataset, make_loader
from companion.pipelines.tensorflow import make_dataset


@pytest.fixture(scope="module")
def images():
    return make_png_images(32)


def test_png_images_decode_to_augmented_crops(images):
    blobs, labels = images
    assert len(blobs) == len(labels) == 32
    crop = augment_png(blobs[0], seed=0, epoch=0, index=0)
    assert crop.shape == (1, CROP_SIZE, CROP_SIZE)
    assert crop.dtype == np.float32
    assert not np.array_equal(crop, augment_png(blobs[0], seed=0, epoch=1, index=0))


def test_loader_batches_depend_on_the_epoch_only(images):
    blobs, labels = images
    loader = make_loader(blobs, labels, batch_size=8)
    loader.sampler.set_epoch(2)
    first = next(iter(loader))[0].numpy()
    loader.sampler.set_epoch(2)
    assert np.array_equal(next(iter(loader))[0].numpy(), first)
    last = make_loader(blobs, labels, batch_size=8, channels_last=True)
    assert tuple(next(iter(last))[0].shape) == (8, CROP_SIZE, CROP_SIZE, 1)


def test_sampler_keys_carry_the_epoch():
    sampler = EpochSampler(4, seed=0)
    sampler.set_epoch(3)
    assert sorted(sampler) == [12, 13, 14, 15]
    with pytest.raises(ValueError, match="epoch must be at least 0"):
        sampler.set_epoch(-1)
    with pytest.raises(ValueError, match="differ in length"):
        PngDataset([b""], [1, 2])


def test_tf_pipelines_give_the_same_batches_in_parallel(images):
    blobs, labels = images
    sequential = next(iter(make_dataset(blobs, labels, batch_size=8)))[0].numpy()
    parallel = make_dataset(blobs, labels, batch_size=8, parallel="autotune")
    assert np.array_equal(next(iter(parallel))[0].numpy(), sequential)
    cached = make_dataset(blobs, labels, batch_size=8, parallel=2, cache=True)
    assert next(iter(cached))[0].shape == (8, CROP_SIZE, CROP_SIZE, 1)
    with pytest.raises(ValueError, match="parallel must be at least 1"):
        make_dataset(blobs, labels, parallel=0)


def test_measurement_runs_the_dataloader_in_a_fresh_process():
    blobs, labels = make_png_images(64)
    report = measure_pipelines(blobs, labels, epochs=2, train_epochs=2, feed_images=64)
    assert {row.framework for row in report.rows} == {"pytorch", "tensorflow"}
    assert all(row.same_batches for row in report.rows)
    assert all(len(row.images_per_s) == 1 for row in report.rows + report.feeds)
    assert report.ratio("tf.data, autotuned map", "tf.data, autotuned map") == 1.0
    with pytest.raises(KeyError):
        report.row("no such row")


def test_plots_draw():
    from companion.pipelines.plots import plot_samples, plot_throughput

    row = Row("pytorch", "a", "0", [1.0, 2.0, 3.0], 1.0, [0.1, 0.1])
    report = PipelineReport(64, 64, 600.0, [row, Row("tensorflow", "b", "1", [2.0], 1.0)], [], {})
    assert row.spread() == "2 [1-3]"
    assert len(plot_throughput(report).axes) == 1
    batches = {"pytorch": np.zeros((8, 1, 4, 4)), "tensorflow": np.zeros((8, 4, 4, 1))}
    assert len(plot_samples(batches).axes) == 16


def test_measurement_arguments_are_checked(images):
    blobs, labels = images
    with pytest.raises(ValueError, match="at least 64 images"):
        measure_pipelines(blobs, labels)
    with pytest.raises(ValueError, match="epochs must be at least 2"):
        measure_pipelines(blobs * 2, labels, epochs=1)
