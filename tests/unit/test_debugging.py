"""The scripted debugger, NaN guards and readable expected errors."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from companion.debugging import (
    innermost_frames,
    install_nan_guards,
    report_error,
    run_with_pdb,
    scripted_breakpoints,
    shorten_paths,
    source_line,
)


def test_shorten_paths_rewrites_machine_specific_parts():
    text = (
        'File "/tmp/ipykernel_123/456789.py", line 3; '
        "/home/u/.venv/lib/python3.11/site-packages/torch/nn/modules/module.py; "
        "/work/repo/src/companion/recurrent.py; "
        "/usr/lib/python3.11/bdb.py; "
        "/tmp/__autograph_generated_fileab12cd.py; <function f at 0x7f12ab34cd56>"
    )
    short = shorten_paths(text)
    assert '"<notebook cell>"' in short
    assert "torch/nn/modules/module.py" in short
    assert "companion/recurrent.py" in short
    assert "; bdb.py" in short
    assert "<autograph code>" in short
    assert "0x7f12ab34cd56" not in short
    assert "/home/u" not in short
    assert "/work/repo" not in short


def test_innermost_frames_keeps_the_last_frame_of_each_run():
    text = "\n".join(
        [
            "head",
            '  File "a.py", line 1, in <module>',
            '  File "b.py", line 2, in f',
            "    f()",
            "middle",
            '  File "c.py", line 3, in g',
        ]
    )
    assert innermost_frames(text).splitlines() == [
        "head",
        "  [1 outer frame]",
        '  File "b.py", line 2, in f',
        "    f()",
        "middle",
        '  File "c.py", line 3, in g',
    ]


def test_report_error_prints_the_expected_error(capsys):
    with report_error(KeyError, ValueError, max_lines=1):
        raise ValueError("first line\nsecond line")
    assert capsys.readouterr().out == "ValueError: first line\n[...]\n"


def test_report_error_wraps_long_lines(capsys):
    with report_error(ValueError, width=20):
        raise ValueError("word " * 10)
    assert all(len(line) <= 20 for line in capsys.readouterr().out.splitlines())


def test_report_error_fails_when_nothing_is_raised():
    with pytest.raises(AssertionError, match="raised nothing"), report_error(ValueError):
        pass


def test_report_error_lets_other_errors_through():
    with pytest.raises(KeyError), report_error(ValueError):
        raise KeyError("other")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"max_lines": 0}, ValueError, "max_lines must be at least 1"),
        ({"width": -1}, ValueError, "width must be at least 1"),
        ({"max_lines": 1.5}, TypeError, "max_lines must be an int"),
    ],
)
def test_report_error_validates_its_arguments(kwargs, error, message):
    with pytest.raises(error, match=message), report_error(ValueError, **kwargs):
        raise ValueError


def test_report_error_needs_an_exception_class():
    with pytest.raises(TypeError, match="exception class"), report_error("ValueError"):
        pass


def accumulate(values):
    total = 0
    for step, value in enumerate(values):  # noqa: B007 (step is read by the debugger)
        total += value  # stop here
    return total


def test_run_with_pdb_stops_at_a_conditional_breakpoint():
    path, line = source_line(accumulate, "# stop here")
    run = run_with_pdb(
        accumulate,
        [1, 2, 3],
        commands=[f"break {path}:{line}, step == 2", "continue", "p step, total", "continue"],
    )
    assert run.result == 6
    assert "(Pdb) p step, total\n(2, 3)\n" in run.transcript
    assert "test_debugging.py" in run.transcript
    assert path not in run.transcript, "the transcript shortens paths"


def test_run_with_pdb_explains_a_script_that_runs_out():
    with pytest.raises(RuntimeError, match="ran out of commands"):
        run_with_pdb(accumulate, [1], commands=["p values"])


@pytest.mark.parametrize(("commands", "error"), [([], ValueError), ("continue", TypeError)])
def test_run_with_pdb_validates_commands(commands, error):
    with pytest.raises(error):
        run_with_pdb(accumulate, [1], commands=commands)


def halve(x):
    breakpoint()
    return x / 2


def test_scripted_breakpoints_answer_every_breakpoint_call():
    hook = sys.breakpointhook
    with scripted_breakpoints(["p x", "continue", "p x", "continue"]) as session:
        assert halve(4) == 2
        assert halve(6) == 3
    assert session.hits == 2
    assert session.transcript.count("(Pdb) p x") == 2
    assert "\n6\n" in session.transcript
    assert sys.breakpointhook is hook


def test_source_line_finds_the_line_or_says_why_not():
    path, line = source_line(accumulate, "# stop here")
    assert path.endswith("test_debugging.py")
    assert "# stop here" in Path(path).read_text(encoding="utf-8").splitlines()[line - 1]
    with pytest.raises(ValueError, match="does not occur"):
        source_line(accumulate, "no such text")


def test_nan_guards_name_the_first_bad_layer():
    class SquareRoot(torch.nn.Module):
        def forward(self, x):
            return torch.sqrt(x)

    model = torch.nn.Sequential(torch.nn.Identity(), SquareRoot(), torch.nn.Linear(2, 2))
    handles = install_nan_guards(model)
    model(torch.ones(1, 2))  # finite: no error
    with pytest.raises(FloatingPointError, match=r"output of 1 \(SquareRoot\)"):
        model(-torch.ones(1, 2))
    for handle in handles:
        handle.remove()
    assert torch.isnan(model(-torch.ones(1, 2))).all()
    with pytest.raises(TypeError, match=r"nn\.Module"):
        install_nan_guards(np.zeros(2))


def test_breakpoints_do_not_leak_between_sessions():
    path, line = source_line(accumulate, "# stop here")
    for _ in range(2):
        run = run_with_pdb(
            accumulate,
            [1, 2],
            commands=[f"break {path}:{line}", "continue", "continue", "continue"],
        )
        assert "Breakpoint 1 at" in run.transcript
    with scripted_breakpoints(["continue", "continue"]) as session:
        halve(2)
        halve(4)
    assert session.hits == 2
    assert "bdb.py" not in session.transcript


def test_scripted_breakpoints_explain_a_script_that_runs_out():
    with (
        pytest.raises(RuntimeError, match="ran out of commands"),
        scripted_breakpoints(["p x"]),
    ):
        halve(2)
