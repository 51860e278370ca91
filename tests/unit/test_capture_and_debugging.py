"""Graph-capture inspection and the scripted debugger."""

import networkx as nx
import numpy as np
import pytest
import torch

from companion.capture import (
    GraphRecorder,
    graph_breaks,
    hlo_fusions,
    inductor_kernels,
    strip_hlo_metadata,
)
from companion.debugging import (
    innermost_frames,
    install_nan_guards,
    report_error,
    run_with_pdb,
    scripted_breakpoints,
    shorten_paths,
    source_line,
)
from companion.graph_inspection import describe_graph, draw_graph, fx_graph


def sine_then_branch(x):
    y = torch.sin(x) * 2
    if y.sum() > 0:
        return y.exp()
    return y.clamp(min=0)


def early_exit_loop(x):
    for _ in range(3):
        x = x * 2
        if x.sum() > 10:
            break
    return x


def straight_line(x):
    return torch.relu(x) * 2 + 1


class TinyMLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = torch.nn.Linear(3, 4)
        self.out = torch.nn.Linear(4, 1)

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x)))


# --- graph capture -------------------------------------------------------------


def test_recorder_counts_one_graph_per_piece_between_breaks():
    recorder = GraphRecorder()
    compiled = torch.compile(sine_then_branch, backend=recorder)
    x = torch.linspace(0.0, 1.0, 5)
    torch.testing.assert_close(compiled(x), sine_then_branch(x))
    assert len(recorder.graphs) == 2  # up to the branch, then the branch taken
    assert "torch.sin" in recorder.codes()[0]
    compiled(x)  # same input: the stored graphs are reused
    assert len(recorder.graphs) == 2


def test_graph_breaks_reports_reason_and_source_line():
    report = graph_breaks(sine_then_branch, torch.ones(3))
    assert (report.graph_count, report.graph_break_count) == (2, 1)
    (only,) = report.breaks
    assert only.code == "if y.sum() > 0:"
    assert "test_capture_and_debugging.py, line" in only.location
    assert "sine_then_branch" in only.location
    assert not only.location.startswith("/"), "paths should be shortened"


def test_graph_breaks_reports_a_frame_left_to_run_eagerly():
    report = graph_breaks(early_exit_loop, torch.ones(3))
    assert report.graph_count == 0
    assert report.graph_break_count == 0
    assert any("graph break in loop" in reason for reason in report.skipped)
    assert "left to run eagerly" in str(report)


def test_graph_breaks_without_breaks():
    report = graph_breaks(straight_line, torch.ones(3))
    assert (report.graph_count, report.graph_break_count, report.breaks) == (1, 0, ())


def test_graph_breaks_rejects_non_callables():
    with pytest.raises(TypeError, match="callable"):
        graph_breaks(42)


def test_hlo_helpers():
    hlo = (
        "%fused_computation (p: f32[4]) -> f32[4] {\n"
        '  %m = f32[4] multiply(%p, %p), metadata={op_type="Mul" source_file="/x/y.py"}\n'
        "}\n"
        "ENTRY %main (a: f32[4]) -> f32[4] {\n"
        "  ROOT %f = f32[4] fusion(%a), kind=kLoop, calls=%fused_computation\n"
        "}\n"
    )
    assert "metadata" not in strip_hlo_metadata(hlo)
    assert "/x/y.py" not in strip_hlo_metadata(hlo)
    assert hlo_fusions(hlo) == ["ROOT %f = f32[4] fusion(%a), kind=kLoop, calls=%fused_computation"]
    with pytest.raises(ValueError, match="ENTRY"):
        hlo_fusions("not hlo")
    with pytest.raises(TypeError):
        strip_hlo_metadata(b"bytes")


def test_real_xla_hlo_shows_one_fusion_for_an_elementwise_chain():
    import tensorflow as tf

    function = tf.function(lambda x: tf.tanh(x * 2.0 + 1.0) * x, jit_compile=True)
    x = tf.ones([8])
    hlo = function.experimental_get_compiler_ir(x)(stage="optimized_hlo")
    assert len(hlo_fusions(hlo)) == 1


def test_inductor_kernel_names():
    code = "cpp_fused_add_0 = async_compile.cpp_pybinding(\ntriton_poi_1 = async_compile.triton(\n"
    assert inductor_kernels(code) == ["cpp_fused_add_0", "triton_poi_1"]
    assert inductor_kernels("nothing here") == []
    with pytest.raises(TypeError):
        inductor_kernels(None)


# --- fx graphs -----------------------------------------------------------------


def test_fx_graph_of_an_exported_program_marks_parameters_as_variables():
    exported = torch.export.export(TinyMLP(), (torch.ones(2, 3),))
    graph = fx_graph(exported)
    kinds = {data["label"]: data["kind"] for _, data in graph.nodes(data=True)}
    assert kinds["hidden.weight"] == "variable"
    assert kinds["x"] == "input"
    assert kinds["output 0"] == "output"
    ops = [graph.nodes[n]["label"] for n in nx.topological_sort(graph)]
    assert [op for op in ops if op in {"linear", "relu"}] == ["linear", "relu", "linear"]
    assert draw_graph(graph).axes  # draws without error


def test_fx_graph_of_a_dynamo_graph_and_constants():
    recorder = GraphRecorder()
    torch.compile(straight_line, backend=recorder)(torch.ones(3))
    text = describe_graph(fx_graph(recorder.graphs[0]))
    assert "relu (op)" in text
    assert "mul (op) <- relu, 2" in text
    without = fx_graph(recorder.graphs[0], show_constants=False)
    assert "constant" not in {d["kind"] for _, d in without.nodes(data=True)}


def test_fx_graph_rejects_other_objects():
    with pytest.raises(TypeError, match="ExportedProgram"):
        fx_graph(TinyMLP())


# --- debugging -----------------------------------------------------------------


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
    assert "test_capture_and_debugging.py" in run.transcript
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
    import sys

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
    assert path.endswith("test_capture_and_debugging.py")
    with open(path, encoding="utf-8") as source:
        assert "# stop here" in source.readlines()[line - 1]
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
