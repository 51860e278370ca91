"""The workload both input pipelines run: small PNG images, decoded, cropped, flipped, normalised.

:func:`make_png_images` encodes the digits of scikit-learn, upscaled to
32 x 32 greyscale, as PNG bytes in memory (no files, no download): the
stand-in for a folder of small images. Each pipeline then decodes every
image, crops a random 28 x 28 window, flips it left-right with probability
one half and normalises it. :func:`augment_png` is that work in NumPy and
Pillow, for PyTorch's ``DataLoader``; :mod:`companion.pipelines.tensorflow`
does the same with TensorFlow's own ops.

The random crop and flip of image ``index`` in epoch ``epoch`` depend only on
``(seed, epoch, index)``, never on which worker process handles the image,
so a ``DataLoader`` gives the same batches with any number of workers.

>>> blobs, labels = make_png_images(4)
>>> len(blobs), labels.dtype, blobs[0][:4]
(4, dtype('int64'), b'\\x89PNG')
>>> augment_png(blobs[0], seed=0, epoch=0, index=0).shape
(1, 28, 28)
>>> bool((augment_png(blobs[0], 0, 1, 0) == augment_png(blobs[0], 0, 1, 0)).all())
True
>>> import tempfile, pathlib
>>> path = save_png_images(pathlib.Path(tempfile.mkdtemp()) / "png.npz", blobs, labels)
>>> load_png_images(path)[0] == blobs
True
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from companion.validation import check_int

IMAGE_SIZE = 32
CROP_SIZE = 28
FLIP_PROBABILITY = 0.5
#: Roughly the mean and standard deviation of the upscaled digits' pixels.
MEAN, STD = 0.25, 0.35


def make_png_images(
    count: int = 1024, size: int = IMAGE_SIZE, seed: int = 0
) -> tuple[list[bytes], np.ndarray]:
    """``count`` PNG-encoded greyscale digits of ``size`` x ``size`` pixels, and their labels.

    Drawn with replacement from the book's digits training split.
    """
    from PIL import Image

    from companion.digits import load_digits_split

    check_int("count", count, minimum=1)
    check_int("size", size, minimum=CROP_SIZE)
    split = load_digits_split(seed=0)
    pick = np.random.default_rng(seed).integers(0, len(split.x_train), count)
    blobs = []
    for i in pick:
        pixels = (split.x_train[i, 0] * 255).round().astype(np.uint8)
        image = Image.fromarray(pixels, mode="L").resize(
            (size, size), Image.Resampling.BILINEAR
        )
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        blobs.append(buffer.getvalue())
    return blobs, split.y_train[pick].astype(np.int64)


def augment_png(blob: bytes, seed: int, epoch: int, index: int) -> np.ndarray:
    """Decode (Pillow), random crop, random flip, normalise: a ``(1, 28, 28)`` float32 image."""
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(blob)), dtype=np.float32) / 255
    rng = np.random.default_rng([seed, epoch, index])
    top, left = rng.integers(0, pixels.shape[0] - CROP_SIZE + 1, size=2)
    pixels = pixels[top : top + CROP_SIZE, left : left + CROP_SIZE]
    if rng.random() < FLIP_PROBABILITY:
        pixels = pixels[:, ::-1]
    return np.ascontiguousarray((pixels - MEAN) / STD)[np.newaxis]


def save_png_images(path, blobs: list[bytes], labels: np.ndarray) -> Path:
    """Write PNG bytes and labels to one ``.npz`` file (bytes and offsets, no pickle)."""
    sizes = np.array([len(b) for b in blobs], dtype=np.int64)
    data = np.frombuffer(b"".join(blobs), dtype=np.uint8)
    np.savez(path, data=data, sizes=sizes, labels=np.asarray(labels))
    return Path(path)


def load_png_images(path) -> tuple[list[bytes], np.ndarray]:
    """The PNG bytes and labels :func:`save_png_images` wrote."""
    with np.load(path) as arrays:
        data, sizes, labels = arrays["data"], arrays["sizes"], arrays["labels"]
    ends = np.cumsum(sizes)
    blobs = [
        data[e - n : e].tobytes() for e, n in zip(ends, sizes, strict=True)
    ]
    return blobs, labels
