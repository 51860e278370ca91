"""A model's logits for a batch of images, as NumPy: one contract for both frameworks.

Both functions take the images the way the digits split holds them,
**channels-first** ``(N, 1, H, W)``, in any floating-point precision, and
return float32 logits ``(N, classes)`` computed in inference mode (no
dropout, no gradients). :func:`keras_logits` moves the channels last for the
Keras model itself, so the two results can be compared element by element:
``torch_logits(torch_model, x) - keras_logits(keras_model, x)``.

>>> import numpy as np
>>> from companion.cnn import build_keras_cnn, build_torch_cnn
>>> images = np.zeros((3, 1, 8, 8), dtype=np.float32)
>>> torch_logits(build_torch_cnn(seed=0), images).shape
(3, 10)
>>> keras_logits(build_keras_cnn(seed=0), images).shape
(3, 10)
>>> keras_logits(build_keras_cnn(seed=0), images.transpose(0, 2, 3, 1))
Traceback (most recent call last):
    ...
ValueError: images must be channels-first (N, 1, H, W), got shape (3, 8, 8, 1)
"""

from __future__ import annotations

import numpy as np

from companion.digits import to_channels_last
from companion.validation import check_images, check_instance

#: The layout and channel count both functions take.
LAYOUT = "channels-first"
CHANNELS = 1


def _checked(images) -> np.ndarray:
    return check_images(images, layout=LAYOUT, channels=CHANNELS)


def torch_logits(model, images: np.ndarray) -> np.ndarray:
    """Logits of a PyTorch model (put in eval mode) for channels-first ``images``."""
    import torch

    check_instance("model", model, torch.nn.Module, what="a torch.nn.Module")
    images = _checked(images)
    with torch.inference_mode():
        return model.eval()(torch.from_numpy(images)).numpy()


def keras_logits(model, images: np.ndarray) -> np.ndarray:
    """Logits of a Keras model for channels-first ``images`` (moved channels-last for it)."""
    import keras

    check_instance("model", model, keras.Model, what="a keras.Model")
    images = to_channels_last(_checked(images))
    outputs = model(images, training=False)
    return np.asarray(keras.ops.convert_to_numpy(outputs), dtype=np.float32)
