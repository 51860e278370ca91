"""The input pipeline as a ``tf.data.Dataset``, with TensorFlow's own image ops.

:func:`make_dataset` decodes with ``tf.io.decode_png``, crops and flips with
the stateless random ops (seeds drawn by ``Dataset.random``, new each
epoch, reproducible from ``seed``), normalises, shuffles and batches. Build
it once and iterate it once per epoch.

>>> from companion.pipelines.images import make_png_images
>>> blobs, labels = make_png_images(8)
>>> images, targets = next(iter(make_dataset(blobs, labels, batch_size=4)))
>>> tuple(images.shape), images.dtype.name
((4, 28, 28, 1), 'float32')
"""

from __future__ import annotations

from companion.pipelines.images import CROP_SIZE, MEAN, STD
from companion.validation import check_int

#: ``parallel`` values of :func:`make_dataset` besides a number of calls.
AUTOTUNE = "autotune"


def make_dataset(
    blobs,
    labels,
    *,
    batch_size: int = 64,
    parallel: int | str | None = None,
    prefetch: bool = True,
    cache: bool = False,
    seed: int = 0,
):
    """A shuffled, augmented, batched dataset of the PNG images, channels-last.

    ``parallel`` is ``num_parallel_calls`` of the ``map`` steps: ``None``
    (one element at a time), a number, or ``"autotune"``. With ``cache``,
    decoded images are cached in memory after the first epoch, before the
    shuffle and the random augmentation.
    """
    import tensorflow as tf

    check_int("batch_size", batch_size, minimum=1)
    calls = tf.data.AUTOTUNE if parallel == AUTOTUNE else parallel
    if calls is not None and calls is not tf.data.AUTOTUNE:
        check_int("parallel", calls, minimum=1)

    def decode(blob, label):
        image = tf.io.decode_png(blob, channels=1)
        return tf.cast(image, tf.float32) / 255.0, label

    def augment(image_label, key):
        image, label = image_label
        image = tf.image.stateless_random_crop(
            image, [CROP_SIZE, CROP_SIZE, 1], seed=key
        )
        image = tf.image.stateless_random_flip_left_right(
            image, seed=key[::-1]
        )
        return (image - MEAN) / STD, label

    data = tf.data.Dataset.from_tensor_slices(
        (tf.constant(list(blobs)), tf.constant(labels))
    )
    if cache:
        data = data.map(decode, num_parallel_calls=calls).cache()
    data = data.shuffle(len(blobs), seed=seed, reshuffle_each_iteration=True)
    if not cache:
        data = data.map(decode, num_parallel_calls=calls)
    keys = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
    data = tf.data.Dataset.zip(data, keys.batch(2))
    data = data.map(augment, num_parallel_calls=calls).batch(batch_size)
    return data.prefetch(tf.data.AUTOTUNE) if prefetch else data
