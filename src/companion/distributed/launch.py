"""Start worker processes on this machine so that none of them can outlive its deadline.

Every process a :class:`ProcessSet` starts runs in a session of its own,
with its output in a log file (never a pipe that could fill up) and with a
deadline: when it passes, the whole session is killed with ``SIGKILL``, by
its id. Workers call :func:`die_with_parent` first thing, so a worker
whose launcher is killed dies too (``torchrun`` starts each worker in a
session of its own, out of reach of the launcher's session). Workers record
what they do in an event log (:func:`log_event`, :func:`read_events`), one
JSON line per event, which is how a cell learns that a worker reached a
step and what its process id is.

All traffic stays on the loopback interface: TensorFlow workers get
``127.0.0.1`` addresses in ``TF_CONFIG`` (:func:`tf_config`), gloo is told
to use ``lo``, and ``torchrun --standalone`` rendezvouses on localhost.

>>> config = json.loads(tf_config([12345, 12346], index=1))
>>> config["cluster"]["worker"], config["task"]
(['127.0.0.1:12345', '127.0.0.1:12346'], {'type': 'worker', 'index': 1})
>>> torchrun_command("companion.distributed.ddp", ["--steps", "2"], processes=2)[3:7]
['--standalone', '--nnodes=1', '--nproc-per-node=2', '--max-restarts=0']
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from companion.processes import ProcessError, quiet_environment
from companion.validation import check_int, check_number

#: What every worker's environment adds to the quiet environment.
WORKER_ENVIRONMENT = {
    # gloo picks the interface for its TCP pairs from this: stay on loopback.
    "GLOO_SOCKET_IFNAME": "lo",
    # torchrun restarts reuse the agent's TCPStore by default, and a restarted
    # rank can read a dead peer's address from it (pytorch/pytorch#135712):
    # give each attempt a fresh store instead.
    "TORCH_DISABLE_SHARE_RDZV_TCP_STORE": "1",
    "OMP_NUM_THREADS": "1",
    "PYTHONUNBUFFERED": "1",
}
EVENTS_FILE = "events.jsonl"


def free_ports(count: int) -> list[int]:
    """``count`` TCP ports that are free on 127.0.0.1 right now."""
    check_int("count", count, minimum=1)
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]


def tf_config(ports: Sequence[int], index: int) -> str:
    """``TF_CONFIG`` for worker ``index`` of a cluster of workers on ``ports``."""
    check_int("index", index, minimum=0, maximum=len(ports) - 1)
    return json.dumps(
        {
            "cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
            "task": {"type": "worker", "index": index},
        }
    )


def torchrun_command(
    module: str,
    arguments: Sequence[str],
    *,
    processes: int,
    max_restarts: int = 0,
) -> list[str]:
    """``torchrun`` (as ``python -m torch.distributed.run``) running ``python -m module``."""
    check_int("processes", processes, minimum=1)
    check_int("max_restarts", max_restarts, minimum=0)
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nnodes=1",
        f"--nproc-per-node={processes}",
        f"--max-restarts={max_restarts}",
        "--monitor-interval=0.1",
        "-m",
        module,
        *map(str, arguments),
    ]


def worker_environment(extra: Mapping[str, str] | None = None) -> dict:
    """The quiet environment plus :data:`WORKER_ENVIRONMENT` and ``extra``."""
    return quiet_environment({**WORKER_ENVIRONMENT, **(extra or {})})


def die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (elsewhere: nothing).

    Linux ties this to the parent *thread* that started the process, so
    start workers from a thread that outlives them (the main thread does).
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


def log_event(directory, who: str, event: str, **fields) -> None:
    """Append one event (time, process id, who, what) to the run's event log."""
    record = {
        "time": time.time(),
        "pid": os.getpid(),
        "who": who,
        "event": event,
        **fields,
    }
    # One short write with O_APPEND: lines from several processes never mix.
    line = (json.dumps(record) + "\n").encode()
    descriptor = os.open(
        Path(directory) / EVENTS_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND
    )
    try:
        os.write(descriptor, line)
    finally:
        os.close(descriptor)


def read_events(directory) -> list[dict]:
    """Every event of the run's log, in time order."""
    path = Path(directory) / EVENTS_FILE
    if not path.exists():
        return []
    lines = path.read_text().splitlines()
    return sorted(
        (json.loads(line) for line in lines if line.strip()),
        key=lambda e: e["time"],
    )


@dataclass(frozen=True)
class Finished:
    """How one process ended: its exit status (``None`` if the deadline killed it)."""

    name: str
    returncode: int | None
    seconds: float
    log: Path

    @property
    def timed_out(self) -> bool:
        return self.returncode is None

    def output(self) -> str:
        return (
            self.log.read_text(errors="replace") if self.log.exists() else ""
        )


class ProcessSet:
    """Processes started together, each in its own session, killed at a common deadline.

    Use it as a context manager: leaving the block kills whatever still runs.
    """

    def __init__(self, directory, *, timeout: float):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.timeout = check_number("timeout", timeout, positive=True)
        self.deadline = time.monotonic() + self.timeout
        self._started = time.monotonic()
        #: Wall-clock time (``time.time()``) at which the set was created.
        self.started_at = time.time()
        self._processes: dict[str, subprocess.Popen] = {}
        self._ended: dict[str, Finished] = {}

    def __enter__(self) -> ProcessSet:
        return self

    def __exit__(self, *exc_info) -> None:
        self.kill_all()

    def start(
        self,
        name: str,
        command: Sequence[str],
        environment: Mapping[str, str],
    ) -> subprocess.Popen:
        """Start ``command`` as ``name``; its output goes to ``<name>.log``."""
        if name in self._processes:
            raise ValueError(f"a process named {name!r} was started already")
        log = self.directory / f"{name}.log"
        with log.open("wb") as handle:
            process = subprocess.Popen(
                list(command),
                stdout=handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=dict(environment),
                cwd=self.directory,
                start_new_session=True,
            )
        self._processes[name] = process
        return process

    def _reap(self) -> None:
        for name, process in self._processes.items():
            if name not in self._ended and process.poll() is not None:
                self._ended[name] = Finished(
                    name,
                    process.returncode,
                    time.monotonic() - self._started,
                    self.directory / f"{name}.log",
                )

    def running(self) -> list[str]:
        """The names of the processes still running."""
        self._reap()
        return [n for n in self._processes if n not in self._ended]

    def _kill(self, name: str) -> None:
        process = self._processes[name]
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            self._ended[name] = Finished(
                name,
                None,
                time.monotonic() - self._started,
                self.directory / f"{name}.log",
            )

    def kill_all(self) -> None:
        """Kill every process (its whole session) that still runs."""
        for name in self.running():
            self._kill(name)

    def wait_until(
        self, condition: Callable[[], object], *, what: str, poll: float = 0.02
    ):
        """Wait until ``condition()`` returns something true; return it.

        Raises :class:`ProcessError` when every process has ended first, or
        when the deadline passes (after killing them all).
        """
        while True:
            value = condition()
            if value:
                return value
            if not self.running():
                raise ProcessError(
                    f"every process ended before {what}: {self.summary()}"
                )
            if time.monotonic() >= self.deadline:
                self.kill_all()
                raise ProcessError(
                    f"no {what} within {self.timeout:.0f} s; killed every process"
                )
            time.sleep(poll)

    def wait(self, *, grace: float | None = None) -> dict[str, Finished]:
        """Wait for every process; kill the rest at the deadline.

        With ``grace``, once one process has failed the others get ``grace``
        seconds more (a survivor noticing its dead peer), then are killed.
        """
        deadline = self.deadline
        while self.running():
            failed = [f for f in self._ended.values() if f.returncode]
            if grace is not None and failed:
                deadline = min(deadline, time.monotonic() + grace)
                grace = None  # counted from the first failure only
            if time.monotonic() >= deadline:
                self.kill_all()
                break
            time.sleep(0.02)
        return {name: self._ended[name] for name in self._processes}

    def summary(self) -> str:
        self._reap()
        return ", ".join(
            f"{f.name} exit {f.returncode}" for f in self._ended.values()
        )


def check_finished(finished: Mapping[str, Finished], what: str) -> None:
    """Raise :class:`ProcessError` with each failed process's last lines, if any failed."""
    failed = [f for f in finished.values() if f.returncode != 0]
    if not failed:
        return
    details = []
    for f in failed:
        status = (
            "killed at the deadline" if f.timed_out else f"exit {f.returncode}"
        )
        details.append(
            f"{f.name} ({status}): {error_lines(f.output()) or 'no error'}"
        )
    raise ProcessError(f"{what} failed: " + "; ".join(details))


def error_lines(output: str, limit: int = 3) -> str:
    """The distinct exception lines (``SomeError: ...``) of a process's output.

    >>> error_lines("[rank1]: Traceback\\n[rank1]: ValueError: bad\\nValueError: bad\\n")
    'ValueError: bad'
    """
    found: list[str] = []
    for line in output.splitlines():
        text = re.sub(r"^\[rank\d+\]:\s*", "", line).strip()
        if (
            re.match(r"^[\w.]+(Error|Exception|Exit)\b:?", text)
            and text not in found
        ):
            found.append(text)
    return " | ".join(found[:limit])
