"""What the transforms that add a box to executed chapters share.

The version stamp and the launch-locally note each apply to the executed
pages whose names match a configuration value, and each puts its box under
the page's title.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.transforms import SphinxTransform

from book_sphinx.book_common import is_executed_page_matching


class ExecutedPageTransform(SphinxTransform):
    """A transform that runs :meth:`apply_to_page` on the executed pages it is configured for.

    ``patterns_option`` names the configuration value (a list of glob
    patterns of page names) that selects the pages.
    """

    patterns_option: str

    def apply(self, **kwargs) -> None:
        docname = self.env.docname
        patterns = getattr(self.config, self.patterns_option)
        if is_executed_page_matching(self.env, docname, patterns):
            self.apply_to_page(docname)

    def apply_to_page(self, docname: str) -> None:
        raise NotImplementedError


def insert_under_title(document: nodes.document, node: nodes.Node) -> None:
    """Put ``node`` right after the title of the page's first section (if it has one)."""
    section = document.next_node(nodes.section)
    if section is not None:
        title = section.next_node(nodes.title)
        section.insert(section.index(title) + 1, node)
