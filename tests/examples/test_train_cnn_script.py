"""examples/train_cnn.py and examples/port_weights.py, run as a reader would, on tiny settings."""

import json

import pytest
from example_scripts import assert_cannot_create_output, unwritable_directory
from example_scripts import run_example as run


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One short PyTorch run and one short TensorFlow run from the same initial weights."""
    out = tmp_path_factory.mktemp("runs")
    for framework in ("pytorch", "tensorflow"):
        result = run("train_cnn.py", "--framework", framework, "--epochs", "1", "--out", str(out))
        assert result.returncode == 0, result.stderr
        assert "epoch 1:" in result.stdout  # progress per epoch
    return out


def test_training_writes_weights_and_metrics(trained):
    for framework in ("pytorch", "tensorflow"):
        metrics = json.loads((trained / f"metrics-{framework}.json").read_text())
        assert metrics["framework"] == framework
        assert len(metrics["history"]["train_loss"]) == 1
        assert 0.1 < metrics["test_accuracy"] <= 1.0
        assert metrics["parameters"] == 3658
        weights = trained / metrics["weights"]
        assert weights.read_bytes()[8:9] == b"{"  # safetensors: 8-byte length, then JSON
    pytorch = json.loads((trained / "metrics-pytorch.json").read_text())
    keras = json.loads((trained / "metrics-tensorflow.json").read_text())
    # Same initial weights and batches: the first-epoch losses agree closely.
    assert abs(pytorch["history"]["train_loss"][0] - keras["history"]["train_loss"][0]) < 1e-2


def test_train_cnn_reports_an_unwritable_directory_in_one_line(tmp_path):
    out = unwritable_directory(tmp_path)
    assert_cannot_create_output(run("train_cnn.py", "--framework", "pytorch", "--out", str(out)))


def test_port_weights_converts_and_checks_both_ways(trained, tmp_path):
    as_keras = tmp_path / "as-keras.safetensors"
    result = run(
        "port_weights.py", str(trained / "weights-pytorch.safetensors"), str(as_keras), "--check"
    )
    assert result.returncode == 0, result.stderr
    assert "(pytorch layout) ->" in result.stdout
    assert "(ok)" in result.stdout
    back = tmp_path / "as-pytorch.safetensors"
    result = run(
        "port_weights.py", str(trained / "weights-tensorflow.safetensors"), str(back), "--check"
    )
    assert result.returncode == 0, result.stderr
    assert "(keras layout) -> " in result.stdout


def test_port_weights_check_catches_the_flatten_bug(trained, tmp_path):
    result = run(
        "port_weights.py",
        str(trained / "weights-pytorch.safetensors"),
        str(tmp_path / "bad.safetensors"),
        "--check",
        "--no-reorder-flatten",
    )
    assert result.returncode == 1
    assert "MISMATCH" in result.stdout


def test_port_weights_errors_are_one_line(trained, tmp_path):
    result = run("port_weights.py", str(tmp_path / "missing.safetensors"), str(tmp_path / "x"))
    assert result.returncode == 2
    assert "does not exist" in result.stderr
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_text("hello")
    result = run("port_weights.py", str(garbage), str(tmp_path / "y.safetensors"))
    assert result.returncode == 1
    assert result.stderr.strip().startswith("error:")
    assert len(result.stderr.strip().splitlines()) == 1
    existing = tmp_path / "exists.safetensors"
    existing.write_text("x")
    result = run("port_weights.py", str(trained / "weights-pytorch.safetensors"), str(existing))
    assert result.returncode == 2
    assert "pass --force" in result.stderr
    source = trained / "weights-pytorch.safetensors"
    result = run("port_weights.py", str(source), str(source), "--force")
    assert result.returncode == 2
    assert "different files" in result.stderr
