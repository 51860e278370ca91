"""Every route out of TensorFlow/Keras the book measures, one function call each.

=====================  ==============================================  ===================
route                  how the artifact is written                     what loads it
=====================  ==============================================  ===================
saved-model            ``model.export(format="tf_saved_model")``:      TensorFlow,
                       a SavedModel with a ``serving_default``         TF Serving
                       signature taking ``images``
tflite                 ``tf.lite.TFLiteConverter`` on that SavedModel  LiteRT interpreter
tflite-dynamic-range   the same with ``Optimize.DEFAULT``: int8        LiteRT interpreter
                       weights, float activations
onnx                   ``model.export(format="onnx")`` (Keras 3.8+)    onnxruntime
tf2onnx-from-keras     ``tf2onnx.convert.from_keras`` with an          onnxruntime
                       explicit ``input_signature``
tf2onnx-from-function  ``tf2onnx.convert.from_function`` on a          onnxruntime
                       ``tf.function`` calling the model
keras-litert           ``model.export(format="litert")`` (Keras 3.13+)  LiteRT interpreter
openvino               ``model.export(format="openvino")`` (Keras       OpenVINO runtime
                       3.11+): ``model.xml`` and ``model.bin``
=====================  ==============================================  ===================

Every route keeps the batch dimension dynamic, and every artifact takes
channels-last images (:func:`write_litert_fixed_batch` writes the fixed-batch
``.tflite`` that LiteRT.js in the browser needs), as the Keras model does (:func:`companion.logits.keras_logits`
gives the source model's logits to compare with). :func:`serving_request`
writes the REST request TensorFlow Serving would accept for the exported
signature.

>>> sorted(ROUTES)  # doctest: +NORMALIZE_WHITESPACE
['keras-litert', 'onnx', 'openvino', 'saved-model', 'tf2onnx-from-function',
 'tf2onnx-from-keras', 'tflite', 'tflite-dynamic-range']
>>> ROUTES["tflite"].runner_format
'tflite'
"""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

import numpy as np

from companion.deployment.records import (
    ExportRecord,
    Route,
    export_into,
    load_routes,
    quiet_exporters,
)
from companion.frameworks import TENSORFLOW
from companion.validation import (
    check_choice,
    check_images,
    check_instance,
    check_int,
    check_text,
)

#: The name of the serving signature's input, chosen at export.
INPUT_NAME = "images"
SIGNATURE = "serving_default"

ROUTES: dict[str, Route] = load_routes(TENSORFLOW)

#: The file name inside an ``openvino`` route's directory (the weights sit beside it).
OPENVINO_MODEL = "model.xml"


def _check_model(model):
    import keras

    check_instance("model", model, keras.Model, what="a keras.Model")
    if not model.built or len(model.inputs or []) != 1:
        raise ValueError(
            "model must be built, with exactly one input (e.g. keras.Input first)"
        )
    return model


def input_signature(model) -> list:
    """One ``tf.TensorSpec`` named :data:`INPUT_NAME`, the model's input shape, any batch size."""
    import tensorflow as tf

    shape = tuple(_check_model(model).inputs[0].shape)
    return [tf.TensorSpec((None, *shape[1:]), tf.float32, name=INPUT_NAME)]


def _write_saved_model(model, path: Path) -> None:
    model.export(str(path), format="tf_saved_model", input_signature=input_signature(model),
                 verbose=False)  # fmt: skip


def _write_tflite(model, path: Path, *, dynamic_range: bool) -> None:
    import tensorflow as tf

    with tempfile.TemporaryDirectory(prefix="saved-model-") as scratch:
        _write_saved_model(model, Path(scratch) / "model")
        converter = tf.lite.TFLiteConverter.from_saved_model(
            str(Path(scratch) / "model")
        )
        if dynamic_range:
            # No representative data set: weights become int8, activations stay float.
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        path.write_bytes(converter.convert())


def write_litert_fixed_batch(model, path: Path, batch: int) -> Path:
    """``model.export(format="litert")`` for exactly ``batch`` images; return ``path``.

    LiteRT.js, the browser runtime, has no call to resize an input, so a file
    with a dynamic batch (``-1``) cannot run there; a fixed batch can.
    """
    import tensorflow as tf

    check_int("batch", batch, minimum=1)
    shape = tuple(_check_model(model).inputs[0].shape)
    signature = [
        tf.TensorSpec((batch, *shape[1:]), tf.float32, name=INPUT_NAME)
    ]
    with quiet_exporters(io.StringIO()):  # the converter logs its progress
        model.export(
            str(path),
            format="litert",
            input_signature=signature,
            verbose=False,
        )
    return Path(path)


def _write_openvino(model, directory: Path) -> None:
    directory.mkdir()
    model.export(str(directory / OPENVINO_MODEL), format="openvino",
                 input_signature=input_signature(model), verbose=False)  # fmt: skip


def _serving_function(model):
    import tensorflow as tf

    def serve(images):
        return model(images, training=False)

    return tf.function(serve, input_signature=input_signature(model))


def write_artifact(model, route: str, path: Path) -> Path:
    """Export ``model`` along ``route`` to ``path``; return ``path``.

    Raises whatever the exporter raises: use :func:`export_keras` to record
    failures instead.
    """
    _check_model(model)
    check_choice("route", route, ROUTES)
    path = Path(path)
    if route == "saved-model":
        _write_saved_model(model, path)
    elif route in ("tflite", "tflite-dynamic-range"):
        _write_tflite(
            model, path, dynamic_range=route == "tflite-dynamic-range"
        )
    elif route == "onnx":
        model.export(
            str(path),
            format="onnx",
            input_signature=input_signature(model),
            verbose=False,
        )
    elif route == "keras-litert":
        model.export(str(path), format="litert", verbose=False)
    elif route == "openvino":
        _write_openvino(model, path)
    elif route == "tf2onnx-from-keras":
        import tf2onnx

        tf2onnx.convert.from_keras(
            model,
            input_signature=input_signature(model),
            output_path=str(path),
        )
    else:  # tf2onnx-from-function
        import tf2onnx

        tf2onnx.convert.from_function(
            _serving_function(model),
            input_signature=input_signature(model),
            output_path=str(path),
        )
    return path


def export_keras(model, route: str, directory: Path) -> ExportRecord:
    """Export along ``route`` into ``directory``; a failure is recorded, not raised.

    >>> from companion.cnn import build_keras_cnn
    >>> model = build_keras_cnn(seed=0)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     record = export_keras(model, "tflite", Path(tmp))
    ...     record.worked, record.path.name, record.path.read_bytes()[4:8]
    (True, 'float32.tflite', b'TFL3')
    >>> export_keras(model, "torchscript-trace", Path("."))
    Traceback (most recent call last):
    ...
    ValueError: route must be one of ('saved-model', 'tflite', 'tflite-dynamic-range', \
'onnx', 'tf2onnx-from-keras', 'tf2onnx-from-function', 'keras-litert', 'openvino'), \
got 'torchscript-trace'
    """
    _check_model(model)
    check_choice("route", route, ROUTES)
    return export_into(
        ROUTES[route],
        lambda path: write_artifact(model, route, path),
        directory,
    )


def serving_request(
    saved_model: Path,
    images: np.ndarray,
    *,
    model_name: str = "digits",
    host: str = "localhost:8501",
) -> tuple[str, str]:
    """The URL and JSON body of a TF Serving REST ``predict`` call for ``images``.

    The body uses the row ("instances") format with the signature's input
    named explicitly; the shape is checked against the SavedModel's
    ``serving_default`` signature first, as the server would.
    """
    import tensorflow as tf

    if not check_text("model_name", model_name).isidentifier():
        raise ValueError(
            f"model_name must be a simple name such as 'digits', got {model_name!r}"
        )
    images = check_images(images)
    signature = tf.saved_model.load(str(saved_model)).signatures[SIGNATURE]
    specs = signature.structured_input_signature[1]
    if list(specs) != [INPUT_NAME]:
        raise ValueError(
            f"expected one input named {INPUT_NAME!r}, the signature has {list(specs)}"
        )
    expected = specs[INPUT_NAME].shape
    if not expected.is_compatible_with(images.shape):
        raise ValueError(
            f"images have shape {images.shape}; the signature takes {expected.as_list()}"
        )
    url = f"http://{host}/v1/models/{model_name}:predict"
    body = {
        "signature_name": SIGNATURE,
        "instances": [{INPUT_NAME: image.tolist()} for image in images],
    }
    return url, json.dumps(body)
