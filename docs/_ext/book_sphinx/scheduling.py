"""Run independent jobs a few at a time, and some of them alone.

Used by the build to execute chapters (``execution_scheduler``) and by the
reproduction tests to re-run them. A job marked ``alone`` (a chapter whose
point is its timings) runs while nothing else does; the others share the
workers, longest expected first. Every outcome records which other jobs ran
while it did, so a page can say whether its timings were taken alone.

>>> jobs = [Job("a", lambda: 1), Job("b", lambda: 2, alone=True)]
>>> outcomes = run_jobs(jobs, workers=2)
>>> [(o.name, o.value, o.alongside) for o in outcomes]
[('b', 2, []), ('a', 1, [])]
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field


@dataclass
class Job:
    """One unit of work: ``run()`` is called in a worker thread."""

    name: str
    run: Callable[[], object]
    alone: bool = False
    #: Expected seconds, used only to start the longest jobs first.
    estimate: float = 0.0


@dataclass
class Outcome:
    name: str
    value: object
    started: float
    finished: float
    alone: bool
    #: Names of the jobs that ran at some moment while this one did.
    alongside: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return self.finished - self.started


def run_jobs(
    jobs: list[Job],
    workers: int,
    on_start: Callable[[Job], None] | None = None,
    on_done: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Run ``jobs``: the ``alone`` ones one by one, then the rest ``workers`` at a time.

    ``on_start`` is called in the worker thread as a job starts; ``on_done``
    in the calling thread as it ends, so it may write to a database that is
    not thread-safe. An exception in a job propagates.
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    spans: dict[str, list[float | None]] = {}
    lock = threading.Lock()

    def timed(job: Job) -> Outcome:
        if on_start:
            on_start(job)
        started = time.monotonic()
        with lock:
            spans[job.name] = [started, None]
        value = job.run()
        finished = time.monotonic()
        with lock:
            spans[job.name][1] = finished
        return Outcome(job.name, value, started, finished, job.alone)

    def finish(outcome: Outcome) -> Outcome:
        with lock:
            outcome.alongside = sorted(
                name
                for name, (start, end) in spans.items()
                if name != outcome.name
                and start < outcome.finished
                and (end is None or end > outcome.started)
            )
        if on_done:
            on_done(outcome)
        return outcome

    outcomes = []
    for job in [j for j in jobs if j.alone]:
        outcomes.append(finish(timed(job)))
    shared = sorted((j for j in jobs if not j.alone), key=lambda j: -j.estimate)
    if not shared:
        return outcomes
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="book-job") as pool:
        futures = {pool.submit(timed, job): job for job in shared}
        outcomes += [finish(future.result()) for future in as_completed(futures)]
    return outcomes
