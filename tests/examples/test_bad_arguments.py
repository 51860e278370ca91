"""Every example script refuses bad arguments as argparse does: status 2, one line, no traceback.

One table for all the scripts: a case is the script, its arguments and a
part of the message it must print. Each runs in an empty folder; ``files``
are created there first, empty, where a check needs the file to exist.
"""

from __future__ import annotations

from typing import NamedTuple

import pytest
from example_scripts import assert_usage_error, run_example


class Case(NamedTuple):
    script: str
    args: list[str]
    message: str
    files: tuple[str, ...] = ()


EXPORT = ["--framework", "pytorch", "--format", "onnx", "--out", "x"]
CNN = ["--framework", "pytorch", "--out", "out"]
PORT = ["m.keras", "m.pt"]

CASES = [
    Case("gradient_graph.py", ["--x", "nan"], "--x must be a finite number"),
    Case("gradient_graph.py", ["--x", "two"], "invalid float value"),
    Case("gradient_graph.py", ["--framework", "jax"], "invalid choice: 'jax'"),
    Case("benchmark.py", ["--repeats", "0"], "--repeats: must be at least 1, got 0"),
    Case("benchmark.py", ["--number", "many"], "expected a whole number"),
    Case("benchmark.py", ["--modes", "jax"], "invalid choice: 'jax'"),
    Case("benchmark.py", ["--device", "tpu"], "invalid choice: 'tpu'"),
    Case("benchmark.py", ["--models", "resnet"], "invalid choice: 'resnet'"),
    Case(
        "export_model.py", [], "the following arguments are required: --framework, --format, --out"
    ),
    Case(
        "export_model.py",
        ["--framework", "pytorch", "--format", "tflite", "--out", "x"],
        "--format tflite is not a pytorch route; choose one of: torchscript-trace,",
    ),
    Case(
        "export_model.py",
        ["--framework", "tensorflow", "--format", "aoti", "--out", "x"],
        "--format aoti is not a tensorflow route; choose one of: saved-model,",
    ),
    Case(
        "export_model.py",
        ["--framework", "jax", "--format", "onnx", "--out", "x"],
        "invalid choice: 'jax'",
    ),
    Case(
        "export_model.py",
        ["--framework", "pytorch", "--format", "pickle", "--out", "x"],
        "invalid choice: 'pickle'",
    ),
    Case("export_model.py", EXPORT[:4], "required: --out"),
    Case("export_model.py", [*EXPORT, "--epochs", "-1"], "--epochs must be 0 or more, got -1"),
    Case("export_model.py", [*EXPORT, "--epochs", "two"], "invalid int value: 'two'"),
    Case("export_model.py", [*EXPORT, "--repeats", "0"], "--repeats: must be at least 1, got 0"),
    Case("port_model.py", ["model.onnx", "model.keras"], "expected a .keras file"),
    Case("port_model.py", ["a.keras", "b.keras"], "one .keras and one .pt/.pth file"),
    Case("port_model.py", ["missing.keras", "out.pt"], "source file missing.keras does not exist"),
    Case(
        "port_model.py",
        ["model.pt", "model.keras"],
        "give --input-shape or --example",
        ("model.pt",),
    ),
    Case(
        "port_model.py",
        [*PORT, "--input-shape", "8,x"],
        "expected sizes separated by commas",
        ("m.keras",),
    ),
    Case("port_model.py", [*PORT, "--rtol", "0"], "must be a positive number", ("m.keras",)),
    Case(
        "port_model.py", [*PORT, "--make-demo", "resnet"], "invalid choice: 'resnet'", ("m.keras",)
    ),
    Case(
        "port_model.py",
        [*PORT, "--example", "x.npy"],
        "example file x.npy does not exist",
        ("m.keras",),
    ),
    Case("train_cnn.py", ["--framework", "jax", "--out", "out"], "invalid choice: 'jax'"),
    Case("train_cnn.py", [*CNN, "--epochs", "0"], "must be at least 1, got 0"),
    Case("train_cnn.py", [*CNN, "--learning-rate", "-1"], "--learning-rate must be a positive"),
    Case("train_cnn.py", [*CNN, "--seed", "-3"], "--seed must be in"),
    Case("train_cnn.py", [*CNN, "--init", "keras"], "only applies to --framework tensorflow"),
    Case("train_cnn.py", ["--framework", "pytorch"], "the following arguments are required: --out"),
    Case("train_distributed.py", ["--framework", "jax"], "invalid choice: 'jax'"),
    Case(
        "train_distributed.py",
        ["--framework", "pytorch", "--processes", "1"],
        "--processes must be between 2 and 8",
    ),
    Case(
        "train_distributed.py",
        ["--framework", "pytorch", "--processes", "3"],
        "must be a multiple of --processes",
    ),
    Case(
        "train_distributed.py",
        ["--framework", "pytorch", "--steps", "0"],
        "must be at least 1, got 0",
    ),
    Case(
        "train_distributed.py",
        ["--framework", "pytorch", "--learning-rate", "-1"],
        "--learning-rate must be a positive",
    ),
    Case(
        "train_distributed.py",
        ["--framework", "pytorch", "--timeout", "nan"],
        "--timeout must be a positive",
    ),
    Case(
        "train_distributed.py",
        ["--processes", "2"],
        "the following arguments are required: --framework",
    ),
]


@pytest.mark.parametrize(
    "case", CASES, ids=[f"{c.script}:{' '.join(c.args) or 'nothing'}" for c in CASES]
)
def test_bad_arguments_exit_2_with_one_message(case: Case, tmp_path):
    for name in case.files:
        (tmp_path / name).write_bytes(b"")
    assert_usage_error(run_example(case.script, *case.args, cwd=tmp_path), case.message)
