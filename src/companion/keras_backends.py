"""Run the same Keras model on several Keras 3 backends, each in a process of its own.

Keras 3 reads its backend (``KERAS_BACKEND``: ``tensorflow``, ``torch``,
``jax``, ...) once, when ``keras`` is first imported, and cannot switch
afterwards. To run one model on two backends, :func:`run_on_backend` starts
``python -m companion.keras_backends`` with the variable set. The child
builds the digits CNN of :mod:`companion.cnn`, loads its weights from a
safetensors file (so every backend starts from the same numbers), computes
the test logits, trains with :func:`companion.training.train_keras` and
reports back as JSON.

>>> sorted(available_backends())
['jax', 'tensorflow', 'torch']
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from itertools import chain
from pathlib import Path

from companion.cli import add_number_option
from companion.cnn import build_keras_cnn
from companion.digits import load_digits_split
from companion.frameworks import PYTORCH, TENSORFLOW
from companion.logits import keras_logits
from companion.processes import check_run, last_line, run_python
from companion.reproducibility import pin_threads, seed_everything
from companion.training import TrainingConfig, evaluate_keras, train_keras
from companion.validation import check_choice, check_int
from companion.weight_porting import load_keras_weights

#: Keras backend name -> the package it needs.
BACKEND_PACKAGES = {"tensorflow": "tensorflow", "torch": "torch", "jax": "jax"}


def available_backends() -> dict[str, bool]:
    """Which Keras training backends have their package installed (nothing is imported)."""
    return {
        name: importlib.util.find_spec(pkg) is not None
        for name, pkg in BACKEND_PACKAGES.items()
    }


#: The framework (as :mod:`companion.reproducibility` names it) each backend
#: runs on, to seed and pin; JAX has no global generator or pool to set.
BACKEND_FRAMEWORKS = {
    "tensorflow": (TENSORFLOW,),
    "torch": (PYTORCH,),
    "jax": (),
}


def _check_backend(backend) -> str:
    return check_choice("backend", backend, BACKEND_PACKAGES)


def run_on_backend(
    backend: str,
    weights,
    *,
    epochs: int = 2,
    seed: int = 0,
    threads: int = 1,
    timeout: float = 900,
) -> dict:
    """Train the digits CNN with Keras on ``backend`` in a fresh process; return its report.

    ``weights`` is a weights file from :mod:`companion.weight_porting` (either
    layout). The report holds the backend Keras says it runs on, the type of
    tensor the model returns, the test logits before training, the training
    history, the test accuracy after training, and how long importing Keras
    took in the child. ``threads`` pins the backend's intra-op thread pool
    (one thread by default: the model is tiny, and on a busy machine extra
    threads mostly wait for each other).
    """
    _check_backend(backend)
    weights = Path(weights)
    if not weights.is_file():
        raise FileNotFoundError(f"no weights file at {weights}")
    check_int("epochs", epochs, minimum=1)
    check_int("threads", threads, minimum=1)
    if not available_backends()[backend]:
        raise RuntimeError(
            f"the Keras backend {backend!r} needs the package "
            f"{BACKEND_PACKAGES[backend]!r}, which is not installed"
        )
    options = {
        "--backend": backend,
        "--weights": weights,
        "--epochs": epochs,
        "--seed": seed,
        "--threads": threads,
    }
    done = run_python(
        ["-m", "companion.keras_backends", *chain(*options.items())],
        environment={"KERAS_BACKEND": backend},
        timeout=timeout,
    )
    check_run(done, f"Keras on the {backend} backend")
    return json.loads(last_line(done.stdout))


def _child(
    backend: str, weights: Path, epochs: int, seed: int, threads: int
) -> dict:
    """What runs inside the child process (KERAS_BACKEND already set)."""
    start = time.perf_counter()
    import keras

    import_seconds = time.perf_counter() - start
    if keras.backend.backend() != backend:
        raise RuntimeError(
            f"asked for {backend!r}, but Keras runs on {keras.backend.backend()!r}"
        )

    # Nothing below draws random numbers (the weights come from a file, the batch
    # order from the seed); seeding is a safeguard. keras.utils.set_random_seed
    # would import TensorFlow even on the torch backend, so seed the backend itself.
    framework = BACKEND_FRAMEWORKS[backend]
    threads_set = pin_threads(threads, frameworks=framework)
    seed_everything(seed, frameworks=framework)
    split = load_digits_split(seed=0)
    model = build_keras_cnn()
    load_keras_weights(model, weights)
    output = model(split.x_test[:2].transpose(0, 2, 3, 1))
    logits = keras_logits(model, split.x_test)
    history = train_keras(
        model, split, TrainingConfig(epochs=epochs, seed=seed)
    )
    test_loss, test_accuracy = evaluate_keras(
        model, split.x_test, split.y_test
    )
    return {
        "backend": keras.backend.backend(),
        "keras": keras.__version__,
        "output_type": f"{type(output).__module__}.{type(output).__qualname__}",
        "tensorflow_imported": "tensorflow" in sys.modules,
        "import_seconds": import_seconds,
        "threads": threads_set,
        "initial_logits": logits.tolist(),
        "history": history.as_dict(),
        "test_loss": test_loss,
        "test_accuracy": test_accuracy,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Train the digits CNN with Keras on one backend and print a JSON report. "
        "Set KERAS_BACKEND to the same backend before starting this process."
    )
    parser.add_argument(
        "--backend", choices=sorted(BACKEND_PACKAGES), required=True
    )
    parser.add_argument(
        "--weights",
        type=Path,
        required=True,
        help="weights file (safetensors)",
    )
    add_number_option(parser, "--epochs", "training epochs", default=2)
    add_number_option(
        parser,
        "--seed",
        "initial weights and batch order",
        default=0,
        kind=int,
    )
    add_number_option(parser, "--threads", "intra-op threads", default=1)
    args = parser.parse_args(argv)
    if os.environ.get("KERAS_BACKEND") != args.backend:
        parser.error(
            f"KERAS_BACKEND is {os.environ.get('KERAS_BACKEND')!r}; set it to {args.backend!r} "
            "before starting Python (Keras reads it once, at import)"
        )
    if not args.weights.is_file():
        parser.error(f"no weights file at {args.weights}")
    print(
        json.dumps(
            _child(
                args.backend,
                args.weights,
                args.epochs,
                args.seed,
                args.threads,
            )
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
