"""Re-run a built page's notebook in a fresh kernel and compare its outputs with the page's.

This is the reader's promise checked once per page: the notebook a reader
downloads (the ``.ipynb`` entry of the page's download menu, whose code is
exactly what the copy buttons copy) runs with ``jupyter execute`` in an empty
folder and a fresh kernel, and prints what the page shows. Every output is
compared except the outputs of cells tagged ``timing``: printed text, results,
displayed tables and figures, and the errors of cells tagged
``raises-exception``. Standard error is compared without the native log lines
(TensorFlow's C++ logging, absl) that a default kernel captures and the
book's kernel keeps out of the page.

The one setting the fresh kernel is given is the figure format (SVG, with the
book's fixed hash salt), so that figures can be compared byte for byte; a
reader's default kernel shows the same figures as PNG.

Used by ``tests/reproduce`` on the book and by ``tests/machinery`` on the
fixture book (to show that a page whose output changes fails the check).
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import re
import subprocess
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from book_sphinx.stream_merging import merge_streams

BIN = Path(sys.executable).parent
CELL_TIMEOUT = 600  # seconds; the build allows 180 per cell, a page may raise its own limit
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
#: Lines that native libraries write to file descriptor 2. The book's kernel
#: sends them to the build log; a default kernel captures them into stderr.
NATIVE_LOG_LINE = re.compile(
    r"^(?:[IWEF]\d{4} [\d:.]+ +\d+ \S+:\d+\] |WARNING: All log messages before absl)"
)
#: Figure settings of the fresh kernel: the book's, so figures compare exactly.
FIGURE_PROFILE = """\
c = get_config()  # noqa: F821
c.InlineBackend.figure_formats = {"svg"}
c.InlineBackend.rc = {"svg.hashsalt": "pytorch-vs-tensorflow", "figure.dpi": 100}
"""


def published_notebook(html_dir: Path, page: str) -> nbformat.NotebookNode:
    """The page's notebook with the outputs the page shows (the .ipynb download)."""
    return nbformat.read(html_dir / "_sources" / f"{page}.ipynb", as_version=4)


@dataclass
class Rerun:
    """What ``jupyter execute`` made of a page's notebook."""

    page: str
    returncode: int
    log: str
    notebook: nbformat.NotebookNode | None = None
    seconds: float = 0.0
    details: dict = field(default_factory=dict)


def fresh_kernel_environment(workdir: Path) -> dict[str, str]:
    """The environment of a reader's new kernel: a fresh IPython profile (figures aside)."""
    profile = workdir / "ipython" / "profile_default"
    profile.mkdir(parents=True)
    (profile / "ipython_kernel_config.py").write_text(FIGURE_PROFILE, encoding="utf-8")
    env = {**os.environ, "IPYTHONDIR": str(workdir / "ipython")}
    env.pop("MPLBACKEND", None)
    # Figures carry a date in their metadata; give them the build's.
    env.setdefault("SOURCE_DATE_EPOCH", "1767225600")
    return env


def rerun_page(html_dir: Path, page: str, workdir: Path, env: dict | None = None) -> Rerun:
    """Run the page's downloadable notebook with ``jupyter execute`` in ``workdir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    name = Path(page).name
    source = html_dir / "_sources" / f"{page}.ipynb"
    (workdir / f"{name}.ipynb").write_bytes(source.read_bytes())
    command = [
        str(BIN / "jupyter"),
        "execute",
        f"{name}.ipynb",
        "--output",
        f"{name}-rerun",
        f"--timeout={CELL_TIMEOUT}",
    ]
    environment = {**fresh_kernel_environment(workdir), **(env or {})}
    result = subprocess.run(
        command, cwd=workdir, env=environment, capture_output=True, text=True, check=False
    )
    executed = workdir / f"{name}-rerun.ipynb"
    notebook = nbformat.read(executed, as_version=4) if executed.is_file() else None
    return Rerun(page, result.returncode, result.stdout + result.stderr, notebook)


def stderr_without_native_logs(text: str) -> str:
    return "".join(
        line for line in text.splitlines(keepends=True) if not NATIVE_LOG_LINE.match(line)
    )


def comparable(outputs: list) -> list[dict]:
    """A cell's outputs as they are compared: streams merged as on the page, logs dropped."""
    result = []
    for output in merge_streams(copy.deepcopy(outputs)):
        kind = output.output_type
        if kind == "stream":
            text = ANSI_ESCAPE.sub("", output.text)
            if output.name == "stderr":
                text = stderr_without_native_logs(text)
            if text:
                result.append({"stream": output.name, "text": text})
        elif kind in ("execute_result", "display_data"):
            result.append({kind: dict(output.data)})
        elif kind == "error":
            result.append({"error": output.ename, "value": ANSI_ESCAPE.sub("", output.evalue)})
    return result


def tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def differences(page: nbformat.NotebookNode, rerun: nbformat.NotebookNode) -> list[str]:
    """Where the re-run's outputs differ from the page's (timing cells aside)."""
    shown = [c for c in page.cells if c.cell_type == "code"]
    ran = [c for c in rerun.cells if c.cell_type == "code"]
    if [c.source for c in shown] != [c.source for c in ran]:
        return ["the re-run notebook does not hold the page's cells"]
    problems = []
    for index, (expected, got) in enumerate(zip(shown, ran, strict=True)):
        cell_tags = tags(expected)
        raised = any(o.output_type == "error" for o in got.outputs)
        if "raises-exception" in cell_tags and not raised:
            problems.append(f"cell {index} is tagged raises-exception but did not raise")
        if "timing" in cell_tags:
            continue
        want, have = comparable(expected.outputs), comparable(got.outputs)
        if want != have:
            first = expected.source.strip().splitlines()[:1]
            problems.append(
                f"cell {index} ({first[0] if first else ''!r}) output differs:\n"
                f"  page: {json.dumps(want)[:1500]}\n  run:  {json.dumps(have)[:1500]}"
            )
    return problems


# --- Snippets: each cell with the earlier cells it needs, run on its own ----------------


@dataclass(frozen=True)
class Snippet:
    """What a cell's "copy with setup" button copies, as the page holds it."""

    page: str
    cell: int  # the cell's index in the page's notebook
    cells: tuple[int, ...]  # the cells the snippet joins, in order, ending with ``cell``
    text: str
    label: str  # why the page does not offer it, or ""

    @property
    def offered(self) -> bool:
        return not self.label


def page_snippets(html_dir: Path, page: str) -> list[Snippet]:
    """Every cell's snippet, assembled from the built page as its script does.

    Each cell's ``<template class="copy-with-setup">`` lists the cells of its
    slice; ``copy-with-setup.js`` joins their code as the page shows it (or,
    for a cell whose input is hidden, as its own template holds it), a blank
    line between them. The browser test checks that the script copies this.
    """
    from book_html import read_page

    soup = read_page(html_dir, page)
    code = {
        int(t["data-cell"]): t.get_text() for t in soup.select("template.copy-with-setup-source")
    }
    templates = soup.select("template.copy-with-setup")
    for template in templates:
        block = template.parent.select_one("div.highlight pre")
        if block is not None:
            code[int(template["data-cell"])] = block.get_text()
    found = []
    for template in templates:
        cells = tuple(int(i) for i in template["data-cells"].split())
        found.append(
            Snippet(
                page=page,
                cell=int(template["data-cell"]),
                cells=cells,
                text="\n\n".join(code[i].strip("\n") for i in cells) + "\n",
                label=template.get("data-label", ""),
            )
        )
    return sorted(found, key=lambda s: s.cell)


def snippets_checked_apart(snippets: list[Snippet], order: tuple[int, ...]) -> list[Snippet]:
    """The offered snippets that need a run of their own: not the page's first cells in order.

    (Those are checked by the page's own re-run.)
    """
    return [s for s in snippets if s.offered and order[: len(s.cells)] != s.cells]


def plan_runs(snippets: list[Snippet], covered: tuple[int, ...] = ()) -> list[tuple[int, ...]]:
    """The fewest cell sequences to run so that every offered snippet is a prefix of one.

    Running a snippet's cells in a fresh kernel, in order, and reading the
    last one's output verifies it; a longer run that starts with exactly
    those cells gives the same output at that point, so snippets that are
    prefixes of one another share a run. ``covered`` is a run made anyway
    (the page's own re-run, every cell in order): its prefixes need no run.
    """
    runs: list[tuple[int, ...]] = []
    for cells in sorted({s.cells for s in snippets if s.offered}, key=len, reverse=True):
        if covered[: len(cells)] == cells or any(run[: len(cells)] == cells for run in runs):
            continue
        runs.append(cells)
    return runs


def snippet_notebook(page_notebook: nbformat.NotebookNode, cells: tuple[int, ...]):
    """A notebook of the page's cells ``cells`` (with their tags), outputs cleared."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    for index in cells:
        cell = page_notebook.cells[index]
        notebook.cells.append(nbformat.v4.new_code_cell(cell.source, metadata={"tags": tags(cell)}))
    return notebook


def run_cells(page_notebook, cells: tuple[int, ...], workdir: Path, kernels=None) -> Rerun:
    """Run ``cells`` of the page's notebook, in order, in a fresh kernel in ``workdir``.

    ``kernels``, a :class:`zygote.Zygote`, starts the kernel by forking a
    process that has imported the frameworks already; without it, the kernel is
    a new ``python3`` process.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    workdir.mkdir(parents=True, exist_ok=True)
    notebook = snippet_notebook(page_notebook, cells)
    manager = kernels.kernel_manager() if kernels else None
    client = NotebookClient(
        notebook,
        km=manager,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
        # Every output is in by then; a graceful shutdown would wait 0.5 s per run.
        shutdown_kernel="immediate",
    )
    # Runs happen on worker threads: a loop of its own, closed after the run, so
    # no thread leaves an open event loop (and its sockets) to the garbage collector.
    loop = asyncio.new_event_loop()
    try:
        # cleanup_kc: shut the kernel down even though nbclient does not own its manager
        execution = client.async_execute(env=fresh_kernel_environment(workdir), cleanup_kc=True)
        loop.run_until_complete(execution)
    except CellExecutionError as error:
        return Rerun("", 1, str(error), notebook)
    except Exception:  # a kernel that did not start fails this run, not the whole pass
        return Rerun("", 1, f"the kernel did not run:\n{traceback.format_exc()}", notebook)
    finally:
        loop.close()
    return Rerun("", 0, "", notebook)


def snippet_problems(page_notebook, snippet: Snippet, run: Rerun) -> list[str]:
    """Where the snippet's last cell, run after its setup, differs from the page."""
    position = len(snippet.cells) - 1
    got = run.notebook.cells[position]
    expected = page_notebook.cells[snippet.cell]
    cell_tags = tags(expected)
    raised = any(o.output_type == "error" for o in got.outputs)
    if "raises-exception" in cell_tags:
        return [] if raised else [f"cell {snippet.cell} should raise but did not"]
    if raised or (run.returncode != 0 and not got.outputs):
        return [f"cell {snippet.cell} failed after its setup:\n{run.log[-1500:]}"]
    if "timing" in cell_tags:
        return []
    want, have = comparable(expected.outputs), comparable(got.outputs)
    if want != have:
        return [
            f"cell {snippet.cell} output differs:\n  page: {json.dumps(want)[:1200]}\n"
            f"  run:  {json.dumps(have)[:1200]}"
        ]
    return []


def code_cell_order(notebook) -> tuple[int, ...]:
    """The notebook indices of the code cells, in the order they run."""
    return tuple(i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code")


def section_scripts(html_dir: Path, page: str) -> list[dict]:
    """The page's section scripts as the build recorded them (``slices.json``)."""
    report = json.loads((html_dir / "slices.json").read_text(encoding="utf-8"))
    return report.get(page, {}).get("scripts", [])
