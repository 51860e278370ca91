"""examples/port_model.py: a saved model converted and checked, clear refusals, bad arguments."""

from __future__ import annotations

import numpy as np
import pytest
from example_scripts import run_example

from companion.processes import last_line


def run(*args: str, cwd=None):
    return run_example("port_model.py", *args, cwd=cwd)


@pytest.fixture
def saved_module(tmp_path):
    """A small PyTorch CNN saved with torch.save, and an example batch for it."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    module = nn.Sequential(
        nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(64, 5)
    ).eval()
    torch.save(module, tmp_path / "cnn.pt")
    example = np.random.default_rng(0).normal(size=(4, 3, 8, 8)).astype(np.float32)
    np.save(tmp_path / "example.npy", example)
    return module, example


def test_a_pytorch_file_becomes_a_keras_file_that_computes_the_same(saved_module, tmp_path):
    import keras
    import torch

    module, example = saved_module
    done = run("cnn.pt", "cnn.keras", "--example", "example.npy", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "cnn.pt (PyTorch, 437 weights) -> cnn.keras (Keras, 437 weights)" in done.stdout
    assert "(ok)" in done.stdout
    model = keras.saving.load_model(tmp_path / "cnn.keras")
    with torch.no_grad():
        expected = module(torch.from_numpy(example)).numpy()
    got = np.asarray(model(example.transpose(0, 2, 3, 1)))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.usefixtures("saved_module")
def test_an_impossible_tolerance_fails_the_check_in_one_line(tmp_path):
    done = run("cnn.pt", "cnn.keras", "--input-shape", "3,8,8", "--rtol", "1e-12", cwd=tmp_path)
    assert done.returncode == 1
    # TensorFlow's C++ runtime may log a line or two first: the error is the last line.
    assert last_line(done.stderr).startswith("error: OutputMismatchError: the converted model")
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "cnn.keras").exists()  # nothing written


def test_an_unsupported_layer_is_named_in_one_line(tmp_path):
    import torch
    from torch import nn

    torch.save(nn.Sequential(nn.Conv2d(1, 2, 3), nn.Upsample(scale_factor=2)), tmp_path / "up.pt")
    done = run("up.pt", "up.keras", "--input-shape", "1,6,6", cwd=tmp_path)
    assert done.returncode == 1
    assert last_line(done.stderr) == (
        "error: UnsupportedLayerError: cannot convert Upsample at '1': "
        "no Keras translation for this module"
    )


def test_an_existing_destination_needs_force(tmp_path):
    (tmp_path / "in.keras").write_bytes(b"")
    (tmp_path / "out.pt").write_bytes(b"")
    done = run("in.keras", "out.pt", cwd=tmp_path)
    assert done.returncode == 2
    assert "out.pt exists; pass --force" in done.stderr


def test_a_file_that_is_no_model_fails_in_one_line(tmp_path):
    (tmp_path / "broken.keras").write_bytes(b"not a zip file")
    done = run("broken.keras", "out.pt", cwd=tmp_path)
    assert done.returncode == 1
    assert last_line(done.stderr).startswith(
        "error: ValueError: broken.keras is not a readable .keras file"
    )
    assert "Traceback" not in done.stderr
