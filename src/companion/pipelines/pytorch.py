"""The input pipeline as a PyTorch ``Dataset`` and ``DataLoader``.

:class:`PngDataset` decodes and augments one image per ``__getitem__``;
:class:`EpochSampler` hands out keys ``epoch * n + i`` so that the dataset
knows the epoch even inside persistent worker processes (which hold their
own copy of the dataset, out of reach of a ``set_epoch`` on it).
:func:`make_loader` puts them in a ``DataLoader``.

>>> from companion.pipelines.images import make_png_images
>>> blobs, labels = make_png_images(8)
>>> loader = make_loader(blobs, labels, batch_size=4)
>>> images, targets = next(iter(loader))
>>> tuple(images.shape), images.dtype, len(loader)
((4, 1, 28, 28), torch.float32, 2)
"""

from __future__ import annotations

import numpy as np

from companion.pipelines.images import augment_png
from companion.validation import check_int


class PngDataset:
    """A map-style dataset of PNG bytes: key ``epoch * n + i`` is image ``i`` in ``epoch``."""

    def __init__(self, blobs, labels, seed: int = 0):
        if len(blobs) != len(labels):
            raise ValueError(
                f"blobs and labels differ in length: {len(blobs)} and {len(labels)}"
            )
        self.blobs, self.labels, self.seed = list(blobs), labels, seed

    def __len__(self) -> int:
        return len(self.blobs)

    def __getitem__(self, key: int):
        import torch

        epoch, index = divmod(int(key), len(self.blobs))
        image = augment_png(self.blobs[index], self.seed, epoch, index)
        return torch.from_numpy(image), int(self.labels[index])


class ChannelsLast:
    """A dataset of ``(C, H, W)`` images seen as ``(H, W, C)``, Keras's layout."""

    def __init__(self, base):
        self.base = base

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, key):
        image, label = self.base[key]
        return image.permute(1, 2, 0), label


class EpochSampler:
    """Shuffles ``n`` images anew each epoch; yields keys that carry the epoch."""

    def __init__(self, n: int, seed: int = 0):
        self.n, self.seed, self.epoch = check_int("n", n, minimum=1), seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = check_int("epoch", epoch, minimum=0)

    def __iter__(self):
        order = np.random.default_rng([self.seed, self.epoch]).permutation(
            self.n
        )
        return iter((self.epoch * self.n + order).tolist())

    def __len__(self) -> int:
        return self.n


def make_loader(
    blobs,
    labels,
    *,
    batch_size: int = 64,
    num_workers: int = 0,
    prefetch_factor: int | None = None,
    persistent_workers: bool = False,
    channels_last: bool = False,
    seed: int = 0,
):
    """A ``DataLoader`` over the PNG images; set the epoch on ``loader.sampler``.

    With ``num_workers`` of 1 or more, worker processes decode and augment;
    ``prefetch_factor`` batches per worker are loaded ahead (2 by default),
    and ``persistent_workers`` keeps the workers alive between epochs.
    """
    from torch.utils.data import DataLoader

    check_int("batch_size", batch_size, minimum=1)
    check_int("num_workers", num_workers, minimum=0)
    dataset = PngDataset(blobs, labels, seed)
    if channels_last:
        dataset = ChannelsLast(dataset)
    workers = num_workers > 0
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=EpochSampler(len(blobs), seed),
        num_workers=num_workers,
        prefetch_factor=prefetch_factor if workers else None,
        persistent_workers=persistent_workers and workers,
    )
