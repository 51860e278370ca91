"""What torch.compile captured: graphs, graph breaks, generated kernels, HLO fusions."""

import pytest
import tensorflow as tf
import torch

from companion.capture import (
    GraphRecorder,
    graph_breaks,
    hlo_fusions,
    inductor_kernels,
    strip_hlo_metadata,
)


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
    assert "test_capture.py, line" in only.location
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
