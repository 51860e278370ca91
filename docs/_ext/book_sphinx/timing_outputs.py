"""Keep the outputs of cells tagged ``timing`` out of the search index.

A cell tagged ``timing`` prints measurements that change on every build
(durations, speed-ups, "within noise" or "faster"). Indexing them would make
search return pages for numbers that are no longer on them after the next
build, and would make two builds of the same book differ in
``searchindex.js``. Sphinx skips any node with the ``no-search`` class, so
this extension adds that class to those cells' output containers; the code
of the cell stays searchable.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx

TIMING_CLASS = "tag_timing"  # MyST-NB turns a cell's tags into tag_<name> classes


def timing_outputs(doctree: nodes.Node) -> list[nodes.container]:
    """The output containers of the timing-tagged cells in ``doctree``."""
    return [
        output
        for cell in doctree.findall(nodes.container)
        if TIMING_CLASS in cell["classes"]
        for output in cell.children
        if isinstance(output, nodes.container) and output.get("nb_element") == "cell_code_output"
    ]


def hide_from_search(app: Sphinx, doctree: nodes.document) -> None:
    for output in timing_outputs(doctree):
        if "no-search" not in output["classes"]:
            output["classes"].append("no-search")


def setup(app: Sphinx) -> dict:
    app.connect("doctree-read", hide_from_search)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
