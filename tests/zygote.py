"""New kernels and script runs that do not pay for the framework imports each time.

In a new Python process, importing TensorFlow, Keras and PyTorch costs 7-9 s
of CPU on the machine that builds the book: more than most snippets and most
example runs on tiny settings take to run. So some checks start their
processes from a *zygote*: a process that has imported those modules, and
nothing of the book, and then forks a child for each kernel or script.

A child shares the zygote's module cache and nothing else. A kernel's user
namespace is empty, so a snippet that forgets ``import torch`` still fails
with a ``NameError``; a script runs as ``__main__`` from its own file, with
its own ``sys.argv``; each child gets its own working folder, environment and
standard streams, as a new process does.

What differs is that the frameworks' import-time code ran in the zygote,
before the first line. Seeding is not affected: the book seeds after its
imports (``companion.reproducibility``). Two differences showed in the
book's outputs, and the child undoes them:

* imported inside a kernel, TensorFlow sends its Python log lines
  ("WARNING:tensorflow:...") and ``tf.print`` to the cell's stdout; imported
  in the zygote, it had chosen the process's stderr. The child redoes that
  choice once the kernel has its streams
  (``_tensorflow_as_if_imported_in_a_kernel``);
* a kernel's stack would be two frames deeper than under ``python -m
  ipykernel_launcher`` (``companion.debugging`` prints frame counts), so the
  child starts the kernel from its third frame, as that module does.

``tests/machinery/test_zygote.py`` compares a forked kernel with a new one
on both. (A chapter's first cell, ``companion.reproducibility.prepare_chapter``,
leaves TensorFlow's Python logger alone, so its WARNING and INFO lines show
alike whether TensorFlow loaded before that cell, as in a forked kernel, or
after it.) One difference is not the zygote's: ipykernel does not capture
output written straight to the file descriptors while ``PYTEST_CURRENT_TEST``
is set, which kernels started under pytest inherit, new or forked.

Should another difference turn up, ``tests/reproduce`` runs a forked run that
does not reproduce its snippet again in a new kernel, and a forked section
script that fails again in a new ``python``: the new process decides. What is
checked in truly new processes as well: every page's re-run
(``tests/reproduce``) and every example command the book shows
(``tests/examples/test_shown_commands.py``).

:class:`Zygote` starts the server (``python zygote.py serve SOCKET MODULES KERNELS``).
:meth:`Zygote.run` runs a script in a child and returns a
``CompletedProcess``. :meth:`Zygote.kernel_manager` gives nbclient a kernel
manager whose kernel command is ``python zygote.py launch SOCKET -f FILE``:
that launcher asks the zygote for a kernel, passes on the signals the kernel
manager sends it, and exits with the kernel's exit status, so the kernel
manager sees an ordinary kernel process.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

#: What the zygote imports before it forks: the expensive imports, nothing of the book.
#: ``torch._inductor.config`` is what ``torch.use_deterministic_algorithms`` imports
#: (with sympy, 800-odd modules, 2-3 s), and every chapter's first cell calls it.
PRELOADED = ("numpy", "torch", "torch._inductor.config", "tensorflow", "keras")
#: What ipykernel puts in the environment before a kernel's first line runs. The
#: frameworks import matplotlib.pyplot, which reads it then, so the zygote sets it first.
KERNEL_ENVIRONMENT = {"MPLBACKEND": "module://matplotlib_inline.backend_inline"}
KERNEL_NAME = "python3-forked"
STARTUP_TIMEOUT = 300  # seconds for the zygote's imports on a busy machine


def _send(connection: socket.socket, message: dict) -> None:
    connection.sendall(json.dumps(message).encode() + b"\n")


def _receive(reader) -> dict | None:
    """One message from ``connection.makefile("rb")``; ``None`` once the other side is gone."""
    line = reader.readline()
    return json.loads(line) if line.endswith(b"\n") else None


def _kill(pid: int, signum: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signum)


# --- In the zygote's children ----------------------------------------------------------


def _become(request: dict, stdio: list[int]) -> None:
    """Take the request's streams, session, environment and folder."""
    for target, fd in enumerate(stdio):
        os.dup2(fd, target)
        os.close(fd)
    os.setsid()  # a signal to the child's group does not reach the zygote
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])


def _kernel(argv: list[str]):
    """What ``python -m ipykernel_launcher ARGV`` calls, with ``sys`` set up as it would be."""
    sys.argv = ["ipykernel_launcher", *argv]
    sys.path[0] = str(Path.cwd())
    from ipykernel import kernelapp

    initialize = kernelapp.IPKernelApp.initialize

    def initialize_as_if_imported_here(app, argv=None):
        initialize(app, argv)
        _tensorflow_as_if_imported_in_a_kernel()

    kernelapp.IPKernelApp.initialize = initialize_as_if_imported_here
    return kernelapp.launch_new_instance


def _tensorflow_as_if_imported_in_a_kernel() -> None:
    """Redo what importing TensorFlow does differently inside an IPython kernel.

    The zygote imported it outside one. There, TensorFlow's log handler took the
    ``sys.stderr`` of the time, and ``tf.print`` writes to the process's stderr.
    Imported in a kernel (``get_ipython`` and ``sys.ps1`` exist), the handler
    takes ``sys.stdout`` at level INFO, ``tf.print`` goes through Python's
    ``sys.stdout``, and AutoGraph echoes its warnings to stdout a second time
    ("WARNING: ..."): all land in the cell's stdout. Called once the kernel
    has its streams and shell.
    """
    if "tensorflow" not in sys.modules:
        return
    import logging

    from tensorflow.python.autograph.utils import ag_logging
    from tensorflow.python.ops import logging_ops
    from tensorflow.python.platform import tf_logging

    logging_ops.enable_interactive_logging()
    ag_logging.echo_log_to_stdout = True
    logger = tf_logging.get_logger()
    handlers = [h for h in logger.handlers if isinstance(h, logging.StreamHandler)]
    if handlers and handlers[0].stream is sys.__stderr__:  # configured by TensorFlow itself
        logger.setLevel(tf_logging.INFO)
        handlers[0].setStream(sys.stdout)


def _run_script(argv: list[str]) -> None:
    """``python SCRIPT ARGS...``: the script is ``__main__``, its folder first on the path."""
    import runpy

    script = argv[0]
    sys.argv = list(argv)
    sys.path[0] = str(Path(script).resolve().parent)
    runpy.run_path(script, run_name="__main__")


@contextlib.contextmanager
def _exit_as_python_would():
    """Run the child's work, then end the process with the status ``python`` would give."""
    import atexit
    import traceback

    code = 0
    try:
        yield
    except SystemExit as stop:
        if stop.code is None or isinstance(stop.code, int):
            code = stop.code or 0
        else:
            print(stop.code, file=sys.stderr)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        with contextlib.suppress(BaseException):
            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


# --- The zygote --------------------------------------------------------------------------


def serve(path: str, preload: list[str], kernels: bool) -> None:
    """Import ``preload``, then fork a child for each request that connects.

    ``kernels``: the children are kernels, so the environment is first made
    what ipykernel makes it (:data:`KERNEL_ENVIRONMENT`).
    """
    import importlib

    if kernels:
        os.environ.update(KERNEL_ENVIRONMENT)
    for name in preload:
        importlib.import_module(name)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    print("ready", flush=True)  # the parent waits for this line
    os.dup2(os.open(os.devnull, os.O_RDWR), 1)  # nobody reads the pipe from now on
    children: dict[int, socket.socket] = {}  # pid -> the connection that asked for it
    while True:
        readable, _, _ = select.select([listener, *children.values()], [], [], 0.1)
        for connection in readable:
            if connection is listener:
                _fork(listener, children)
            elif connection.recv(1) == b"":  # who asked has gone (killed): the child goes too
                _kill(next(pid for pid, c in children.items() if c is connection))
        _reap(children)


def _fork(listener: socket.socket, children: dict[int, socket.socket]) -> None:
    asker, _ = listener.accept()
    _, stdio, _, _ = socket.recv_fds(asker, 1, 3)
    request = _receive(asker.makefile("rb"))
    if request is None or len(stdio) != 3:
        asker.close()
        return
    pid = os.fork()
    if pid == 0:  # the child never returns from here
        listener.close()
        asker.close()
        with _exit_as_python_would():
            _become(request, stdio)
            if request["kind"] == "kernel":
                # Called from this frame, the third, as ipykernel_launcher's module
                # calls it under `python -m`: tracebacks that count the frames outside
                # a cell (companion.debugging prints them) count the same.
                _kernel(request["argv"])(argv=request["argv"])
            else:
                _run_script(request["argv"])
    for fd in stdio:
        os.close(fd)
    children[pid] = asker
    _send(asker, {"pid": pid})


def _reap(children: dict[int, socket.socket]) -> None:
    """Tell whoever asked for each child that has exited how it ended."""
    while children:
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            return
        asker = children.pop(pid, None)
        if asker is not None:
            with contextlib.suppress(OSError):
                _send(asker, {"exit": os.waitstatus_to_exitcode(status)})
            asker.close()


def _ask(path: str, request: dict, stdio: list[int]) -> tuple[socket.socket, object, int]:
    """Send ``request`` with the child's standard streams; the connection, its reader, the pid."""
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.connect(path)
    socket.send_fds(connection, [b"."], stdio)
    _send(connection, {**request, "cwd": request.get("cwd") or str(Path.cwd())})
    replies = connection.makefile("rb")
    reply = _receive(replies)
    if reply is None:
        raise RuntimeError("the zygote closed the connection before forking")
    return connection, replies, reply["pid"]


# --- The kernel launcher, which the kernel manager runs as the kernel's command ----------


def launch(path: str, argv: list[str]) -> int:
    """Ask the zygote at ``path`` for a kernel with ``argv``; wait for it, passing on signals."""
    request = {"kind": "kernel", "argv": argv, "env": dict(os.environ)}
    _, replies, pid = _ask(path, request, [0, 1, 2])
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT, signal.SIGHUP):
        signal.signal(signum, lambda number, _frame: _kill(pid, number))
    reply = _receive(replies)  # signals meanwhile are passed on (PEP 475 retries the read)
    return 1 if reply is None else reply["exit"]


# --- In the tests ------------------------------------------------------------------------


class Zygote:
    """The server process; a context manager that stops it on exit.

    It starts importing ``preload`` at once; the first request waits until it is ready,
    so other work can run meanwhile. ``env`` is the environment the children
    would have as new processes (it matters to the imports); ``kernels`` says
    whether they are kernels or scripts (one zygote serves one kind).
    """

    def __init__(
        self, env: dict[str, str], *, kernels: bool, preload: tuple[str, ...] = PRELOADED
    ) -> None:
        self.kernels = kernels
        self.ready = False
        self.lock = threading.Lock()
        self.folder = Path(tempfile.mkdtemp(prefix="zygote-"))
        self.socket = str(self.folder / "zygote.sock")
        self.process = subprocess.Popen(
            [sys.executable, __file__, "serve", self.socket, ",".join(preload), str(kernels)],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        # Written once, here: worker threads ask for managers at once, and a
        # rewrite (truncate, then write) let another thread read an empty file.
        self.spec_dir = self._write_kernel_spec() if kernels else None

    def wait_until_ready(self) -> None:
        with self.lock:
            if self.ready:
                return
            readable, _, _ = select.select([self.process.stdout], [], [], STARTUP_TIMEOUT)
            line = self.process.stdout.readline() if readable else ""
            if line.strip() != "ready":
                self.close()
                raise RuntimeError(f"the zygote did not start (exit status {self.process.poll()})")
            self.ready = True

    def run(
        self, argv: list[str], cwd: Path | None = None, env: dict | None = None, timeout=None
    ) -> subprocess.CompletedProcess:
        """``python *argv`` in a child; what ``subprocess.run`` gives with ``capture_output``."""
        if self.kernels:
            raise ValueError("this zygote forks kernels; start one with kernels=False for scripts")
        self.wait_until_ready()
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            with Path(os.devnull).open("rb") as nothing:
                request = {
                    "kind": "script",
                    "argv": [str(a) for a in argv],
                    "env": dict(os.environ if env is None else env),
                    "cwd": str(cwd) if cwd else None,
                }
                connection, replies, pid = _ask(
                    self.socket, request, [nothing.fileno(), out.fileno(), err.fileno()]
                )
            with connection:
                connection.settimeout(timeout)
                try:
                    reply = _receive(replies)
                except TimeoutError:
                    _kill(pid)
                    raise subprocess.TimeoutExpired(argv, timeout) from None
            out.seek(0)
            err.seek(0)
            stdout, stderr = (f.read().decode(errors="replace") for f in (out, err))
        code = 1 if reply is None else reply["exit"]
        return subprocess.CompletedProcess([sys.executable, *argv], code, stdout, stderr)

    def _write_kernel_spec(self) -> Path:
        """A kernel spec folder whose kernel is forked by this zygote."""
        spec = self.folder / "kernels" / KERNEL_NAME
        spec.mkdir(parents=True)
        argv = [sys.executable, __file__, "launch", self.socket, "-f", "{connection_file}"]
        (spec / "kernel.json").write_text(
            json.dumps({"argv": argv, "display_name": "Python 3", "language": "python"})
        )
        return spec.parent

    def kernel_manager(self):
        """An ``AsyncKernelManager`` for nbclient that starts forked kernels.

        nbclient does not shut down the kernel of a manager it was given unless
        told to: ``client.async_execute(cleanup_kc=True)``.
        """
        from jupyter_client import AsyncKernelManager
        from jupyter_client.kernelspec import KernelSpecManager

        if not self.kernels:
            raise ValueError("this zygote runs scripts; start one with kernels=True for kernels")
        self.wait_until_ready()
        specs = KernelSpecManager(kernel_dirs=[str(self.spec_dir)])
        return AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs)

    def children(self) -> list[int]:
        """The pids of the zygote's children that are still running (Linux)."""
        pid = self.process.pid
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Zygote:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


if __name__ == "__main__":
    command, path, *rest = sys.argv[1:]
    if command == "serve":
        preload, kernels = rest
        serve(path, [name for name in preload.split(",") if name], kernels=kernels == "True")
    elif command == "launch":
        sys.exit(launch(path, rest))
    else:
        sys.exit(f"unknown command {command!r}: expected serve or launch")
