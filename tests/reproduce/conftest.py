"""One pass that re-runs the built book: every page, every snippet, every section script.

Everything the reproduction checks need is run once, here, in one pool of
workers (one per CPU), longest jobs first:

* each page's downloadable notebook, with ``jupyter execute`` in a fresh
  kernel (``test_reproduction.py`` compares every output with the page);
* each run of cells that verifies "copy with setup" snippets: a snippet's
  cells in a fresh kernel, where snippets that are prefixes of one another
  share one run, and snippets that are prefixes of the page's own order are
  verified by the page's run (``test_copy_with_setup.py``). These kernels are
  forked from a process that has imported the frameworks and nothing else
  (``tests/zygote.py``): that saves 7-9 s of imports per run, and the page
  re-runs and the section scripts still start from nothing. A forked run that
  does not reproduce one of its snippets is run again in a new kernel, which
  decides: a forked kernel misses some of TensorFlow's output (see
  ``tests/zygote.py``), so it can fail where a new kernel passes;
* each section script, as ``python script.py`` in an empty folder. Scripts too
  are forked, from a second zygote that imported the frameworks with
  matplotlib's file backend (``MPLBACKEND=agg``); a script that fails forked
  is run again in a new ``python`` process, which decides. A script is
  checked for running through, not for its output, so the one difference a
  forked run has (the frameworks' import-time log settings) cannot pass a
  script that a new process fails.

Seconds per page go to ``test-artifacts/reproduce-runs.json``, and the
slowest runs, each with what it ran, to ``test-artifacts/reproduce-slowest.json``
(the cost report prints them: they say which cells a chapter should make cheaper).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from book_html import ARTIFACTS, execution_records, selected_pages
from book_reproduction import (
    Rerun,
    code_cell_order,
    fresh_kernel_environment,
    page_snippets,
    plan_runs,
    published_notebook,
    rerun_page,
    run_cells,
    section_scripts,
    snippet_problems,
    snippets_checked_apart,
)
from book_sphinx.scheduling import Job, run_jobs
from zygote import Zygote

SCRIPT_TIMEOUT = 900
#: How many of the slowest runs the cost report lists.
SLOWEST_LISTED = 12


@dataclass
class Reproduction:
    pages: dict[str, Rerun] = field(default_factory=dict)
    #: (page, cells) -> the run of those cells
    cell_runs: dict[tuple[str, tuple[int, ...]], Rerun] = field(default_factory=dict)
    #: (page, script file) -> the finished process
    scripts: dict[tuple[str, str], subprocess.CompletedProcess] = field(default_factory=dict)


def script_environment(workdir: Path) -> dict[str, str]:
    return {**fresh_kernel_environment(workdir), "MPLBACKEND": "agg"}


def run_script(
    html_dir: Path, name: str, workdir: Path, scripts: Zygote | None = None
) -> subprocess.CompletedProcess:
    """``python NAME`` in ``workdir``: forked from ``scripts``, or a new process without it."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / name).write_bytes((html_dir / "_scripts" / name).read_bytes())
    if scripts is not None:
        return scripts.run(
            [name], cwd=workdir, env=script_environment(workdir), timeout=SCRIPT_TIMEOUT
        )
    return subprocess.run(
        [sys.executable, name],
        cwd=workdir,
        env=script_environment(workdir),
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT,
        check=False,
    )


def planned_jobs(
    html_dir: Path, root: Path, pages: list[str], kernels: Zygote, scripts: Zygote
) -> list[Job]:
    records = execution_records(html_dir)
    jobs = []
    for page in pages:
        slug = page.replace("/", "-")
        estimate = (records.get(page) or {}).get("runtime") or 0.0
        jobs.append(
            Job(
                ("page", page),
                lambda p=page, s=slug: rerun_page(html_dir, p, root / s),
                False,
                estimate,
            )
        )
        notebook = published_notebook(html_dir, page)
        order = code_cell_order(notebook)
        for number, cells in enumerate(plan_runs(page_snippets(html_dir, page), order)):
            jobs.append(
                Job(
                    ("cells", page, cells),
                    lambda nb=notebook, c=cells, d=root / f"{slug}-run-{number}": run_cells(
                        nb, c, d, kernels
                    ),
                    False,
                    estimate * len(cells) / max(len(order), 1),
                )
            )
        for script in section_scripts(html_dir, page):
            if script["heavy"] or script["incomplete"] or script.get("label"):
                continue
            workdir = root / f"{slug}-{script['file']}"
            jobs.append(
                Job(
                    ("script", page, script["file"]),
                    lambda n=script["file"], d=workdir: run_script(html_dir, n, d, scripts),
                    False,
                    estimate * len(script["cells"]) / max(len(order), 1),
                )
            )
    return jobs


def retry_in_new_processes(
    html_dir: Path, root: Path, result: Reproduction, seconds: dict[str, dict]
) -> None:
    """Run again in new processes the forked runs that failed.

    A run of cells that did not reproduce one of its snippets goes to a new
    kernel; a script that did not run through, to a new ``python``.
    """
    jobs = []
    for number, ((page, cells), run) in enumerate(sorted(result.cell_runs.items())):
        notebook = published_notebook(html_dir, page)
        order = code_cell_order(notebook)
        covered = [
            s
            for s in snippets_checked_apart(page_snippets(html_dir, page), order)
            if cells[: len(s.cells)] == s.cells
        ]
        if any(snippet_problems(notebook, snippet, run) for snippet in covered):
            workdir = root / f"{page.replace('/', '-')}-new-kernel-{number}"
            jobs.append(
                Job(
                    ("cells", page, cells),
                    lambda nb=notebook, c=cells, d=workdir: run_cells(nb, c, d),
                )
            )
    for (page, name), process in sorted(result.scripts.items()):
        if process.returncode != 0:
            workdir = root / f"{page.replace('/', '-')}-new-process-{name}"
            jobs.append(
                Job(("script", page, name), lambda n=name, d=workdir: run_script(html_dir, n, d))
            )
    for outcome in run_jobs(jobs, os.cpu_count() or 1):
        kind, page, what = outcome.name
        if kind == "cells":
            result.cell_runs[page, what] = outcome.value
        else:
            result.scripts[page, what] = outcome.value
        record = count_run(seconds, page, f"{kind}-new-process", outcome.seconds)
        record["retried_in_new_processes"] = record.get("retried_in_new_processes", 0) + 1


def slowest_runs(outcomes) -> list[dict]:
    """The :data:`SLOWEST_LISTED` slowest runs: page, kind, what ran, seconds."""
    runs = []
    for outcome in sorted(outcomes, key=lambda o: o.seconds, reverse=True)[:SLOWEST_LISTED]:
        kind, page, *rest = outcome.name
        if kind == "cells":
            what = f"{len(rest[0])} cells ending with cell {rest[0][-1]}"
        else:
            what = rest[0] if rest else "the whole notebook"
        runs.append(
            {"page": page, "kind": kind, "what": what, "seconds": round(outcome.seconds, 1)}
        )
    return runs


def count_run(seconds: dict[str, dict], page: str, kind: str, run_seconds: float) -> dict:
    """Add one run of ``kind`` to the page's record in reproduce-runs.json; return the record."""
    record = seconds.setdefault(
        page, {"seconds": 0.0, "runs": 0, "succeeded": True, "seconds_by_kind": {}}
    )
    record["seconds"] = round(record["seconds"] + run_seconds, 2)
    record["runs"] += 1
    by_kind = record["seconds_by_kind"]
    by_kind[kind] = round(by_kind.get(kind, 0.0) + run_seconds, 2)
    return record


@pytest.fixture(scope="session")
def reproduction(built_html, tmp_path_factory) -> Reproduction:
    """Run every page, snippet and script of the selected pages once."""
    root = tmp_path_factory.mktemp("reproduction")
    with (
        Zygote(fresh_kernel_environment(root / "zygote"), kernels=True) as kernels,
        Zygote(script_environment(root / "script-zygote"), kernels=False) as scripts,
    ):
        jobs = planned_jobs(built_html, root, selected_pages(), kernels, scripts)
        outcomes = run_jobs(jobs, os.cpu_count() or 1)
    result = Reproduction()
    seconds: dict[str, dict] = {}
    for outcome in outcomes:
        kind, page, *rest = outcome.name
        record = count_run(seconds, page, kind, outcome.seconds)
        if kind == "page":
            result.pages[page] = outcome.value
            record["page_seconds"] = round(outcome.seconds, 2)
            record["succeeded"] = outcome.value.returncode == 0
        elif kind == "cells":
            result.cell_runs[page, rest[0]] = outcome.value
        else:
            result.scripts[page, rest[0]] = outcome.value
    retry_in_new_processes(built_html, root, result, seconds)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "reproduce-runs.json").write_text(json.dumps(seconds, indent=1, sort_keys=True))
    (ARTIFACTS / "reproduce-slowest.json").write_text(json.dumps(slowest_runs(outcomes), indent=1))
    return result


@pytest.fixture(scope="session")
def reruns(reproduction) -> dict[str, Rerun]:
    return reproduction.pages
