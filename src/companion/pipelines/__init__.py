"""One image input pipeline, built with PyTorch's ``DataLoader`` and with ``tf.data``.

``companion.pipelines.images``
    the workload: PNG digits decoded, randomly cropped and flipped, normalised.
``companion.pipelines.pytorch``
    the ``Dataset``, the epoch-aware sampler and the ``DataLoader``.
``companion.pipelines.tensorflow``
    the ``tf.data`` pipeline with TensorFlow's own decoder and random ops.
``companion.pipelines.measure``
    images per second by workers, time to the first batch, cross-feeding,
    measured in a fresh process.
"""
