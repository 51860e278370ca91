"""tests/zygote.py: forked scripts and kernels behave as new processes, the module cache aside.

The zygote here preloads ``json`` only (the book's zygotes preload the
frameworks), so that these tests take seconds.
"""

from __future__ import annotations

import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import nbformat
import pytest
from book_reproduction import comparable, fresh_kernel_environment, run_cells
from zygote import Zygote

PROBE = """\
import sys
print("argv", sys.argv[1:], "main", __name__)
print("preloaded", "json" in sys.modules, "in namespace", "json" in globals())
if sys.argv[1] == "raise":
    raise ValueError("on purpose")
sys.exit(int(sys.argv[1]))
"""


@pytest.fixture(scope="module")
def scripts():
    with Zygote(dict(os.environ), kernels=False, preload=("json",)) as zygote:
        yield zygote


def test_a_forked_script_has_its_own_argv_folder_namespace_and_exit_status(scripts, tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    result = scripts.run([str(probe), "3"], cwd=tmp_path)
    assert result.returncode == 3
    assert result.stdout.splitlines() == [
        "argv ['3'] main __main__",
        "preloaded True in namespace False",
    ]
    failed = scripts.run([str(probe), "raise"], cwd=tmp_path)
    assert failed.returncode == 1
    assert failed.stderr.strip().endswith("ValueError: on purpose")


def test_a_forked_script_that_runs_too_long_is_killed(scripts, tmp_path):
    sleeper = tmp_path / "sleeper.py"
    sleeper.write_text("import time\ntime.sleep(60)\n")
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        scripts.run([str(sleeper)], timeout=1)
    assert time.monotonic() - started < 10


def test_a_forked_kernel_starts_with_an_empty_namespace_and_shuts_down(tmp_path):
    page = nbformat.v4.new_notebook()
    page.cells = [
        nbformat.v4.new_code_cell("import os\nos.getcwd()"),
        nbformat.v4.new_code_cell("json.dumps([1])"),  # preloaded, yet not imported here
    ]
    with Zygote(dict(os.environ), kernels=True, preload=("json",)) as kernels:
        run = run_cells(page, (0, 1), tmp_path / "work", kernels)
        assert run.notebook.cells[0].outputs[0]["data"]["text/plain"] == repr(
            str(tmp_path / "work")
        )
        assert run.returncode == 1
        assert "NameError" in run.log
        assert "name 'json' is not defined" in run.log
        deadline = time.monotonic() + 20
        while kernels.children() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert kernels.children() == []  # nbclient shut the kernel down


def test_a_forked_kernels_stack_is_as_deep_as_a_new_kernels(tmp_path):
    # companion.debugging counts the frames outside a cell in the tracebacks it prints.
    page = nbformat.v4.new_notebook()
    page.cells = [nbformat.v4.new_code_cell("import inspect\nlen(inspect.stack())")]
    depth = {}
    with Zygote(dict(os.environ), kernels=True, preload=("json",)) as kernels:
        forked = run_cells(page, (0,), tmp_path / "forked", kernels)
        depth["forked"] = forked.notebook.cells[0].outputs[0]["data"]["text/plain"]
    new = run_cells(page, (0,), tmp_path / "new")
    depth["new"] = new.notebook.cells[0].outputs[0]["data"]["text/plain"]
    assert depth["forked"] == depth["new"], depth


def test_tensorflows_log_lines_and_tf_print_reach_a_forked_kernels_stdout(tmp_path):
    # TensorFlow picks its output streams when imported: in a kernel, the cell's stdout.
    page = nbformat.v4.new_notebook()
    page.cells = [
        nbformat.v4.new_code_cell(
            "import tensorflow as tf\n"
            "tf.get_logger().warning('from the logger')\n"
            "@tf.function\n"
            "def show(x):\n"
            "    tf.print('from a graph', x)\n"
            "show(tf.constant(1))\n"
            "from tensorflow.python.autograph.utils import ag_logging\n"
            "ag_logging.warning('from AutoGraph')\n"
            "print('done')"
        )
    ]
    environment = fresh_kernel_environment(tmp_path)
    with Zygote(environment, kernels=True, preload=("tensorflow",)) as kernels:
        forked = run_cells(page, (0,), tmp_path / "forked", kernels)
    new = run_cells(page, (0,), tmp_path / "new")
    expected = (
        "WARNING:tensorflow:from the logger\nfrom a graph 1\n"
        "WARNING:tensorflow:from AutoGraph\nWARNING: from AutoGraph\ndone\n"
    )
    assert comparable(new.notebook.cells[0].outputs) == [{"stream": "stdout", "text": expected}]
    assert comparable(forked.notebook.cells[0].outputs) == comparable(new.notebook.cells[0].outputs)


def test_kernel_managers_made_in_many_threads_at_once_all_read_a_whole_spec():
    # The reproduction asks for a manager in each of its worker threads; CI once
    # failed because one thread rewrote kernel.json while another was reading it.
    with Zygote(dict(os.environ), kernels=True, preload=("json",)) as kernels:

        def argv_of_a_new_manager(_):
            return kernels.kernel_manager().kernel_spec.argv

        with ThreadPoolExecutor(max_workers=8) as pool:
            argvs = list(pool.map(argv_of_a_new_manager, range(400)))
    assert all(argv == argvs[0] for argv in argvs)
    assert "launch" in argvs[0]


def test_a_kernel_that_does_not_start_fails_its_run_and_says_why(tmp_path):
    # One run's broken kernel must fail that run (and send it to a new kernel),
    # not raise out of the worker thread and end the whole reproduction.
    from jupyter_client import AsyncKernelManager

    class NoKernels:
        def kernel_manager(self):
            return AsyncKernelManager(kernel_name="no-such-kernel")

    page = nbformat.v4.new_notebook()
    page.cells = [nbformat.v4.new_code_cell("1 + 1")]
    run = run_cells(page, (0,), tmp_path / "work", NoKernels())
    assert run.returncode == 1
    assert run.log.startswith("the kernel did not run:")
    assert "no-such-kernel" in run.log
    assert run.notebook.cells[0].outputs == []
