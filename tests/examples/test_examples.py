"""Run the example scripts as a reader would: --help, a real run, bad arguments."""

import json

import pytest
from example_scripts import (
    SCRIPTS,
    assert_cannot_create_output,
    unwritable_directory,
)
from example_scripts import run_example as run


@pytest.mark.parametrize("script", [s.name for s in SCRIPTS])
def test_every_example_has_help(script):
    result = run(script, "--help")
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout


def test_gradient_graph_checks_both_frameworks_and_writes_pictures(tmp_path):
    result = run("gradient_graph.py", "--x", "3", "--out", str(tmp_path), "--format", "png")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("matches 2x = 6") == 3  # autograd, GradientTape, tf.function
    for name in ("pytorch", "tensorflow"):
        picture = tmp_path / f"graph-{name}.png"
        assert picture.read_bytes().startswith(b"\x89PNG")


def test_gradient_graph_reports_an_unwritable_directory_in_one_line(tmp_path):
    out = unwritable_directory(tmp_path)
    assert_cannot_create_output(
        run("gradient_graph.py", "--framework", "pytorch", "--out", str(out))
    )


def test_benchmark_runs_on_tiny_settings_and_writes_json_and_a_plot(tmp_path):
    result = run(
        "benchmark.py",
        *("--models", "cnn", "--tasks", "predict", "--modes", "tf-function", "keras-on-batch"),
        *("--repeats", "2", "--number", "1", "--warmup", "1", "--threads", "1"),
        *("--device", "cpu", "--out", str(tmp_path), "--format", "png"),
    )
    assert result.returncode == 0, result.stderr
    assert "speed-up" in result.stdout
    data = json.loads((tmp_path / "benchmark.json").read_text())
    modes = [r["mode"] for r in data["results"]]
    assert modes == ["torch-eager", "tf-function", "keras-on-batch"]  # baseline added first
    assert all(r["error"] is None for r in data["results"])
    assert data["environment"]["threads"]["torch intra-op threads"] == 1
    assert data["settings"]["repeats"] == 2
    assert (tmp_path / "benchmark.png").read_bytes().startswith(b"\x89PNG")


def test_benchmark_reports_a_missing_gpu_in_one_line():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    result = run("benchmark.py", "--device", "cuda", "--models", "cnn")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("error: device 'cuda'")
    assert "Traceback" not in result.stderr


def test_benchmark_reports_an_unwritable_directory_in_one_line(tmp_path):
    assert_cannot_create_output(run("benchmark.py", "--out", str(unwritable_directory(tmp_path))))
