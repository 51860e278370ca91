"""The seeded inputs every Rosetta row reads, and the namespace each library runs in.

Every library sees the same numbers: NumPy arrays, ``torch.from_numpy``
tensors, ``tf.constant`` tensors (which ``keras.ops`` reads too, on the
TensorFlow backend). Images and kernels are channels-first for NumPy and
PyTorch, channels-last for TensorFlow and Keras (:data:`CHANNELS_LAST`).

>>> data = inputs()
>>> data["x"].shape, data["x"].dtype, data["img"].shape
((3, 4), dtype('float32'), (2, 3, 8, 8))
>>> sorted(namespace("numpy"))[:4]
['a3', 'b', 'beta', 'c']
"""

from __future__ import annotations

from functools import cache

import numpy as np

from companion.rosetta.table import LIBRARIES
from companion.validation import check_choice

#: The seed of every input.
SEED = 20260101


@cache
def inputs() -> dict[str, np.ndarray]:
    """The NumPy inputs the rows read (small, seeded; see each key's comment)."""
    rng = np.random.default_rng(SEED)
    f32 = np.float32
    r = rng.normal(size=(4, 4)).astype(f32) + 4 * np.eye(4, dtype=f32)
    m = (r @ r.T / 4 + np.eye(4, dtype=f32)).astype(f32)
    return {
        "x": rng.normal(size=(3, 4)).astype(f32),  # normal
        "y": rng.normal(size=(3, 4)).astype(f32),
        "p": rng.uniform(0.5, 2.0, size=(3, 4)).astype(f32),  # positive
        "u": rng.uniform(-0.9, 0.9, size=(3, 4)).astype(f32),  # in (-1, 1)
        "v": rng.normal(size=4).astype(f32),
        "w": rng.normal(size=4).astype(f32),
        "i": rng.integers(-5, 6, size=(3, 4)).astype(np.int32),
        "j": rng.integers(1, 6, size=(3, 4)).astype(np.int32),  # divisors
        "b": rng.random((3, 4)) > 0.5,
        "c": rng.random((3, 4)) > 0.5,
        "a3": rng.normal(size=(2, 3, 4)).astype(f32),
        "m": m,  # symmetric positive definite
        "r": r,  # well conditioned
        "rhs": rng.normal(size=(4, 2)).astype(f32),
        "idx": np.array([2, 0], dtype=np.int64),
        "t": rng.integers(0, 4, size=3).astype(np.int64),  # class labels
        "lab": (rng.random((3, 4)) > 0.5).astype(f32),  # 0/1 targets
        "sorted_v": np.sort(rng.normal(size=6)).astype(f32),
        "img": rng.normal(size=(2, 3, 8, 8)).astype(f32),  # NCHW
        "k": rng.normal(size=(4, 3, 3, 3)).astype(f32),  # OIHW
        "kd": rng.normal(size=(3, 1, 3, 3)).astype(f32),  # depthwise
        "kt": rng.normal(size=(3, 4, 3, 3)).astype(f32),  # (in, out, kh, kw)
        "seq1": rng.normal(size=(2, 3, 10)).astype(f32),  # NCW
        "k1": rng.normal(size=(4, 3, 3)).astype(f32),  # OIW
        "q": rng.normal(size=(2, 5, 8)).astype(f32),
        "kv": rng.normal(size=(2, 6, 8)).astype(f32),
        "gamma": rng.uniform(0.5, 1.5, size=4).astype(f32),
        "beta": rng.normal(size=4).astype(f32),
        "mu": rng.normal(size=3).astype(f32),
        "var3": rng.uniform(0.5, 2.0, size=3).astype(f32),
        "small": rng.normal(size=(1, 2, 3, 3)).astype(f32),  # NCHW, to resize
        "ps": rng.normal(size=(1, 8, 2, 3)).astype(f32),  # NCHW, 2 x 2 blocks
    }


#: Inputs that TensorFlow and Keras get in their own layout: the axes to transpose by.
CHANNELS_LAST = {
    "img": (0, 2, 3, 1),
    "seq1": (0, 2, 1),
    "small": (0, 2, 3, 1),
    "ps": (0, 2, 3, 1),
    "k": (2, 3, 1, 0),  # OIHW -> HWIO
    "k1": (2, 1, 0),  # OIW -> WIO
    "kd": (2, 3, 0, 1),  # (C, 1, kh, kw) -> (kh, kw, C, 1)
    "kt": (2, 3, 1, 0),  # (in, out, kh, kw) -> (kh, kw, out, in)
}


def namespace(library: str) -> dict:
    """What a spelling for ``library`` can use: the modules and the inputs (fresh copies)."""
    from companion.rosetta import reference

    check_choice("library", library, LIBRARIES)
    names = {"np": np, "ref": reference}
    data = inputs()
    if library == "numpy":
        names.update({name: value.copy() for name, value in data.items()})
        return names
    if library == "pytorch":
        import torch
        import torch.nn.functional as F

        names.update({"torch": torch, "F": F})
        names.update({n: torch.from_numpy(v.copy()) for n, v in data.items()})
        return names
    import keras
    import tensorflow as tf

    names.update({"tf": tf, "keras": keras, "ops": keras.ops})
    for name, value in data.items():
        if name in CHANNELS_LAST:
            laid_out = np.transpose(value, CHANNELS_LAST[name])
        else:
            laid_out = value
        names[name] = tf.constant(np.ascontiguousarray(laid_out))
    return names
