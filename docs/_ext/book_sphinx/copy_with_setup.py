"""A "copy with setup" button on every code cell, and every section as a Python script.

The plain copy button copies one cell, which rarely runs on its own: it uses
names earlier cells defined. For each code cell of an executed page this
extension computes the cell's slice (``cell_slices``: the earlier cells it
needs, followed back) and puts its cell numbers next to the cell, in an
empty ``<template>`` that ``_static/copy-with-setup.js`` turns into a second
button. The script joins the cells' code as the page shows it, so no code is
sent twice; only a cell whose input the page hides has its code in a
template of its own. A slice that cannot be offered is labelled on the page
instead, with the reason:

* it includes a cell tagged ``heavy`` (ten seconds or more, such as a whole
  benchmark or an export): the snippet would repeat it, so it "runs as part
  of the chapter" and the reader is pointed at the chapter's notebook;
* the cell needs a name that only a cell tagged ``raises-exception`` defines.

Each ``##`` section also gets a link to itself as a Python script, built
from the same slices (``section_scripts``): the union of its cells' slices,
in order, with the values the page displays turned into prints.

What was offered and what was labelled is written to ``slices.json`` next to
the HTML; ``tests/reproduce`` runs every offered snippet and every script in
a fresh kernel or process and compares what it prints with the page.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform

from book_sphinx.book_common import PRIORITY_COPY_WITH_SETUP, is_executed_page
from book_sphinx.cell_slices import HEAVY, Cell, PackageFunctions, Slice, all_slices, slice_source
from book_sphinx.section_scripts import section_script

SLICES_FILE = "slices.json"
SCRIPTS_DIR = "_scripts"


def code_cells(doctree: nodes.document) -> list[nodes.container]:
    return [n for n in doctree.findall(nodes.container) if n.get("nb_element") == "cell_code"]


def cell_source(cell: nodes.container) -> str:
    source = next((n for n in cell.children if n.get("nb_element") == "cell_code_source"), None)
    block = source.next_node(nodes.literal_block) if source is not None else None
    return block.astext() if block is not None else ""


def cell_tags(cell: nodes.container) -> tuple[str, ...]:
    return tuple((cell.get("cell_metadata") or {}).get("tags", []))


def label_reason(cells: list[Cell], indices: list[int], index: int, missing: set[str]) -> str:
    """Why a slice is not offered as a snippet, or "" when it is."""
    if missing:
        return (
            f"it needs {', '.join(sorted(missing))}, which only a cell that raises on purpose "
            "defines"
        )
    heavy = [i for i in indices if HEAVY in cells[i].tags and i != index]
    if heavy or HEAVY in cells[index].tags:
        return "its setup repeats a slow step (marked heavy)"
    return ""


def template_node(snippet: str, indices: list[int], index: int, reason: str) -> nodes.raw:
    """The slice's cell numbers (the script finds their code on the page)."""
    lines = len(snippet.strip().splitlines())
    attributes = (
        f'class="copy-with-setup" data-cell="{index}" '
        f'data-cells="{" ".join(map(str, indices))}" data-lines="{lines}"'
    )
    if reason:
        attributes += f' data-label="{html.escape(reason, quote=True)}"'
    return nodes.raw("", f"<template {attributes}></template>", format="html")


def hidden_source_node(source: str, index: int) -> nodes.raw:
    """The code of a cell whose input the page hides, for the slices that need it."""
    opening = f'<template class="copy-with-setup-source" data-cell="{index}">'
    return nodes.raw("", f"{opening}{html.escape(source)}</template>", format="html")


class CheckBudget:
    """Which snippets and scripts the reproduction tests can afford to run on their own.

    The build knows how long each cell took (``execution_scheduler`` keeps it
    with the cached outputs). A snippet made of the page's first cells, in
    order, costs nothing extra: the page's own re-run checks it. Snippets
    that are prefixes of one another share one run, its last cell's output
    read at each step (``book_reproduction.plan_runs``), so a snippet that
    extends a run already paid for costs only the cells it adds. Any other
    snippet costs its cells' seconds, and a script its cells' seconds. What
    would cost more than ``single`` seconds, or take the page past ``page``
    seconds of such runs, cheapest first, is labelled instead of offered.
    Without timings (a page executed before they were kept) everything is
    offered.

    >>> budget = CheckBudget([1.0, 5.0, 1.0, 1.0], [0, 1, 2, 3], single=20, page=10)
    >>> budget.cost([0, 1]), budget.cost([0, 2])  # a prefix of the page; a run of its own
    (0.0, 4.0)
    >>> budget.afford_snippets({"a": [0, 2], "b": [0, 2, 3], "c": [0, 1, 3]})
    {'c': "the build's time for checking this page's snippets is used up"}
    >>> budget.left  # "a" took 4 s and "b", which extends its run by one cell, 1 s
    5.0
    """

    START_SECONDS = 2.0  # a fresh kernel or interpreter, before the first cell

    def __init__(self, seconds: list | None, order: list[int], single: float, page: float):
        self.seconds, self.order, self.single, self.left = seconds, order, single, page

    def cost(self, numbers: list[int]) -> float:
        if not self.seconds or self.order[: len(numbers)] == numbers:
            return 0.0
        return self.START_SECONDS + sum(self.seconds[n] or 0.0 for n in numbers)

    def afford(self, costs: dict) -> dict:
        """``{key: label}`` for the items of ``costs`` the budget does not cover."""
        labels = {}
        for key, seconds in sorted(costs.items(), key=lambda item: item[1]):
            label = self.label(seconds)
            if label:
                labels[key] = label
            else:
                self.left -= seconds
        return labels

    def afford_snippets(self, snippets: dict) -> dict:
        """``{key: label}`` for the snippets (``{key: cell numbers}``) the budget does not cover."""
        runs: list[list[int]] = [self.order]
        labels = {}
        for key, numbers in sorted(snippets.items(), key=lambda item: self.cost(item[1])):
            if any(run[: len(numbers)] == numbers for run in runs):
                continue  # a prefix of a run already paid for
            shorter = [run for run in runs[1:] if numbers[: len(run)] == run]
            base = max(shorter, key=len, default=None)
            seconds = self.cost(numbers) - (self.cost(base) if base else 0.0)
            label = self.label(self.cost(numbers)) or (seconds > self.left and self.label(seconds))
            if label:
                labels[key] = label
                continue
            self.left -= seconds
            if base:
                runs.remove(base)
            runs.append(numbers)
        return labels

    def label(self, seconds: float) -> str:
        if seconds > self.single:
            return f"checking it on its own would take about {seconds:.0f} s"
        if seconds > self.left:
            return "the build's time for checking this page's snippets is used up"
        return ""


class CopyWithSetupTransform(SphinxTransform):
    """Attach each code cell's slice, as the snippet the second button copies."""

    default_priority = PRIORITY_COPY_WITH_SETUP  # before the cells move into tabs

    def apply(self, **kwargs) -> None:
        if not is_executed_page(self.env, self.env.docname):
            return
        found = code_cells(self.document)
        cells = [Cell(cell_source(c), cell_tags(c)) for c in found]
        # Number cells as the notebook does (its cells, Markdown included), so
        # that the tests can find each one in the page's downloadable notebook.
        numbers = [node["cell_index"] for node in found]
        execution = getattr(self.env, "book_execution", {}).get(self.env.docname, {})
        config = self.config
        budget = CheckBudget(
            execution.get("cell_seconds"),
            numbers,
            config.copy_with_setup_snippet_seconds,
            config.copy_with_setup_page_seconds,
        )
        package_dir = config.copy_with_setup_package_dir
        slices = all_slices(cells, PackageFunctions(Path(package_dir) if package_dir else None))
        reasons = {
            i: label_reason(cells, piece.indices, i, piece.missing)
            for i, piece in enumerate(slices)
        }
        offered = {
            i: [numbers[j] for j in piece.indices]
            for i, piece in enumerate(slices)
            if not reasons[i]
        }
        costs = {i: budget.cost(cells_run) for i, cells_run in offered.items()}
        reasons.update(budget.afford_snippets(offered))
        records = []
        sources = [
            next((n for n in node.children if n.get("nb_element") == "cell_code_source"), None)
            for node in found
        ]
        needed = {
            i
            for position, piece in enumerate(slices)
            if sources[position] is not None
            for i in piece.indices
        }
        for position, (node, piece) in enumerate(zip(found, slices, strict=True)):
            source = sources[position]
            if source is None:
                # The input is hidden: nothing to copy, but a slice may need its code.
                if position in needed:
                    node.append(hidden_source_node(cells[position].source, numbers[position]))
                continue
            snippet = slice_source(cells, piece)
            indices = [numbers[i] for i in piece.indices]
            source += template_node(snippet, indices, numbers[position], reasons[position])
            records.append(
                {
                    "cell": numbers[position],
                    "cells": indices,
                    "lines": len(snippet.strip().splitlines()),
                    "label": reasons[position],
                    "check_seconds": costs.get(position),
                    "tags": list(cells[position].tags),
                }
            )
        self.env.book_slices = getattr(self.env, "book_slices", {})
        self.env.book_slices[self.env.docname] = records
        script_budget = CheckBudget(
            execution.get("cell_seconds"),
            [],
            config.copy_with_setup_script_seconds,
            config.copy_with_setup_script_page_seconds,
        )
        add_section_scripts(self, cells, slices, found, script_budget)


def section_cells(section: nodes.section, found: list[nodes.container]) -> list[int]:
    """Indices of the code cells inside ``section`` (subsections included)."""
    inside = {id(n) for n in section.findall(nodes.container)}
    return [i for i, cell in enumerate(found) if id(cell) in inside]


def add_section_scripts(
    transform: SphinxTransform,
    cells: list[Cell],
    slices: list[Slice],
    found,
    budget: CheckBudget,
) -> None:
    """Give each ``##`` section a link to itself as a Python script."""
    env = transform.env
    scripts = env.book_scripts = getattr(env, "book_scripts", {})
    scripts[env.docname] = []
    pending = []
    for number, section in enumerate(transform.document.findall(nodes.section)):
        parent = section.parent
        if not isinstance(parent, nodes.section) or isinstance(parent.parent, nodes.section):
            continue  # the page's own section, or a "###" one (part of its "##" script)
        members = section_cells(section, found)
        if not members:
            continue
        title = section.next_node(nodes.title)
        anchor = section["ids"][0] if section["ids"] else f"section-{number}"
        name = f"{Path(env.docname).name}--{anchor}.py"
        figures = {i for i in members if next(found[i].findall(nodes.image), None) is not None}
        script = section_script(
            cells, members, title=title.astext(), figures=figures, slices=slices
        )
        numbers = [found[i]["cell_index"] for i in members]
        included = [found[i]["cell_index"] for i in script.included]
        record = {"file": name, "cells": numbers, "text": script.text, **script.record}
        scripts[env.docname].append(record)
        pending.append((section, title, record, budget.cost(included)))
    labels = budget.afford({i: cost for i, (*_, cost) in enumerate(pending)})
    for index, (section, title, record, cost) in enumerate(pending):
        record["check_seconds"] = cost
        record["label"] = labels.get(index, "")
        note = f"{record['lines']} lines"
        if record["heavy"] or record["incomplete"] or record["label"]:
            note += "; not run on its own by the book's checks"
        up = "../" * env.docname.count("/")
        link = nodes.raw(
            "",
            f'<p class="section-script"><a href="{up}{SCRIPTS_DIR}/'
            f'{html.escape(record["file"])}" download>Download this section as a Python '
            f"script</a> ({note})</p>",
            format="html",
        )
        section.insert(section.index(title) + 1, link)


def purge(app: Sphinx, env, docname: str) -> None:
    for attribute in ("book_slices", "book_scripts"):
        getattr(env, attribute, {}).pop(docname, None)


def merge(app: Sphinx, env, docnames, other) -> None:
    for attribute in ("book_slices", "book_scripts"):
        mine = getattr(env, attribute, {})
        mine.update({d: v for d, v in getattr(other, attribute, {}).items() if d in docnames})
        setattr(env, attribute, mine)


def write_report(app: Sphinx, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    scripts = getattr(app.env, "book_scripts", {})
    folder = Path(app.outdir) / SCRIPTS_DIR
    for page_scripts in scripts.values():
        for script in page_scripts:
            write_if_changed(folder / script["file"], script["text"])
    report = {
        page: {
            "cells": getattr(app.env, "book_slices", {}).get(page, []),
            "scripts": [{k: v for k, v in s.items() if k != "text"} for s in scripts.get(page, [])],
        }
        for page in sorted(getattr(app.env, "book_slices", {}))
    }
    write_if_changed(Path(app.outdir) / SLICES_FILE, json.dumps(report, indent=1, sort_keys=True))


def write_if_changed(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def setup(app: Sphinx) -> dict:
    # What the reproduction tests may spend checking snippets and scripts on
    # their own (see CheckBudget); they change labels only, so no page re-reads.
    # Snippets run in kernels forked with the frameworks imported, so their
    # budget is a safety net: `heavy` tags decide what is offered. Scripts
    # start new processes, 7-9 s of imports each, and are budgeted tightly.
    app.add_config_value("copy_with_setup_snippet_seconds", 45.0, "html", types=[float, int])
    app.add_config_value("copy_with_setup_page_seconds", 300.0, "html", types=[float, int])
    app.add_config_value("copy_with_setup_script_seconds", 30.0, "html", types=[float, int])
    app.add_config_value("copy_with_setup_script_page_seconds", 40.0, "html", types=[float, int])
    # The book's package: its functions that change an argument in place tie
    # that argument to the call in every slice (see cell_slices.PackageFunctions).
    app.add_config_value("copy_with_setup_package_dir", "", "env", types=[str])
    app.add_transform(CopyWithSetupTransform)
    app.add_js_file("copy-with-setup.js", loading_method="defer")
    app.add_css_file("copy-with-setup.css")
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    app.connect("build-finished", write_report)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
