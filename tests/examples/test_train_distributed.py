"""examples/train_distributed.py, run as a reader would, on tiny settings."""

import re

import pytest
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


def test_a_run_past_its_deadline_fails_in_one_line():
    result = run(
        "train_distributed.py", "--framework", "pytorch", "--steps", "2", "--timeout", "0.5"
    )
    assert result.returncode == 1
    assert result.stderr.strip().startswith("error:")
    assert "killed at the deadline" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
