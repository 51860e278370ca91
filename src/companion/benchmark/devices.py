"""Which device each framework runs on, and how many threads it uses.

Nothing assumes a GPU: ``"auto"`` takes an accelerator where a framework
sees one and the CPU otherwise.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from companion.benchmark.modes import DEVICES
from companion.frameworks import PYTORCH, TENSORFLOW
from companion.reproducibility import pin_threads
from companion.validation import check_choice


def resolve_devices(device: str = "auto") -> dict[str, str]:
    """Map ``device`` to a PyTorch device and a TensorFlow device name.

    ``"auto"`` picks an accelerator where the framework sees one and the CPU
    otherwise; ``"cuda"`` and ``"mps"`` insist on one for PyTorch.

    >>> resolve_devices("cpu")
    {'pytorch': 'cpu', 'tensorflow': '/CPU:0'}
    """
    check_choice("device", device, DEVICES)
    if device == "cpu":
        return {PYTORCH: "cpu", TENSORFLOW: "/CPU:0"}
    import torch

    mps = getattr(torch.backends, "mps", None)
    mps_ok = bool(mps is not None and mps.is_available())
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            "device 'cuda' was asked for, but torch.cuda.is_available() is False"
        )
    if device == "mps" and not mps_ok:
        raise ValueError(
            "device 'mps' was asked for, but torch.backends.mps is not available"
        )
    import tensorflow as tf

    tf_gpu = bool(tf.config.list_physical_devices("GPU"))
    if device == "auto":
        torch_device = (
            "cuda" if torch.cuda.is_available() else "mps" if mps_ok else "cpu"
        )
        return {
            PYTORCH: torch_device,
            TENSORFLOW: "/GPU:0" if tf_gpu else "/CPU:0",
        }
    # An explicit accelerator: TensorFlow uses a GPU if it has one, and says so if not.
    return {PYTORCH: device, TENSORFLOW: "/GPU:0" if tf_gpu else "no GPU"}


def pin_benchmark_threads(count: int) -> dict[str, int]:
    """Give each framework ``count`` intra-op threads and one inter-op thread.

    Call it before TensorFlow runs its first op and before PyTorch starts any
    parallel work: both fix their thread pools then. One inter-op thread
    keeps TensorFlow from running independent ops side by side on extra
    cores that PyTorch would not use. Returns the four counts as the
    frameworks report them.
    """
    import tensorflow as tf
    import torch

    pin_threads(count)
    try:
        if torch.get_num_interop_threads() != 1:
            torch.set_num_interop_threads(1)
        if tf.config.threading.get_inter_op_parallelism_threads() != 1:
            tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError as error:
        raise RuntimeError(
            "inter-op thread pools are fixed once a framework has started working; "
            "call pin_benchmark_threads first thing in a fresh process"
        ) from error
    return {
        "torch intra-op": torch.get_num_threads(),
        "torch inter-op": torch.get_num_interop_threads(),
        "tensorflow intra-op": tf.config.threading.get_intra_op_parallelism_threads(),
        "tensorflow inter-op": tf.config.threading.get_inter_op_parallelism_threads(),
    }


def torch_synchronize(device: str) -> Callable[[], object] | None:
    """What waits for PyTorch's queued work on ``device`` (nothing on the CPU)."""
    import torch

    if device == "cuda":
        return torch.cuda.synchronize
    if device == "mps":
        return torch.mps.synchronize
    return None


@contextlib.contextmanager
def device_scope(framework: str, where: str):
    """Place TensorFlow's ops on ``where`` for the block; PyTorch places its own."""
    if framework == TENSORFLOW:
        import tensorflow as tf

        with tf.device(where):
            yield
    else:
        yield
