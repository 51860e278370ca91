"""Group executed code cells tagged with a framework into synchronized tabs.

MyST-NB does not execute a ``{code-cell}`` nested inside a ``tab-set``
directive, so chapters write every cell at the top level and tag it
(``:tags: [pytorch]`` or ``:tags: [tensorflow]``). This transform runs after
MyST-NB has rendered the cells with their outputs, finds runs of adjacent
tagged cells and wraps each run in a sphinx-design tab set. Every tab carries
the same sync group, so picking a framework once switches all tabs on the
page; sphinx-design stores the choice in ``localStorage``, so it also holds
on the next page.

Cells with the same tag inside one run share a tab, in source order. Untagged
cells, and anything that is not a code cell, end a run and render normally.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform
from sphinx_design.shared import create_component

from book_sphinx.book_common import PRIORITY_FRAMEWORK_TABS

SYNC_GROUP = "framework"

# tag -> tab label, in the order tabs appear in every tab set.
DEFAULT_FRAMEWORKS = {"pytorch": "PyTorch", "tensorflow": "TensorFlow"}


def cell_framework(node: nodes.Node, frameworks: dict[str, str]) -> str | None:
    """Return the framework tag of a MyST-NB code cell node, or None."""
    if not isinstance(node, nodes.container) or node.get("nb_element") != "cell_code":
        return None
    tags = (node.get("cell_metadata") or {}).get("tags", [])
    found = [tag for tag in tags if tag in frameworks]
    return found[0] if found else None


def framework_runs(parent: nodes.Element, frameworks: dict[str, str]) -> list[list[nodes.Node]]:
    """Split the children of ``parent`` into runs of adjacent framework cells."""
    runs: list[list[nodes.Node]] = []
    current: list[nodes.Node] = []
    for child in parent.children:
        if cell_framework(child, frameworks):
            current.append(child)
            continue
        if current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


def build_tab_set(cells: list[nodes.Node], frameworks: dict[str, str]) -> nodes.container:
    """Build a sphinx-design tab set with one tab per framework found in ``cells``."""
    by_framework: dict[str, list[nodes.Node]] = {}
    for cell in cells:
        by_framework.setdefault(cell_framework(cell, frameworks), []).append(cell)

    items = []
    for tag, label in frameworks.items():
        if tag not in by_framework:
            continue
        tab_label = nodes.rubric(label, label, classes=["sd-tab-label"])
        tab_label["sync_id"] = tag
        tab_label["sync_group"] = SYNC_GROUP
        content = create_component(
            "tab-content", classes=["sd-tab-content"], children=by_framework[tag]
        )
        items.append(
            create_component(
                "tab-item",
                classes=["sd-tab-item", f"framework-{tag}"],
                children=[tab_label, content],
            )
        )
    tab_set = create_component("tab-set", classes=["sd-tab-set", "framework-tabs"], children=items)
    tab_set.source, tab_set.line = cells[0].source, cells[0].line
    return tab_set


class FrameworkTabsTransform(SphinxTransform):
    """Wrap runs of framework-tagged cells into synchronized tab sets."""

    default_priority = PRIORITY_FRAMEWORK_TABS

    def apply(self, **kwargs) -> None:
        frameworks = self.config.framework_tabs
        parents = {
            id(node.parent): node.parent
            for node in self.document.findall(nodes.container)
            if cell_framework(node, frameworks)
        }
        for parent in parents.values():
            for run in framework_runs(parent, frameworks):
                index = parent.index(run[0])
                tab_set = build_tab_set(run, frameworks)
                for cell in run:
                    parent.remove(cell)
                parent.insert(index, tab_set)


def setup(app: Sphinx) -> dict:
    app.setup_extension("sphinx_design")
    app.add_config_value("framework_tabs", DEFAULT_FRAMEWORKS, "env", types=[dict])
    app.add_transform(FrameworkTabsTransform)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
