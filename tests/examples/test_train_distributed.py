"""examples/train_distributed.py: a run past its deadline.

That two processes end with the one-process weights is checked on the
commands the scaling chapter shows (``test_shown_commands.py``).
"""

from example_scripts import run_example as run


def test_a_run_past_its_deadline_fails_in_one_line():
    result = run(
        "train_distributed.py", "--framework", "pytorch", "--steps", "2", "--timeout", "0.5"
    )
    assert result.returncode == 1
    assert result.stderr.strip().startswith("error:")
    assert "killed at the deadline" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
