"""Seed every random source, and pin thread counts, in both frameworks.

:func:`seeded_torch` is the one way the companion builds a PyTorch model
from a seed: the global generators (CPU and every CUDA device) are seeded
inside a fork and restored afterwards, so building a model has no side
effect on later random numbers.

>>> import random
>>> seed_everything(7, frameworks=())
7
>>> first = random.random()
>>> _ = seed_everything(7, frameworks=())
>>> random.random() == first
True
"""

from __future__ import annotations

import contextlib
import os
import random

import numpy as np

from companion.frameworks import FRAMEWORKS, MODULES, PYTORCH, TENSORFLOW
from companion.validation import check_choice, check_int


def _check_frameworks(frameworks) -> tuple[str, ...]:
    if isinstance(frameworks, str):
        raise TypeError(
            f"frameworks must be a tuple of names, e.g. ({frameworks!r},)"
        )
    return tuple(
        check_choice("each of frameworks", name, FRAMEWORKS)
        for name in frameworks
    )


def _check_seed(seed) -> int:
    check_int("seed", seed)
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    return int(seed)


@contextlib.contextmanager
def seeded_torch(seed: int | None):
    """Run the block with PyTorch's generators seeded with ``seed``, then restore them.

    ``None`` leaves the generators alone (the block draws from them as
    usual). Every device's generator is forked, the CUDA ones too, so a
    seeded construction leaves no trace on a GPU either.

    >>> import torch
    >>> with seeded_torch(0):
    ...     first = torch.rand(2)
    >>> with seeded_torch(0):
    ...     again = torch.rand(2)
    >>> bool((first == again).all())
    True
    """
    if seed is None:
        yield
        return
    import torch

    seed = _check_seed(seed)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        yield


def seed_everything(
    seed: int, frameworks: tuple[str, ...] = FRAMEWORKS
) -> int:
    """Seed Python, NumPy and the given frameworks; return the seed.

    For TensorFlow this also turns on op determinism, which makes the few ops
    that pick a nondeterministic kernel raise or choose a deterministic one.
    PyTorch is set to use deterministic algorithms where they exist and to
    warn (not fail) where they do not.
    """
    _check_seed(seed)
    frameworks = _check_frameworks(frameworks)
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    # The legacy global generator is what np.random.rand & co. draw from.
    np.random.seed(seed)  # noqa: NPY002
    if PYTORCH in frameworks:
        import torch

        torch.manual_seed(seed)
        torch.use_deterministic_algorithms(True, warn_only=True)
    if TENSORFLOW in frameworks:
        import keras
        import tensorflow as tf

        keras.utils.set_random_seed(seed)
        tf.config.experimental.enable_op_determinism()
    return seed


def pin_threads(
    count: int, frameworks: tuple[str, ...] = FRAMEWORKS
) -> dict[str, int]:
    """Use ``count`` threads for intra-op work in each framework; return what is set.

    The counts are those the frameworks report, keyed by module name
    (``torch``, ``tensorflow``).

    TensorFlow accepts this only before its runtime starts (before the first
    op runs); afterwards it raises ``RuntimeError``, which we turn into a
    clear message.
    """
    check_int("count", count, minimum=1)
    frameworks = _check_frameworks(frameworks)
    settings = {}
    if PYTORCH in frameworks:
        import torch

        torch.set_num_threads(count)
        settings[MODULES[PYTORCH]] = torch.get_num_threads()
    if TENSORFLOW in frameworks:
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(count)
        except RuntimeError as error:
            raise RuntimeError(
                "TensorFlow's thread pool is fixed once its runtime has started; "
                "call pin_threads before running any TensorFlow op"
            ) from error
        settings[MODULES[TENSORFLOW]] = (
            tf.config.threading.get_intra_op_parallelism_threads()
        )
    return settings


def prepare_chapter(seed: int = 0, threads: int = 1) -> str:
    """Everything a chapter's first cell does, in one call; return a one-line summary.

    Keeps TensorFlow's C++ log lines quiet (before TensorFlow loads), seeds
    Python and NumPy with ``seed``, and arranges for each framework, as soon
    as it is imported, to be pinned to ``threads`` intra-op threads (so that
    sums, and so the printed digits, do not depend on the machine's core
    count) and seeded: PyTorch's generator and deterministic algorithms;
    TensorFlow's thread pool (fixed when its runtime starts, so before any
    op), op determinism and, through Keras, its global seed. Nothing is
    imported here: a cell that needs only PyTorch, copied with its setup,
    does not wait for TensorFlow to load. Each framework ends up exactly as
    :func:`pin_threads` and :func:`seed_everything` would leave it if they
    were called just after it loaded, and loading one leaves Python's and
    NumPy's random state as it found it (a framework that draws from them
    while it loads would otherwise shift every later draw, such as the seed
    of Keras's global generator, by where in the page it was imported).

    In a fresh process (the frameworks must not have loaded yet):

    >>> from companion.processes import run_python
    >>> code = (
    ...     "from companion.reproducibility import prepare_chapter; print(prepare_chapter()); "
    ...     "import torch, tensorflow as tf; "
    ...     "print(torch.get_num_threads(), tf.config.threading.get_intra_op_parallelism_threads())"
    ... )
    >>> print(run_python(["-c", code]).stdout.strip())
    seed 0; 1 intra-op thread in torch and in tensorflow, set as each loads
    1 1
    """
    from wrapt import register_post_import_hook

    from companion.quiet import quiet_tensorflow_logs

    _check_seed(seed)
    check_int("threads", threads, minimum=1)
    # TensorFlow's Python warnings stay as a fresh kernel shows them (the C++ level
    # acts only before TensorFlow loads), so a page prints the same lines whether
    # TensorFlow was imported before this cell or after it.
    quiet_tensorflow_logs(python_logger=False)
    seed_everything(seed, frameworks=())
    keeper = _RandomStateAcrossImports.install(
        ("torch", "tensorflow", "keras")
    )
    prepare = {
        "torch": lambda torch: _prepare_torch(torch, seed, threads),
        "tensorflow": lambda tf: _prepare_tensorflow(tf, threads),
        "keras": lambda keras: _seed_keras(keras, seed),
    }
    for name, hook in prepare.items():
        # A hook runs when its module has loaded (at once if it already has).
        register_post_import_hook(
            lambda module, hook=hook, name=name: (
                hook(module),
                keeper.loaded(name),
            ),
            name,
        )
    names = " and in ".join(MODULES[name] for name in FRAMEWORKS)
    plural = "" if threads == 1 else "s"
    return f"seed {seed}; {threads} intra-op thread{plural} in {names}, set as each loads"


class _RandomStateAcrossImports:
    """An import finder that notes Python's and NumPy's random state when a
    framework starts loading, for :meth:`loaded` to put back when it is done."""

    def __init__(self, names) -> None:
        self.names = frozenset(names)
        self.saved: tuple | None = None
        self.loading: str | None = None

    @classmethod
    def install(cls, names) -> _RandomStateAcrossImports:
        """A new keeper, first on ``sys.meta_path`` (in place of an earlier one)."""
        import sys

        sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, cls)]
        keeper = cls(names)
        sys.meta_path.insert(0, keeper)
        return keeper

    def find_spec(
        self, fullname, _path=None, _target=None
    ):  # the finder protocol
        import sys

        # The outermost framework import keeps the state (Keras loads TensorFlow).
        if (
            self.saved is None
            and fullname in self.names
            and fullname not in sys.modules
        ):
            self.saved = (random.getstate(), np.random.get_state())  # noqa: NPY002
            self.loading = fullname
        # Returns None: finding the module is left to the other finders.

    def loaded(self, name: str) -> None:
        if name == self.loading:
            random.setstate(self.saved[0])
            np.random.set_state(self.saved[1])  # noqa: NPY002
            self.saved = self.loading = None


def _prepare_torch(torch, seed: int, threads: int) -> None:
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def _prepare_tensorflow(tf, threads: int) -> None:
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.experimental.enable_op_determinism()
    # TensorFlow is seeded through Keras (its global seed and Keras's own),
    # before any TensorFlow op can run: load Keras now, unless it is Keras
    # that is loading TensorFlow, in which case it seeds when it has loaded.
    import sys

    if "keras" not in sys.modules:
        import keras  # noqa: F401  (its hook seeds it)


def _seed_keras(keras, seed: int) -> None:
    # keras.utils.set_random_seed also seeds Python and NumPy, which the
    # chapter seeded already and may have drawn from since: keep their state.
    python_state, numpy_state = random.getstate(), np.random.get_state()  # noqa: NPY002
    keras.utils.set_random_seed(seed)
    random.setstate(python_state)
    np.random.set_state(numpy_state)  # noqa: NPY002
