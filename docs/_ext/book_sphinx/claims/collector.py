"""Per-page claim markers, kept the way Sphinx's parallel reader needs them.

An ``EnvironmentCollector`` reads each page's markers from its doctree once
the page is read, stores them under the page's name, forgets them when the
page is read again or removed, and merges them from the processes of a
parallel build: so the ledger is the same whether the book was read serially
or in parallel.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.environment.collectors import EnvironmentCollector
from sphinx.util import logging

from book_sphinx.book_common import WARNING_TYPE
from book_sphinx.claims.markup import claim_reference, claims_ledger, claims_summary
from book_sphinx.claims.model import Marker

LOGGER = logging.getLogger(__name__)


def section_of(node: nodes.Node) -> nodes.section | None:
    while node is not None and not isinstance(node, nodes.section):
        node = node.parent
    return node


def section_has_executed_cell(section: nodes.Element) -> bool:
    """True if ``section`` holds a code cell that produced at least one output."""
    return any(
        node.get("nb_element") == "cell_code_output" and len(node.children) > 0
        for node in section.findall(nodes.container)
    )


def page_markers(docname: str, doctree: nodes.document) -> list[Marker]:
    """The claims a page treats (boxes, with their evidence) and mentions (badges)."""
    markers = []
    for box in doctree.findall(nodes.admonition):
        if "claim_id" in box:
            section = section_of(box)
            markers.append(
                Marker(
                    docname=docname,
                    claim=box["claim_id"],
                    anchor=box["ids"][0],
                    role="treats",
                    has_evidence=section_has_executed_cell(section or doctree),
                    section=section.next_node(nodes.title).astext() if section else "",
                )
            )
    for badge in doctree.findall(claim_reference):
        if badge["ids"]:  # the link in a box's title is not a mention
            markers.append(Marker(docname, badge["claim_id"], badge["ids"][0], "mentions"))
    return markers


class ClaimsCollector(EnvironmentCollector):
    """Stores ``{docname: {"markers": [...], "ledger": bool}}`` as ``env.book_claims``."""

    def __init__(self) -> None:
        self.pages_read = False

    @staticmethod
    def pages(env: BuildEnvironment) -> dict[str, dict]:
        if not hasattr(env, "book_claims"):
            env.book_claims = {}
        return env.book_claims

    @classmethod
    def markers(cls, env: BuildEnvironment) -> list[Marker]:
        # By page name, not by the order parallel readers happened to merge the pages in.
        pages = cls.pages(env)
        return [m for docname in sorted(pages) for m in pages[docname]["markers"]]

    def clear_doc(self, app: Sphinx, env: BuildEnvironment, docname: str) -> None:
        self.pages(env).pop(docname, None)

    def merge_other(self, app, env, docnames, other) -> None:
        self.pages_read = self.pages_read or bool(docnames)
        for docname in docnames:
            if docname in self.pages(other):
                self.pages(env)[docname] = self.pages(other)[docname]

    def process_doc(self, app: Sphinx, doctree: nodes.document) -> None:
        self.pages_read = True
        env = app.env
        markers = page_markers(env.docname, doctree)
        check_evidence(app, env.docname, markers, doctree)
        has_ledger = next(doctree.findall(claims_ledger), None) is not None
        has_summary = next(doctree.findall(claims_summary), None) is not None
        self.pages(env)[env.docname] = {"markers": markers, "ledger": has_ledger or has_summary}

    def get_updated_docs(self, app: Sphinx, env: BuildEnvironment) -> list[str]:
        # The ledger and the summaries show markers from every page: write them
        # again whenever any page was read.
        if not self.pages_read:
            return []
        return sorted(d for d, page in self.pages(env).items() if page["ledger"])


def check_evidence(app: Sphinx, docname: str, markers: list[Marker], doctree) -> None:
    """Warn where a demo or measure claim's section shows no executed output."""
    execution = getattr(app.env, "book_execution", {}).get(docname, {})
    if execution.get("left_out") or execution.get("failed"):
        return  # the page was not executed in this build: nothing to check
    claims = app.env.book_claims_file.claims
    boxes = {box["ids"][0]: box for box in doctree.findall(nodes.admonition) if "claim_id" in box}
    for marker in markers:
        claim = claims.get(marker.claim)
        if marker.role == "treats" and claim.needs_evidence and not marker.has_evidence:
            kinds = "/".join(k for k in claim.kind if k in ("demo", "measure"))
            LOGGER.warning(
                f"claim {marker.claim} is a {kinds} claim, but its section has no "
                "executed code cell with output",
                location=boxes[marker.anchor],
                type=WARNING_TYPE,
                subtype="claims",
            )
