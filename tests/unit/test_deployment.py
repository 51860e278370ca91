"""The shared deployment machinery: export records, fresh-process runs, the matrix."""

from __future__ import annotations

import json
import warnings

import matplotlib
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from companion import deployment
from companion.deployment import (
    ArtifactRunError,
    ExportRecord,
    Route,
    RouteResult,
    accuracy,
    attempt_export,
    evaluate_route,
    matrix_findings,
    matrix_markdown,
    max_abs_diff,
    outputs_match,
    run_in_fresh_process,
)
from companion.processes import run_python
from companion.run_artifact import check_images


def onnx_route(name: str, framework: str = "pytorch", **fields) -> Route:
    """A route whose artifact onnxruntime runs; ``fields`` override the rest."""
    fields = {"exporter": name, "artifact": f"{name}.onnx", **fields}
    return Route(
        name=name, framework=framework, runner_format="onnx", runtime="onnxruntime", **fields
    )


NPY_ROUTE = onnx_route("npy", exporter="numpy.save", artifact="a.onnx")


@pytest.fixture
def onnx_model(tmp_path, linear_onnx):
    weight = np.arange(12, dtype=np.float32).reshape(4, 3) / 10
    return linear_onnx(tmp_path / "linear.onnx", weight, (1, 2, 2)), weight


def images(n=5):
    return np.random.default_rng(0).random((n, 1, 2, 2), dtype=np.float32)


def test_route_rejects_an_unknown_framework():
    with pytest.raises(ValueError, match="framework must be one of"):
        Route(
            name="x", framework="jax", exporter="e", runner_format="onnx", artifact="a", runtime="r"
        )


def test_attempt_export_records_warnings_prints_and_errors(tmp_path):
    def noisy(path):
        print("progress line")
        warnings.warn("old API", DeprecationWarning, stacklevel=1)
        warnings.warn("old API", DeprecationWarning, stacklevel=1)
        path.write_text("done")

    record = attempt_export(NPY_ROUTE, noisy, tmp_path / "a.onnx")
    assert record.worked
    assert record.warnings == ["DeprecationWarning: old API"]  # each message once
    assert "progress line" in record.log

    def broken(_path):
        raise KeyError("keras_tensor_10")

    failed = attempt_export(NPY_ROUTE, broken, tmp_path / "b.onnx")
    assert not failed.worked
    assert failed.error == "KeyError: 'keras_tensor_10'"
    assert failed.path is None


def test_attempt_export_notices_a_missing_artifact(tmp_path):
    record = attempt_export(NPY_ROUTE, lambda _path: None, tmp_path / "never.onnx")
    assert record.error == "the exporter returned without writing never.onnx"


def test_attempt_export_validates_its_arguments(tmp_path):
    with pytest.raises(TypeError, match="route must be a Route"):
        attempt_export("npy", lambda _path: None, tmp_path)
    with pytest.raises(TypeError, match="export must be callable"):
        attempt_export(NPY_ROUTE, "not callable", tmp_path)


def test_comparisons_check_shapes():
    assert max_abs_diff(np.ones(3), np.zeros(3)) == 1.0
    with pytest.raises(ValueError, match="must match"):
        max_abs_diff(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="labels must be"):
        accuracy(np.ones((3, 2)), np.ones(4))
    with pytest.raises(ValueError, match=r"logits must be 2-D \(N, classes\)"):
        accuracy(np.ones(3), np.ones(3))


def test_artifact_size_of_a_missing_path_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        deployment.artifact_size(tmp_path / "nothing")


def test_check_images_rejects_wrong_inputs():
    with pytest.raises(TypeError, match="numpy array"):
        check_images([[1.0]])
    with pytest.raises(TypeError, match="floating point"):
        check_images(np.zeros((1, 1, 2, 2), dtype=np.int64))
    with pytest.raises(ValueError, match="at least one image"):
        check_images(np.zeros((0, 1, 2, 2), dtype=np.float32))


def test_fresh_process_runs_onnx_without_any_framework(onnx_model):
    path, weight = onnx_model
    batch = images()
    run = run_in_fresh_process("onnx", path, batch, repeats=2)
    np.testing.assert_allclose(run.outputs, batch.reshape(5, 4) @ weight, rtol=1e-6)
    assert run.frameworks_loaded == ["onnxruntime"]
    assert run.batch_size == 5
    assert run.latency_one.repeats == 2
    assert run.latency_one.median_s > 0
    assert run.latency_batch.median_s > 0


def test_fresh_process_reports_a_broken_artifact_in_one_line(tmp_path):
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not an onnx file")
    with pytest.raises(ArtifactRunError) as caught:
        run_in_fresh_process("onnx", broken, images(), repeats=1)
    assert "\n" not in str(caught.value)


def test_fresh_process_validates_its_arguments(onnx_model):
    path, _ = onnx_model
    with pytest.raises(ValueError, match="runner_format must be one of"):
        run_in_fresh_process("pickle", path, images())
    with pytest.raises(ValueError, match="4 dimensions"):
        run_in_fresh_process("onnx", path, np.zeros((2, 2), dtype=np.float32))


def test_runner_command_line_prints_json_and_rejects_bad_input(onnx_model, tmp_path):
    path, _ = onnx_model
    batch = tmp_path / "images.npy"
    np.save(batch, images(3))
    command = ["-m", "companion.run_artifact", "onnx", path, batch]
    done = run_python([*command, "--repeats", "2"])
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["output_shape"] == [3, 3]
    assert report["modules"]["companion.cnn"] is False

    np.save(batch, np.zeros((3, 4), dtype=np.float32))
    bad = run_python(command)
    assert bad.returncode == 2
    assert bad.stderr.strip() == (
        "error: images must have 4 dimensions (batch first), got shape (3, 4)"
    )
    missing = run_python([*command[:3], tmp_path / "none.onnx", batch])
    assert missing.returncode == 2
    assert "Traceback" not in missing.stderr


def make_result(onnx_model, *, weight_change=0.0, lossy=False):
    path, weight = onnx_model
    route = onnx_route("lin", exporter="linear", artifact=path.name, lossy=lossy)
    record = ExportRecord(route, path, seconds=0.1)
    batch = images(6)
    reference = batch.reshape(6, 4) @ (weight + weight_change)
    labels = reference.argmax(1)
    return evaluate_route(record, batch, reference, labels, repeats=2)


def test_evaluate_route_marks_matching_and_wrong_outputs(onnx_model):
    good = make_result(onnx_model)
    assert good.status == "yes"
    assert good.max_abs_diff < 1e-6
    assert good.accuracy == 1.0
    wrong = make_result(onnx_model, weight_change=0.5)
    assert wrong.ran
    assert not wrong.worked
    assert wrong.status == "wrong outputs"


def test_a_lossy_route_is_judged_by_accuracy(onnx_model):
    result = make_result(onnx_model, weight_change=1e-3, lossy=True)
    assert result.max_abs_diff > deployment.FLOAT_TOLERANCE
    assert outputs_match(result)


def test_evaluate_route_keeps_the_export_error():
    failed = ExportRecord(NPY_ROUTE, None, 0.2, error="KeyError: 'x'")
    result = evaluate_route(failed, images(), np.zeros((5, 3)), np.zeros(5, dtype=int))
    assert result.status == "failed"
    assert result.error == "KeyError: 'x'"
    with pytest.raises(TypeError, match="ExportRecord"):
        evaluate_route("record", images(), np.zeros((5, 3)), np.zeros(5))


def test_matrix_tables_and_findings(onnx_model):
    good = make_result(onnx_model)
    failed = RouteResult(NPY_ROUTE, "KeyError: 'x'", source_accuracy=1.0)
    keras = onnx_route("k", "tensorflow", exporter="keras thing")
    other = RouteResult(keras, "ValueError: no", source_accuracy=1.0)
    text = matrix_markdown([good, failed, other])
    outcome, speed = text.split("**What does it cost in time?**")
    outcome_lines = outcome.strip().splitlines()
    assert outcome_lines[2] == "| Route | Worked | Max abs diff | Accuracy | Size |"
    assert outcome_lines[4] == "| **PyTorch** |  |  |  |  |"
    assert outcome_lines[5].startswith("| linear | yes |")
    assert outcome_lines[6] == "| numpy.save | **failed**: `KeyError: 'x'` | – | – | – |"
    assert outcome_lines[7] == "| **TensorFlow** |  |  |  |  |"
    speed_lines = speed.strip().splitlines()
    # the batch column is named after the batch size that ran
    assert speed_lines[0] == "| Route | Import + load | Latency, 1 image | Latency, 6 images |"
    assert speed_lines[-1] == "| keras thing | – | – | – |"
    findings = matrix_findings([good, failed])
    assert findings[0] == "pytorch: 1 of 2 routes worked end to end"
    assert "failed: pytorch: numpy.save (KeyError: 'x')" in findings
    assert "| linear | onnxruntime | no |" in deployment.imports_markdown([good, failed])
    with pytest.raises(TypeError, match="list of RouteResult"):
        matrix_markdown(["row"])
    with pytest.raises(ValueError, match="empty"):
        matrix_markdown([])


def test_plot_matrix_draws_three_panels(onnx_model):
    matplotlib.use("Agg")
    figure = deployment.plot_matrix([make_result(onnx_model)])
    assert len(figure.axes) == 3
    with pytest.raises(ValueError, match="no route ran"):
        deployment.plot_matrix([RouteResult(NPY_ROUTE, "failed")])


def test_onnx_summary_reads_opset_inputs_and_operators(onnx_model):
    path, _ = onnx_model
    summary = deployment.onnx_summary(path)
    assert summary["opset"] == 17
    assert summary["inputs"] == {"images": ["batch", 1, 2, 2]}
    assert summary["operators"] == {"Flatten": 1, "MatMul": 1}


def test_format_summary_rejects_a_non_dict():
    with pytest.raises(TypeError, match="summary must be a dict"):
        deployment.format_summary([("opset", 20)])


def test_a_route_right_only_for_whole_batches_has_wrong_outputs(tmp_path):
    """Logits centred on the batch mean: right for the batch, wrong for one image alone."""

    weight = np.arange(12, dtype=np.float32).reshape(4, 3) / 10
    graph = helper.make_graph(
        [
            helper.make_node("Flatten", ["images"], ["flat"]),
            helper.make_node("MatMul", ["flat", "weight"], ["raw"]),
            helper.make_node("ReduceMean", ["raw", "axes"], ["mean"], keepdims=1),
            helper.make_node("Sub", ["raw", "mean"], ["logits"]),
        ],
        "centred",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["batch", 1, 2, 2])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 3])],
        [
            numpy_helper.from_array(weight, "weight"),
            numpy_helper.from_array(np.array([0], dtype=np.int64), "axes"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    path = tmp_path / "centred.onnx"
    onnx.save(model, str(path))
    route = onnx_route("c", exporter="centred", artifact=path.name)
    batch = images(6)
    raw = batch.reshape(6, 4) @ weight
    reference = raw - raw.mean(axis=0, keepdims=True)
    result = evaluate_route(
        ExportRecord(route, path, 0.1), batch, reference, reference.argmax(1), repeats=1
    )
    assert result.max_abs_diff < 1e-6
    assert result.run.one_image_diff > 0.1
    assert result.status == "wrong outputs"
