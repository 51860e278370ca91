"""Execute the chapters that need it before Sphinx reads them, several at a time.

MyST-NB executes a notebook while Sphinx parses it, one page after another
(or in Sphinx's parallel reader, in fixed chunks of pages). This extension
runs first, on ``env-before-read-docs``: for every page about to be read it
builds the notebook exactly as MyST-NB will (the same ``source-read``
handlers, the same reader), looks it up in MyST-NB's execution cache, and
executes the misses in fresh kernels, ``execution_workers`` at a time, with
MyST-NB's own executor. The results go into the cache, so when Sphinx then
reads the pages MyST-NB finds every one of them there.

* A page whose front matter says ``book: {execute_alone: true}`` (one that
  measures time) runs while no other page does.
* ``execution_only`` (docnames) restricts execution to those pages, for a
  writer working on one chapter: other pages come from the cache if they
  are there and are otherwise left out (rendered without outputs, and read
  again by the next build).
* A page that fails here is reported here, naming the page, the cell and
  the error (``chapters/x.md:42: code cell 3 raised ZeroDivisionError: ...``),
  and is not executed again by MyST-NB: it renders without outputs, the
  build fails (``execution_report``), and the next build runs it again.

What ran is written to ``execution-runs.json`` next to the HTML folder (page,
seconds, alone or alongside which pages), and each page's record in the
cache keeps whether it ran alone, for the version stamp.
"""

from __future__ import annotations

import json
import logging as std_logging
import os
import re
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from tempfile import TemporaryDirectory

from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn
from jupyter_cache.cache.db import NbProjectRecord
from jupyter_cache.executors.utils import single_nb_execution
from myst_nb.core.config import NbParserConfig
from myst_nb.core.nb_to_tokens import nb_node_to_dict
from myst_nb.core.read import create_nb_reader
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging

from book_sphinx.book_common import WARNING_TYPE
from book_sphinx.scheduling import Job, Outcome, run_jobs

LOGGER = logging.getLogger(__name__)
RUNS_FILE = "execution-runs.json"


@dataclass
class PageNotebook:
    """A page as MyST-NB will see it: its notebook and the settings it executes with."""

    docname: str
    path: Path
    notebook: object
    config: NbParserConfig
    read_format: dict | None

    @property
    def alone(self) -> bool:
        options = self.notebook.metadata.get("book") or {}
        return bool(options.get("execute_alone"))

    def excluded(self) -> bool:
        posix = PurePosixPath(self.path.as_posix())
        return any(posix.match(p) for p in self.config.execution_excludepatterns)


def execution_info(env: BuildEnvironment) -> dict[str, dict]:
    """Per page: how its outputs were produced (``alone``, ``alongside``, ``left_out``)."""
    if not hasattr(env, "book_execution"):
        env.book_execution = {}
    return env.book_execution


def page_notebook(app: Sphinx, env: BuildEnvironment, docname: str) -> PageNotebook | None:
    """Build the notebook MyST-NB will read for ``docname``; None for a plain page."""
    path = Path(env.doc2path(docname))
    content = [path.read_text(encoding="utf-8")]
    previous = env.current_document
    env.prepare_settings(docname)  # source-read handlers may note dependencies
    try:
        app.events.emit("source-read", docname, content)
    finally:
        env.current_document = previous
    reader = create_nb_reader(str(path), env.myst_config, env.mystnb_config, content[0])
    if reader is None:
        return None
    notebook = reader.read(content[0])
    config = env.mystnb_config
    if config.metadata_key in notebook.metadata:
        overrides = nb_node_to_dict(notebook.metadata[config.metadata_key])
        overrides.pop("output_folder", None)
        config = config.copy(**overrides)
    kernel = notebook.metadata.get("kernelspec", {}).get("name")
    for pattern, alias in config.kernel_rgx_aliases.items():
        if kernel is not None and re.fullmatch(pattern, kernel):
            notebook.metadata["kernelspec"]["name"] = alias
            break
    return PageNotebook(docname, path, notebook, config, reader.read_fmt)


def execute(page: PageNotebook):
    """Execute ``page`` as MyST-NB's cache mode does; return jupyter-cache's result."""
    in_temp = page.config.execution_in_temp
    with TemporaryDirectory() if in_temp else nullcontext(str(page.path.parent)) as cwd:
        return single_nb_execution(
            page.notebook,
            cwd=str(Path(cwd).resolve()),
            allow_errors=page.config.execution_allow_errors,
            timeout=page.config.execution_timeout,
            meta_override=True,
            record_timing=True,  # read into cell_seconds, then removed (see store)
        )


def cell_seconds(notebook) -> list[float | None]:
    """Seconds each cell took (None for Markdown), from nbclient's timing metadata."""
    seconds = []
    for cell in notebook.cells:
        timing = cell.get("metadata", {}).get("execution") or {}
        start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
        if cell.cell_type != "code" or not (start and end):
            seconds.append(None)
            continue
        elapsed = datetime.fromisoformat(end) - datetime.fromisoformat(start)
        seconds.append(round(elapsed.total_seconds(), 2))
    return seconds


def without_timing(notebook):
    """The notebook without nbclient's timing metadata.

    jupyter-cache hashes every cell's metadata: with it, the cached notebook
    would not match the one MyST-NB reads, and every page would run twice.
    """
    for cell in notebook.cells:
        cell.get("metadata", {}).pop("execution", None)
    return notebook


def store(cache, page: PageNotebook, outcome: Outcome) -> dict:
    """Put a successful execution into the cache; return what the page records of it."""
    result = outcome.value
    info = {
        "alone": outcome.alone,
        "alongside": outcome.alongside,
        "cell_seconds": cell_seconds(result.nb),
    }
    without_timing(result.nb)
    read_data = page.read_format or {"name": "nbformat", "type": "plugin"}
    stage = cache.add_nb_to_project(str(page.path), read_data=read_data)
    NbProjectRecord.remove_tracebacks([stage.pk], cache.db)
    cache.cache_notebook_bundle(
        CacheBundleIn(result.nb, stage.uri, data={"execution_seconds": result.time, "book": info}),
        check_validity=False,
        overwrite=True,
    )
    return info


def estimated_seconds(cache, page: PageNotebook) -> float:
    """The page's last execution time in the cache (any version of it), else its size."""
    times = [
        record.data.get("execution_seconds") or 0.0
        for record in cache.list_cache_records()
        if record.uri == str(page.path)
    ]
    return max(times) if times else page.path.stat().st_size / 1000


def plan(app: Sphinx, env: BuildEnvironment, docnames: list[str]):
    """Split the pages to read into cached ones, ones to execute and ones left out."""
    cache = get_cache(env.mystnb_config.execution_cache_path)
    info = execution_info(env)
    only = set(app.config.execution_only)
    unknown = only - env.found_docs
    if unknown:
        LOGGER.warning(
            f"execution_only names pages the book does not have: {sorted(unknown)}",
            type=WARNING_TYPE,
            subtype="execution",
        )
    to_run, left_out = [], []
    for docname in docnames:
        page = page_notebook(app, env, docname)
        if page is None or page.config.execution_mode != "cache" or page.excluded():
            info.pop(docname, None)
            continue
        try:
            record = cache.match_cache_notebook(page.notebook)
        except KeyError:
            record = None
        if record is not None:
            info[docname] = dict(record.data.get("book") or {})
        elif only and docname not in only:
            info[docname] = {"left_out": True}
            left_out.append(page)
        else:
            to_run.append(page)
    return cache, to_run, left_out


def leave_out(
    env: BuildEnvironment,
    pages: list[PageNotebook],
    why: str = "not in execution_only or the cache",
) -> None:
    """Tell MyST-NB not to execute these pages in this build."""
    if not pages:
        return
    patterns = [*env.mystnb_config.execution_excludepatterns, *(str(p.path) for p in pages)]
    env.mystnb_config = env.mystnb_config.copy(execution_excludepatterns=patterns)
    for page in pages:
        LOGGER.info(f"{page.docname}: not executed by MyST-NB ({why})")


class LeftOutWarnings(std_logging.Filter):
    """Drop the warnings of pages a partial build left out (a missing glue value, say).

    Those pages were not executed, so warnings about their missing outputs
    say nothing about the chapter being checked. Installed before Sphinx
    counts warnings, so that ``-W`` judges only the pages that ran.
    """

    def __init__(self, env: BuildEnvironment, docnames: set[str]):
        super().__init__()
        self.env, self.docnames, self.dropped = env, docnames, 0

    def docname_of(self, location) -> str | None:
        """The page a warning's location names: (docname, line), a node, or a path."""
        if isinstance(location, tuple):
            return location[0]
        source = getattr(location, "source", location)
        if not isinstance(source, str):
            return None
        path = Path(source.split(":", 1)[0])  # "/x/y.md:12" and "/x/y.md" alike
        if path.is_absolute():
            return self.env.path2doc(str(path))
        return source if source in self.env.found_docs else None

    def filter(self, record: std_logging.LogRecord) -> bool:
        if self.docname_of(getattr(record, "location", None)) in self.docnames:
            self.dropped += 1
            return False
        return True


def hide_warnings_of(env: BuildEnvironment, docnames: set[str]) -> None:
    if not docnames:
        return
    for handler in std_logging.getLogger("sphinx").handlers:
        if handler.level >= std_logging.WARNING:
            # Before Sphinx's own filters, which count every warning they pass.
            handler.filters.insert(0, LeftOutWarnings(env, docnames))


def culprit(notebook) -> tuple[int, object] | None:
    """The code cell that raised (it holds an error output), else the first that did not run."""
    cells = [(i, c) for i, c in enumerate(notebook.cells) if c.cell_type == "code"]
    for index, cell in cells:
        if any(output.get("output_type") == "error" for output in cell.get("outputs", [])):
            return index, cell
    for index, cell in cells:
        if cell.get("execution_count") is None:
            return index, cell
    return None


def report_failure(page: PageNotebook, result) -> str:
    """Warn naming the page, the cell and the error; return the one-line description."""
    found = culprit(result.nb)
    if found is None:
        message = f"execution failed with {type(result.err).__name__}"
        LOGGER.warning(message, location=page.docname, type=WARNING_TYPE, subtype="execution")
        return message
    index, cell = found
    if type(result.err).__name__ == "CellTimeoutError":
        verb = f"timed out after {page.config.execution_timeout} s (nb_execution_timeout)"
    else:
        error = next(o for o in cell.outputs if o.get("output_type") == "error")
        verb = f"raised {error.ename}: {error.evalue}"
    lines = cell.source.strip().splitlines()
    message = f"code cell {index} {verb}; it starts with: {lines[0] if lines else ''!r}"
    source_map = result.nb.metadata.get("source_map") or []
    line = source_map[index] + 1 if index < len(source_map) else None
    LOGGER.warning(message, location=(page.docname, line), type=WARNING_TYPE, subtype="execution")
    return message


def execute_outdated(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    info = execution_info(env)
    for docname in set(info) - env.found_docs:
        del info[docname]
    cache, to_run, left_out = plan(app, env, docnames)
    leave_out(env, left_out)
    hide_warnings_of(env, {page.docname for page in left_out})
    runs: dict[str, dict] = {}
    failed: list[PageNotebook] = []
    if to_run:
        workers = app.config.execution_workers or os.cpu_count() or 1
        pages = {page.docname: page for page in to_run}
        LOGGER.info(f"executing {len(to_run)} page(s), {workers} at a time")

        def started(job: Job) -> None:
            LOGGER.info(f"{job.name}: executing{' alone' if job.alone else ''}")

        def done(outcome: Outcome) -> None:
            page, result = pages[outcome.name], outcome.value
            runs[outcome.name] = {
                "seconds": round(result.time, 2),
                "succeeded": result.err is None,
                "alone": outcome.alone,
                "alongside": outcome.alongside,
            }
            if result.err is not None:
                info[outcome.name] = {"failed": report_failure(page, result)}
                failed.append(page)
                return
            info[outcome.name] = store(cache, page, outcome)
            company = f" alongside {', '.join(outcome.alongside)}" if outcome.alongside else ""
            LOGGER.info(f"{outcome.name}: executed in {result.time:.1f} s{company}")

        jobs = [
            Job(
                page.docname,
                lambda page=page: execute(page),
                page.alone,
                estimated_seconds(cache, page),
            )
            for page in to_run
        ]
        run_jobs(jobs, workers, on_start=started, on_done=done)
    leave_out(env, failed, why="its execution failed")
    write_runs(app, runs)


def write_runs(app: Sphinx, runs: dict) -> None:
    path = Path(app.outdir).parent / RUNS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(runs, indent=1, sort_keys=True), encoding="utf-8")


def reread_left_out(app: Sphinx, env: BuildEnvironment, added, changed, removed) -> list[str]:
    """Pages left out or failed last time are read (and so executed) again."""
    return sorted(
        d
        for d, record in execution_info(env).items()
        if (record.get("left_out") or record.get("failed"))
        and d in env.found_docs
        and d not in changed
    )


def failed_pages(env: BuildEnvironment) -> list[str]:
    """Pages whose execution failed in this build's scheduler."""
    return sorted(d for d, record in execution_info(env).items() if record.get("failed"))


def setup(app: Sphinx) -> dict:
    app.setup_extension("myst_nb")
    # 0: one worker per CPU. Neither changes any output, so neither re-reads pages.
    app.add_config_value("execution_workers", 0, "", types=[int])
    app.add_config_value("execution_only", [], "", types=[list])
    app.connect("env-get-outdated", reread_left_out)
    app.connect("env-before-read-docs", execute_outdated, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
