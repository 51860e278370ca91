"""The files the book's draw-a-digit page loads: both exported models and the runtime.

The page (``docs/browser/draw-a-digit.md``) classifies a drawing with the
digits CNN of both frameworks, exported to ONNX, in onnxruntime-web. Its
models are not committed: the book's build makes them by running::

    python -m companion.deployment.demo_site OUT

which trains each framework's model as the deployment chapter does (same
seed, same settings), exports it along the same ONNX route, and writes:

``OUT/models/pytorch.onnx``, ``OUT/models/keras.onnx``
    the two models (channels-first and channels-last input);
``OUT/models/samples.json``
    one test digit per class, on the data set's 0 to 16 scale, for the page's
    "sample digit" button and its browser test;
``OUT/models/manifest.json``
    versions, test accuracy, and the key of what the files were made from;
``OUT/ort/``
    the three onnxruntime-web files the page imports (from ``node_modules``).

A run whose key (a hash of the companion's source and the versions of the
packages that shape the models) matches the manifest's does nothing, so a
build with nothing changed spends a fraction of a second here.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

import numpy as np

from companion.deployment import web_runtimes
from companion.validation import check_text

#: The distributions whose versions decide what the models compute.
DISTRIBUTIONS = (
    "torch",
    "tensorflow-cpu",
    "keras",
    "onnx",
    "onnxscript",
    "numpy",
    "scikit-learn",
)
#: Epochs and learning rate of the deployment chapter's models.
EPOCHS, LEARNING_RATE = 8, 3e-3
MODELS = {"pytorch": "pytorch.onnx", "tensorflow": "keras.onnx"}


def _installed(name: str) -> str:
    try:
        return version(name)
    except Exception:
        return "absent"


def source_key() -> str:
    """A hash of the companion package's Python source, the versions above and the npm lock."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parents[1]
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    for name in (*DISTRIBUTIONS, "tensorflow"):
        digest.update(f"{name}=={_installed(name)}".encode())
    digest.update(json.dumps(web_runtimes.versions(), sort_keys=True).encode())
    return digest.hexdigest()[:20]


def _samples(split) -> dict:
    """The first test image of each class, on the 0..16 scale of the original data."""
    samples = []
    for digit in range(10):
        index = int(np.flatnonzero(split.y_test == digit)[0])
        pixels = np.rint(split.x_test[index, 0] * 16).astype(int)
        samples.append(
            {
                "label": digit,
                "test_index": index,
                "pixels": pixels.ravel().tolist(),
            }
        )
    return {"scale": 16, "samples": samples}


def _train_and_export(models: Path) -> dict:
    from companion.quiet import quiet_tensorflow_logs

    quiet_tensorflow_logs()
    from companion.cnn import build_keras_cnn, build_torch_cnn
    from companion.digits import load_digits_split
    from companion.export_pytorch import export_torch, torch_logits
    from companion.export_tensorflow import export_keras
    from companion.logits import keras_logits
    from companion.reproducibility import pin_threads, seed_everything
    from companion.training import TrainingConfig, train_keras, train_torch

    seed_everything(0)
    pin_threads(1)
    split = load_digits_split(seed=0)
    config = TrainingConfig(epochs=EPOCHS, learning_rate=LEARNING_RATE)
    torch_model = build_torch_cnn(seed=0)
    train_torch(torch_model, split, config)
    keras_model = build_keras_cnn(seed=0)
    train_keras(keras_model, split, config)
    accuracy = {
        "pytorch": float(
            np.mean(
                torch_logits(torch_model, split.x_test).argmax(1)
                == split.y_test
            )
        ),
        "tensorflow": float(
            np.mean(
                keras_logits(keras_model, split.x_test).argmax(1)
                == split.y_test
            )
        ),
    }
    with tempfile.TemporaryDirectory(prefix="demo-export-") as scratch:
        records = {
            "pytorch": export_torch(
                torch_model, "onnx", Path(scratch), split.x_train[:32]
            ),
            "tensorflow": export_keras(keras_model, "onnx", Path(scratch)),
        }
        for framework, record in records.items():
            if not record.worked:
                raise RuntimeError(
                    f"the {framework} ONNX export failed: {record.error}"
                )
            (models / MODELS[framework]).write_bytes(record.path.read_bytes())
    (models / "samples.json").write_text(
        json.dumps(_samples(split)), encoding="utf-8"
    )
    return accuracy


def _made_from(manifest: Path) -> str | None:
    """The key a manifest records, or None if there is none."""
    if not manifest.is_file():
        return None
    return json.loads(manifest.read_text(encoding="utf-8")).get("key")


def build(out: Path, *, force: bool = False) -> bool:
    """Write the page's files into ``out`` unless they are up to date; return whether it did."""
    out = Path(out)
    key = source_key()
    manifest_path = out / "models" / "manifest.json"
    if not force and _made_from(manifest_path) == key:
        return False
    (out / "models").mkdir(parents=True, exist_ok=True)
    web_runtimes.copy_onnxruntime_web(out / "ort")
    accuracy = _train_and_export(out / "models")
    manifest = {
        "key": key,
        "models": MODELS,
        "test_accuracy": accuracy,
        "versions": {name: _installed(name) for name in DISTRIBUTIONS},
        "npm": web_runtimes.versions(),
    }
    manifest_path.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m companion.deployment.demo_site",
        description="Train and export the models of the draw-a-digit page, with its runtime.",
    )
    parser.add_argument(
        "out", type=Path, help="folder to write models/ and ort/ into"
    )
    parser.add_argument(
        "--force", action="store_true", help="rebuild even if up to date"
    )
    args = parser.parse_args(argv)
    check_text("out", str(args.out))
    try:
        made = build(args.out, force=args.force)
    except (FileNotFoundError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(("wrote" if made else "up to date:") + f" {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
