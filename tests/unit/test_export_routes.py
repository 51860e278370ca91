"""The export modules of both frameworks: argument checks and in-process round trips.

Every route is also run end to end, with a fresh-process reload, by the tests
of ``examples/export_model.py`` (tests/test_export_model_example.py).
"""

from __future__ import annotations

import json
import warnings

import keras
import numpy as np
import onnxruntime
import pytest
import torch

from companion import export_pytorch, export_tensorflow
from companion.digits import to_channels_last
from companion.logits import keras_logits
from companion.run_artifact import FORMATS


def test_every_route_names_a_runner_format():
    for routes in (export_pytorch.ROUTES, export_tensorflow.ROUTES):
        for name, route in routes.items():
            assert route.name == name
            assert route.runner_format in FORMATS


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"model": "not a model"}, TypeError, "torch.nn.Module"),
        ({"route": "tflite"}, ValueError, "route must be one of"),
        ({"directory": "missing-dir"}, ValueError, "existing directory"),
        ({"example_input": [[1.0]]}, TypeError, "torch.Tensor or numpy array"),
        ({"example_input": np.zeros((2, 8, 8), np.float32)}, ValueError, r"\(N, C, H, W\)"),
        ({"example_input": np.zeros((1, 1, 8, 8), np.float32)}, ValueError, "at least 2 images"),
        ({"example_input": np.zeros((2, 1, 8, 8), np.float64)}, None, None),
    ],
)
def test_export_torch_checks_its_arguments(tmp_path, torch_cnn, kwargs, error, message):
    arguments = {
        "model": torch_cnn,
        "route": "torch-export",
        "directory": tmp_path,
        "example_input": np.zeros((2, 1, 8, 8), np.float32),
    }
    arguments.update(kwargs)
    if arguments["directory"] == "missing-dir":
        arguments["directory"] = tmp_path / "missing"
    if error is None:  # float64 arrays are converted to float32
        assert export_torch_call(arguments).worked
        return
    with pytest.raises(error, match=message):
        export_torch_call(arguments)


def export_torch_call(arguments):
    return export_pytorch.export_torch(
        arguments["model"], arguments["route"], arguments["directory"], arguments["example_input"]
    )


def test_torch_example_gets_standard_strides(split):
    example = torch.from_numpy(split.x_train[:4])
    assert example.stride()[1] == 1  # what np.newaxis leaves on the channel axis
    assert export_pytorch._example_tensor(example).stride() == (64, 64, 8, 1)


def test_torch_export_round_trip_in_process(tmp_path, torch_cnn, split):
    record = export_pytorch.export_torch(torch_cnn, "torch-export", tmp_path, split.x_train[:8])
    assert record.worked, record.error
    reloaded = torch.export.load(str(record.path)).module()
    images = split.x_test[:5].copy()
    with torch.inference_mode():
        outputs = reloaded(torch.from_numpy(images)).numpy()
    expected = export_pytorch.torch_logits(torch_cnn, images)
    np.testing.assert_allclose(outputs, expected, atol=1e-5)


def test_torchscript_export_records_its_deprecation(tmp_path, torch_cnn, split):
    record = export_pytorch.export_torch(
        torch_cnn, "torchscript-script", tmp_path, split.x_train[:4]
    )
    assert record.worked
    assert any("torch.jit.script` is deprecated" in w for w in record.warnings)


def test_torch_logits_checks_the_model():
    with pytest.raises(TypeError, match=r"torch\.nn\.Module"):
        export_pytorch.torch_logits("model", np.zeros((1, 1, 8, 8), np.float32))


def test_export_keras_checks_its_arguments(tmp_path, keras_cnn):
    with pytest.raises(TypeError, match=r"keras\.Model"):
        export_tensorflow.export_keras("model", "onnx", tmp_path)
    with pytest.raises(ValueError, match="route must be one of"):
        export_tensorflow.export_keras(keras_cnn, "aoti", tmp_path)
    with pytest.raises(ValueError, match="existing directory"):
        export_tensorflow.export_keras(keras_cnn, "onnx", tmp_path / "missing")


def test_export_keras_needs_a_built_model(tmp_path):
    unbuilt = keras.Sequential([keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="must be built"):
        export_tensorflow.export_keras(unbuilt, "onnx", tmp_path)


def test_keras_onnx_round_trip_in_process(tmp_path, keras_cnn, split):
    record = export_tensorflow.export_keras(keras_cnn, "onnx", tmp_path)
    assert record.worked, record.error
    images = to_channels_last(split.x_test[:5])
    session = onnxruntime.InferenceSession(str(record.path), providers=["CPUExecutionProvider"])
    (outputs,) = session.run(None, {export_tensorflow.INPUT_NAME: images})
    expected = keras_logits(keras_cnn, split.x_test[:5])  # takes channels-first
    np.testing.assert_allclose(outputs, expected, atol=1e-5)


def test_tf2onnx_from_keras_failure_is_recorded_not_raised(tmp_path, keras_cnn):
    record = export_tensorflow.export_keras(keras_cnn, "tf2onnx-from-keras", tmp_path)
    # tf2onnx 1.17 cannot map Keras 3 output names; if this starts to pass, the
    # chapter's account of tf2onnx is out of date.
    assert not record.worked
    assert record.error.startswith("KeyError: 'keras_tensor")


def test_serving_request_matches_the_signature(tmp_path, keras_cnn, split):
    record = export_tensorflow.export_keras(keras_cnn, "saved-model", tmp_path)
    images = to_channels_last(split.x_test[:2])
    url, body = export_tensorflow.serving_request(record.path, images, model_name="digits")
    assert url == "http://localhost:8501/v1/models/digits:predict"
    request = json.loads(body)
    assert request["signature_name"] == "serving_default"
    assert np.array_equal(np.array([i["images"] for i in request["instances"]]), images)
    with pytest.raises(ValueError, match="signature takes"):
        export_tensorflow.serving_request(record.path, split.x_test[:2])  # channels-first
    with pytest.raises(ValueError, match="model_name"):
        export_tensorflow.serving_request(record.path, images, model_name="my model")


def executorch_warnings(test):
    """Ignore the deprecations ExecuTorch's import and lowering raise.

    They are other libraries' (torch.jit, importlib.resources, torchao, torch's
    pytree), called from ExecuTorch's code; the book records them, not fails on them.
    """
    for ignored in (
        "ignore::DeprecationWarning",
        "ignore:`isinstance.treespec, LeafSpec.`:FutureWarning",
    ):
        test = pytest.mark.filterwarnings(ignored)(test)
    return test


@executorch_warnings
def test_executorch_program_runs_in_its_runtime_with_a_small_batch_bound(
    tmp_path, torch_cnn, split
):
    from executorch.runtime import Runtime

    record = export_pytorch.export_torch(torch_cnn, "executorch", tmp_path, split.x_train[:16])
    assert record.worked, record.error
    method = Runtime.get().load_program(str(record.path)).load_method("forward")
    images = split.x_test[:5].copy()
    outputs = method.execute([torch.from_numpy(images)])[0].numpy()
    expected = export_pytorch.torch_logits(torch_cnn, images)
    np.testing.assert_allclose(outputs, expected, atol=1e-5)
    # Memory is planned for the bound: 2 float32 buffers of the largest input, and a little more.
    planned = export_pytorch.planned_memory_bytes(record.path)
    assert 2 * 64 * 4 * export_pytorch.EXECUTORCH_MAX_BATCH <= planned < 2**21
    # The test split's 359 images fit the bound.
    everything = method.execute([torch.from_numpy(split.x_test.copy())])[0].numpy()
    assert everything.shape == (len(split.x_test), 10)


@executorch_warnings
def test_a_small_example_gives_an_executorch_program_that_refuses_larger_batches(
    tmp_path, torch_cnn, split
):
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import (
        XnnpackPartitioner,
    )
    from executorch.exir import to_edge_transform_and_lower
    from executorch.runtime import Runtime

    # What the companion refuses to do: lower from an example of 8 images.
    program = export_pytorch.exported_program(torch_cnn, split.x_train[:8], max_batch=1024)
    lowered = to_edge_transform_and_lower(program, partitioner=[XnnpackPartitioner()])
    path = tmp_path / "small.pte"
    path.write_bytes(lowered.to_executorch().buffer)
    method = Runtime.get().load_program(str(path)).load_method("forward")
    with pytest.raises(RuntimeError, match="set_inputs"):
        method.execute([torch.from_numpy(split.x_test.copy())])
    with pytest.raises(ValueError, match="at least 16 images for ExecuTorch"):
        export_pytorch.executorch_program(torch_cnn, split.x_train[:8])


def test_litert_torch_is_recorded_as_missing_with_pips_reason(tmp_path, torch_cnn, split):
    record = export_pytorch.export_torch(torch_cnn, "litert-torch", tmp_path, split.x_train[:4])
    assert record.error == "ModuleNotFoundError: No module named 'litert_torch'"
    explained = record.with_cause("pip: cannot install it here")
    assert explained.error.endswith("; pip: cannot install it here")
    assert record.with_cause(None) is record


def test_export_shows_aten_operators_and_core_aten_after_decomposition(torch_cnn, split):
    program = export_pytorch.exported_program(torch_cnn, split.x_train[:4])
    exported = export_pytorch.graph_operators(program)
    assert "aten.conv2d.default" in exported
    assert "aten.linear.default" in exported
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the companion silences torch's own FutureWarning
        core = export_pytorch.graph_operators(export_pytorch.core_aten(program))
    assert "aten.convolution.default" in core
    assert "aten.addmm.default" in core
    assert "aten.conv2d.default" not in core


@pytest.mark.parametrize("route", ["keras-litert", "openvino"])
def test_kerass_own_exports_reproduce_the_model(tmp_path, keras_cnn, split, route):
    from companion.run_artifact import run

    record = export_tensorflow.export_keras(keras_cnn, route, tmp_path)
    assert record.worked, record.error
    report, outputs = run(ROUTES_FORMAT[route], record.path, to_channels_last(split.x_test[:6]),
                          repeats=1)  # fmt: skip
    np.testing.assert_allclose(outputs, keras_logits(keras_cnn, split.x_test[:6]), atol=1e-5)
    assert report["one_image_max_abs_diff"] < 1e-5


ROUTES_FORMAT = {name: r.runner_format for name, r in export_tensorflow.ROUTES.items()}


def test_a_fixed_batch_litert_file_takes_exactly_that_batch(tmp_path, keras_cnn):
    from ai_edge_litert.interpreter import Interpreter

    path = export_tensorflow.write_litert_fixed_batch(keras_cnn, tmp_path / "b3.tflite", 3)
    details = Interpreter(model_path=str(path)).get_input_details()[0]
    assert details["shape_signature"].tolist() == [3, 8, 8, 1]
    with pytest.raises(ValueError, match="batch must be at least 1"):
        export_tensorflow.write_litert_fixed_batch(keras_cnn, tmp_path / "b0.tflite", 0)


def test_openvino_reports_its_default_precision_and_float32_on_request(tmp_path, keras_cnn, split):
    from companion.deployment.openvino_precision import compare_precisions

    record = export_tensorflow.export_keras(keras_cnn, "openvino", tmp_path)
    images = to_channels_last(split.x_test[:6])
    default, asked = compare_precisions(
        record.path, images, keras_logits(keras_cnn, split.x_test[:6])
    )
    assert asked.precision == "f32"
    assert asked.max_abs_diff < 1e-5
    assert default.precision in {"f32", "bf16", "f16"}
