"""One Keras model on several backends, each in its own process."""

import numpy as np
import pytest

from companion.cnn import build_keras_cnn, build_torch_cnn
from companion.digits import load_digits_split
from companion.keras_backends import available_backends, run_on_backend
from companion.processes import run_python
from companion.weight_porting import keras_logits, load_keras_weights, save_torch_weights


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    path = tmp_path_factory.mktemp("weights") / "init.safetensors"
    return save_torch_weights(build_torch_cnn(seed=0), path)


def test_available_backends_reports_installed_packages():
    backends = available_backends()
    assert backends["tensorflow"] is True
    assert backends["torch"] is True


def test_the_torch_backend_reproduces_the_tensorflow_logits(weights):
    report = run_on_backend("torch", weights, epochs=1)
    assert report["backend"] == "torch"
    assert report["output_type"] == "torch.Tensor"
    assert report["tensorflow_imported"] is False
    assert report["threads"] == {"torch": 1}
    assert len(report["history"]["train_loss"]) == 1
    # In this process Keras runs on TensorFlow: same weights, same logits.
    model = build_keras_cnn()
    load_keras_weights(model, weights)
    here = keras_logits(model, load_digits_split(seed=0).x_test)
    assert np.abs(np.array(report["initial_logits"]) - here).max() <= 1e-5


def test_run_on_backend_validates(weights, tmp_path):
    with pytest.raises(ValueError, match="backend must be one of"):
        run_on_backend("theano", weights)
    with pytest.raises(FileNotFoundError):
        run_on_backend("torch", tmp_path / "missing.safetensors")
    with pytest.raises(ValueError, match="epochs"):
        run_on_backend("torch", weights, epochs=0)
    with pytest.raises(ValueError, match="threads"):
        run_on_backend("torch", weights, threads=0)
    if not available_backends()["jax"]:
        with pytest.raises(RuntimeError, match="not installed"):
            run_on_backend("jax", weights)


def test_the_child_insists_on_keras_backend_being_set_first(weights):
    done = run_python(
        ["-m", "companion.keras_backends", "--backend", "torch", "--weights", weights],
        environment={"KERAS_BACKEND": "tensorflow"},
    )
    assert done.returncode == 2
    assert "set it to 'torch' before starting Python" in done.stderr
