"""examples/export_model.py: one run per reloading runtime (export, reload elsewhere, check).

Every route is exported and reloaded in a fresh process by the deployment
chapter, in the build and again in the reproduction, and the companion's
unit tests check the routes one by one. What is left to check here is the
script's own wiring: that each framework's exports reach each runtime that
reloads them, and that failures and bad arguments end in one line. So one
route per (framework, runtime) runs, the cheapest of each (AOTInductor's
compilation alone took 15-30 s of the examples' minute), ExecuTorch aside: its
runtime is the 13 s that remained, and ``tests/unit/test_export_routes.py``
runs a program in it.
"""

from __future__ import annotations

import sys

import pytest
from example_scripts import (
    EXAMPLES,
    assert_cannot_create_output,
    run_example,
    unwritable_directory,
)

SCRIPT = EXAMPLES / "export_model.py"

# No training keeps each run short: the check is that the artifact reproduces
# the model it came from, which does not depend on how well the model is
# trained (the shown commands, in test_shown_commands.py, train before export).
QUICK = ["--epochs", "0", "--repeats", "2"]

# What each working route's artifact is reloaded with, in a fresh process.
LOADED_WITH = {
    "pytorch": {
        "torch": ("torchscript-trace", "torchscript-script", "torch-export", "aoti"),
        "onnxruntime": ("onnx",),
        "torch, executorch": ("executorch",),
    },
    "tensorflow": {
        "tensorflow": ("saved-model",),
        "ai_edge_litert": ("tflite", "tflite-dynamic-range", "keras-litert"),
        "onnxruntime": ("onnx", "tf2onnx-from-function"),
        "openvino": ("openvino",),
    },
}
WORKING_ROUTES = [
    (framework, route, runtime)
    for framework, runtimes in LOADED_WITH.items()
    for runtime, routes in runtimes.items()
    for route in routes
]
#: Runtimes whose reload this file leaves to other tests (see the docstring).
NOT_EXERCISED = {"torch, executorch"}
#: The first route of each (framework, runtime): the ones this file runs.
EXERCISED_ROUTES = [
    (framework, routes[0], runtime)
    for framework, runtimes in LOADED_WITH.items()
    for runtime, routes in runtimes.items()
    if runtime not in NOT_EXERCISED
]


def run(*args: str):
    return run_example(SCRIPT.name, *args)


def test_the_route_lists_match_the_companion_modules():
    from companion import export_pytorch, export_tensorflow

    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import export_model
    finally:
        sys.path.remove(str(SCRIPT.parent))
    assert set(export_model.FORMATS["pytorch"]) == set(export_pytorch.ROUTES)
    assert set(export_model.FORMATS["tensorflow"]) == set(export_tensorflow.ROUTES)
    tested = {(framework, route) for framework, route, _ in WORKING_ROUTES}
    tested.add(("tensorflow", "tf2onnx-from-keras"))  # the failing routes, below
    tested.add(("pytorch", "litert-torch"))
    every = {(f, r) for f, routes in export_model.FORMATS.items() for r in routes}
    assert tested == every


@pytest.mark.parametrize(("framework", "route", "runtime"), EXERCISED_ROUTES)
def test_each_runtime_reloads_an_export_in_a_fresh_process(tmp_path, framework, route, runtime):
    result = run("--framework", framework, "--format", route, "--out", str(tmp_path), *QUICK)
    assert result.returncode == 0, result.stderr
    assert f"reloaded in a fresh process with: {runtime}" in result.stdout
    assert "ok: the artifact reproduces the source model" in result.stdout
    assert any(tmp_path.iterdir())
    if route.startswith("torchscript"):
        api = route.split("-")[1]  # trace or script
        assert f"warning: DeprecationWarning: `torch.jit.{api}` is deprecated" in result.stdout


def test_litert_torch_fails_in_one_line_while_it_cannot_be_installed(tmp_path):
    # litert-torch 0.10.0 cannot be installed beside the pins (see the deployment
    # chapter); if it can one day, this route joins WORKING_ROUTES.
    result = run(
        "--framework", "pytorch", "--format", "litert-torch", "--out", str(tmp_path), *QUICK
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "error: export along litert-torch failed: "
        "ModuleNotFoundError: No module named 'litert_torch'"
    )


def test_the_failing_route_reports_its_error_in_one_line(tmp_path):
    result = run(
        "--framework",
        "tensorflow",
        "--format",
        "tf2onnx-from-keras",
        "--out",
        str(tmp_path),
        *QUICK,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("error: export along tf2onnx-from-keras failed: KeyError: 'keras_tensor")
    )


def test_an_unwritable_output_directory_is_one_line(tmp_path):
    out = unwritable_directory(tmp_path)
    assert_cannot_create_output(
        run("--framework", "pytorch", "--format", "onnx", "--out", str(out))
    )
