"""examples/train_distributed.py, run as a reader would, on tiny settings."""

import re

import pytest
from example_scripts import assert_usage_error
from example_scripts import run_example as run


@pytest.mark.parametrize("framework", ["pytorch", "tensorflow"])
def test_two_processes_match_one(framework):
    result = run(
        "train_distributed.py", "--framework", framework, "--processes", "2", "--steps", "3"
    )
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    match = re.fullmatch(r"max \|Δw\| = (\S+)", last)
    assert match, last
    assert float(match.group(1)) < 1e-6
    assert "2 processes:" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--framework", "jax"], "invalid choice: 'jax'"),
        (["--framework", "pytorch", "--processes", "1"], "--processes must be between 2 and 8"),
        (["--framework", "pytorch", "--processes", "3"], "must be a multiple of --processes"),
        (["--framework", "pytorch", "--steps", "0"], "must be at least 1, got 0"),
        (["--framework", "pytorch", "--learning-rate", "-1"], "--learning-rate must be a positive"),
        (["--framework", "pytorch", "--timeout", "nan"], "--timeout must be a positive"),
        (["--processes", "2"], "the following arguments are required: --framework"),
    ],
)
def test_bad_arguments_are_one_line_errors(args, message):
    assert_usage_error(run("train_distributed.py", *args), message)


def test_a_run_past_its_deadline_fails_in_one_line():
    result = run(
        "train_distributed.py", "--framework", "pytorch", "--steps", "2", "--timeout", "0.5"
    )
    assert result.returncode == 1
    assert result.stderr.strip().startswith("error:")
    assert "killed at the deadline" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
