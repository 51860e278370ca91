"""Kill one worker of a data-parallel run mid-training, and recover from the checkpoints.

A :class:`RecoveryJob` starts a two-process run of either framework in
which one worker stops at a given step (on the first attempt only) and
reports its process id; the caller kills it, with ``SIGKILL``, and waits:

>>> job = RecoveryJob("pytorch", TrainingPlan(steps=30), pause_at=25)  # doctest: +SKIP
>>> victim = job.start().wait_for_pause()                             # doctest: +SKIP
>>> os.kill(victim.pid, signal.SIGKILL)                               # doctest: +SKIP
>>> outcome = job.finish()                                            # doctest: +SKIP

PyTorch: ``torchrun --max-restarts=1`` notices the dead rank, stops the
other and starts both again; they resume from the checkpoint rank 0 writes
every ``checkpoint_every`` steps. TensorFlow: nothing restarts a worker.
The survivor fails in its next all-reduce and exits; :meth:`RecoveryJob.restart`
starts the cluster again, as a cluster manager would, and every worker
resumes from its own ``tf.train.CheckpointManager`` directory.

Error messages from the survivors name ports and process ids; they are
passed through :func:`sanitized` so that they read the same in every run.

>>> sanitized("Read error [127.0.0.1]:40213: Connection reset by peer (pid: 3321)")
'Read error [127.0.0.1]:<port>: Connection reset by peer (pid: <pid>)'
"""

from __future__ import annotations

import os
import re
import shutil
import signal
from dataclasses import dataclass, field

from companion.distributed import launch
from companion.distributed.plan import TrainingPlan
from companion.distributed.runs import (
    DataParallelRun,
    _check_run_arguments,
    new_run_dir,
    read_result,
    start_workers,
)
from companion.frameworks import PYTORCH
from companion.validation import check_int

__all__ = ["AttemptOutcome", "RecoveryJob", "Victim", "sanitized", "signal"]


@dataclass(frozen=True)
class Victim:
    """The worker that stopped to be killed: its process id and where it stopped."""

    who: str
    pid: int
    step: int
    time: float
    attempt: int = 0


@dataclass
class AttemptOutcome:
    """How every process of one attempt ended, and the finished run if there is one."""

    exit_codes: dict[str, int | None]
    errors: dict[str, str]
    ended_after_kill_s: dict[str, float]
    restarted_after_kill_s: float | None = None
    run: DataParallelRun | None = None
    agent_lines: list[str] = field(default_factory=list)


def sanitized(text: str) -> str:
    """``text`` with port numbers, process ids and addresses of objects masked."""
    text = re.sub(r"(127\.0\.0\.1\]?):\d+", r"\1:<port>", text)
    text = re.sub(r"localhost:\d+", "localhost:<port>", text)
    text = re.sub(r"\b(pid:? ?|process )\d+", r"\1<pid>", text)
    return re.sub(r"0x[0-9a-f]+", "0x…", text)


def _agent_lines(output: str) -> list[str]:
    """What torchrun's agent said about the failure and the restart."""
    keep = ("exitcode", "Restarting", "restart", "closing signal")
    lines = []
    for line in output.splitlines():
        if any(k in line for k in keep) and "torch/distributed" in line:
            message = line.split("] ", 1)[-1].strip()
            lines.append(sanitized(message))
    return lines


class RecoveryJob:
    """A two-process run in which one worker stops at ``pause_at`` to be killed."""

    def __init__(
        self,
        framework: str,
        plan: TrainingPlan,
        *,
        pause_at: int,
        checkpoint_every: int = 20,
        victim_rank: int = 1,
        processes: int = 2,
        timeout: float = 120.0,
    ):
        _check_run_arguments(framework, processes, plan)
        check_int("pause_at", pause_at, minimum=1, maximum=plan.steps - 1)
        check_int("checkpoint_every", checkpoint_every, minimum=1)
        check_int("victim_rank", victim_rank, minimum=0, maximum=processes - 1)
        self.framework, self.plan, self.processes = framework, plan, processes
        self.timeout = timeout
        self.options = [
            "--checkpoint-every",
            checkpoint_every,
            "--pause-at-step",
            pause_at,
            "--pause-rank",
            victim_rank,
        ]
        self.run_dir = new_run_dir(framework)
        self.attempt = 0
        self.victim: Victim | None = None
        self._job: launch.ProcessSet | None = None

    def __enter__(self) -> RecoveryJob:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Kill whatever still runs and remove the run's files."""
        if self._job is not None:
            self._job.kill_all()
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def start(self) -> RecoveryJob:
        """Start the first attempt (PyTorch: under ``torchrun --max-restarts=1``)."""
        self._job = start_workers(
            self.framework,
            self.plan,
            self.processes,
            self.run_dir,
            timeout=self.timeout,
            options=self.options,
            max_restarts=1 if self.framework == PYTORCH else 0,
            attempt=self.attempt,
        )
        return self

    def wait_for_pause(self) -> Victim:
        """Wait until the victim has stopped at its step; return who it is."""

        def paused():
            events = launch.read_events(self.run_dir)
            return next((e for e in events if e["event"] == "paused"), None)

        event = self._job.wait_until(
            paused, what="a worker stopping to be killed"
        )
        self.victim = Victim(
            event["who"],
            event["pid"],
            event["step"],
            event["time"],
            self.attempt,
        )
        return self.victim

    def restart(self) -> RecoveryJob:
        """Start every worker again, on new ports (what a cluster manager would do)."""
        if self._job is not None and self._job.running():
            raise RuntimeError(
                "the previous attempt still runs: call finish() first"
            )
        self.attempt += 1
        return self.start()

    def finish(self, grace: float = 60.0) -> AttemptOutcome:
        """Wait for this attempt's processes (survivors get ``grace`` seconds).

        TensorFlow's survivor notices its dead peer by missed heartbeats: about
        11 s here, but over 20 s in one build, where it was killed still running
        and the printed exit status changed.
        """
        finished = self._job.wait(grace=grace)
        killed_now = (
            self.victim is not None and self.victim.attempt == self.attempt
        )
        kill_time = self.victim.time if self.victim else None
        events = launch.read_events(self.run_dir)
        outcome = AttemptOutcome(
            exit_codes={n: f.returncode for n, f in finished.items()},
            errors={
                n: sanitized(launch.error_lines(f.output(), limit=2))
                for n, f in finished.items()
                if launch.error_lines(f.output())
            },
            ended_after_kill_s=(
                self._ended_after_kill(finished, kill_time)
                if killed_now
                else {}
            ),
            agent_lines=_agent_lines(
                "\n".join(f.output() for f in finished.values())
            ),
        )
        restarts = [
            e["time"]
            for e in events
            if e["event"] == "training" and e.get("attempt")
        ]
        if kill_time is not None and restarts:
            outcome.restarted_after_kill_s = min(restarts) - kill_time
        if all(code == 0 for code in outcome.exit_codes.values()):
            outcome.run = self._read_run()
        return outcome

    def _ended_after_kill(self, finished, kill_time) -> dict[str, float]:
        started = self._job.started_at
        return {
            n: started + f.seconds - kill_time for n, f in finished.items()
        }

    def _read_run(self) -> DataParallelRun:
        report, weights = read_result(self.run_dir, self.framework)
        return DataParallelRun(
            self.framework,
            self.processes,
            self.plan,
            weights,
            report.pop("step_seconds"),
            report,
        )


def kill(victim: Victim) -> None:
    """Send ``SIGKILL`` to the victim (what the chapter's cell does itself)."""
    os.kill(victim.pid, signal.SIGKILL)
