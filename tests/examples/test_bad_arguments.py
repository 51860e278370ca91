"""Every example script refuses bad arguments as argparse does: status 2, one line, no traceback.

One table for all the scripts: for each script, the arguments as a reader
would type them and a part of the message the script must print. Each case
runs in an empty folder; the files named in ``EXISTING`` are created there
first, empty, where a check needs the file to exist.
"""

from __future__ import annotations

import shlex

import pytest
from example_scripts import assert_usage_error, run_example

EXPORT = "--framework pytorch --format onnx --out x"
PORT = "m.keras m.pt"

BAD_ARGUMENTS = {
    "gradient_graph.py": {
        "--x nan": "--x must be a finite number",
        "--x two": "invalid float value",
        "--framework jax": "invalid choice: 'jax'",
    },
    "benchmark.py": {
        "--repeats 0": "--repeats: must be at least 1, got 0",
        "--number many": "expected a whole number",
        "--modes jax": "invalid choice: 'jax'",
        "--device tpu": "invalid choice: 'tpu'",
        "--models resnet": "invalid choice: 'resnet'",
    },
    "export_model.py": {
        "": "the following arguments are required: --framework, --format, --out",
        "--framework pytorch --format tflite --out x": (
            "--format tflite is not a pytorch route; choose one of: torchscript-trace,"
        ),
        "--framework tensorflow --format aoti --out x": (
            "--format aoti is not a tensorflow route; choose one of: saved-model,"
        ),
        "--framework jax --format onnx --out x": "invalid choice: 'jax'",
        "--framework pytorch --format pickle --out x": "invalid choice: 'pickle'",
        "--framework pytorch --format onnx": "required: --out",
        f"{EXPORT} --epochs -1": "--epochs must be 0 or more, got -1",
        f"{EXPORT} --epochs two": "invalid int value: 'two'",
        f"{EXPORT} --repeats 0": "--repeats: must be at least 1, got 0",
    },
    "port_model.py": {
        "model.onnx model.keras": "expected a .keras file",
        "a.keras b.keras": "one .keras and one .pt/.pth file",
        "missing.keras out.pt": "source file missing.keras does not exist",
        "model.pt model.keras": "give --input-shape or --example",
        f"{PORT} --input-shape 8,x": "expected sizes separated by commas",
        f"{PORT} --rtol 0": "must be a positive number",
        f"{PORT} --make-demo resnet": "invalid choice: 'resnet'",
        f"{PORT} --example x.npy": "example file x.npy does not exist",
    },
    "train_cnn.py": {
        "--framework jax --out out": "invalid choice: 'jax'",
        "--framework pytorch --out out --epochs 0": "must be at least 1, got 0",
        "--framework pytorch --out out --learning-rate -1": "--learning-rate must be a positive",
        "--framework pytorch --out out --seed -3": "--seed must be in",
        "--framework pytorch --out out --init keras": "only applies to --framework tensorflow",
        "--framework pytorch": "the following arguments are required: --out",
    },
    "train_distributed.py": {
        "--framework jax": "invalid choice: 'jax'",
        "--framework pytorch --processes 1": "--processes must be between 2 and 8",
        "--framework pytorch --processes 3": "must be a multiple of --processes",
        "--framework pytorch --steps 0": "must be at least 1, got 0",
        "--framework pytorch --learning-rate -1": "--learning-rate must be a positive",
        "--framework pytorch --timeout nan": "--timeout must be a positive",
        "--processes 2": "the following arguments are required: --framework",
    },
}
#: Files a check reads before it can complain about the other arguments.
EXISTING = ("model.pt", "m.keras")

CASES = [
    (script, args, message)
    for script, cases in BAD_ARGUMENTS.items()
    for args, message in cases.items()
]


@pytest.mark.parametrize(
    ("script", "args", "message"), CASES, ids=[f"{s} {a}".strip() for s, a, _ in CASES]
)
def test_bad_arguments_exit_2_with_one_message(script, args, message, tmp_path):
    argv = shlex.split(args)
    if argv and argv[0] in EXISTING:
        (tmp_path / argv[0]).write_bytes(b"")
    assert_usage_error(run_example(script, *argv, cwd=tmp_path), message)
