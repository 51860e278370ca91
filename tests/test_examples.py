"""Run the example scripts as a reader would: --help, a real run, bad arguments."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SCRIPTS = sorted(EXAMPLES.glob("*.py"))


def run(script: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args], capture_output=True, text=True, cwd=cwd
    )


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


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--x", "nan"], "--x must be a finite number"),
        (["--x", "two"], "invalid float value"),
        (["--framework", "jax"], "invalid choice: 'jax'"),
    ],
)
def test_gradient_graph_rejects_bad_arguments(args, message):
    result = run("gradient_graph.py", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_gradient_graph_reports_an_unwritable_directory_in_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = run("gradient_graph.py", "--framework", "pytorch", "--out", str(blocker / "sub"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("error: cannot create output directory")
