"""What chapters write: the ``{claim}`` role and directive, the summary and ledger directives.

The role and directive only build nodes; ``collector`` reads the markers
back from each page's doctree, and ``ledger`` fills in the tables at write
time, when every page has been read.
"""

from __future__ import annotations

from typing import ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective, SphinxRole

from book_sphinx.book_common import WARNING_TYPE
from book_sphinx.claims.model import Claim, anchor, verdict_class

LOGGER = logging.getLogger(__name__)


class claim_reference(nodes.Inline, nodes.Element):
    """An inline link to a claim's ledger entry, resolved at write time."""


class claims_ledger(nodes.General, nodes.Element):
    """Placeholder replaced by the ledger tables once all documents are read."""


class claims_summary(nodes.General, nodes.Element):
    """Placeholder for a compact verdict table of some claims, filled in at write time."""


def known_claim(directive: SphinxDirective | SphinxRole, claim_id: str) -> Claim | None:
    """The claim with ``claim_id``, or None after a warning naming the known IDs."""
    claims = directive.env.book_claims_file
    directive.env.note_dependency(directive.env.book_claims_path)
    claim = claims.claims.get(claim_id)
    if claim is None:
        LOGGER.warning(
            f"unknown claim ID {claim_id!r} (known: {', '.join(sorted(claims.claims))})",
            location=directive.get_location(),
            type=WARNING_TYPE,
            subtype="claims",
        )
    return claim


def next_marker_id(directive: SphinxDirective | SphinxRole, claim_id: str) -> str:
    """``claim-g5-2`` for the second marker of G5 on this page."""
    counters = directive.env.current_document.setdefault("claim_marker_counter", {})
    counters[claim_id] = counters.get(claim_id, 0) + 1
    return f"{anchor(claim_id)}-{counters[claim_id]}"


class ClaimRole(SphinxRole):
    """``{claim}`G5```: an inline badge that links to the ledger entry."""

    def run(self):
        claim_id = self.text.strip()
        claim = known_claim(self, claim_id)
        node = claim_reference(
            claim_id=claim_id,
            ids=[next_marker_id(self, claim_id)] if claim else [],
            classes=["claim-badge"],
        )
        node += nodes.Text(claim_id)
        return [node], []


class ClaimDirective(SphinxDirective):
    """``{claim} ID``: the section that treats a claim, shown as a boxed statement."""

    required_arguments = 1
    has_content = True
    option_spec: ClassVar[dict] = {"class": directives.class_option}

    def run(self):
        claim_id = self.arguments[0].strip()
        claim = known_claim(self, claim_id)
        if claim is None:
            return []
        box = nodes.admonition(
            classes=["claim", verdict_class(claim.verdict), *self.options.get("class", [])],
            ids=[next_marker_id(self, claim_id)],
            claim_id=claim_id,
        )
        title = nodes.title()
        title += claim_reference("", nodes.Text(f"Claim {claim_id}"), claim_id=claim_id)
        title += nodes.Text(f" · {' + '.join(claim.kind)} · ")
        title += nodes.inline(claim.verdict, claim.verdict, classes=["claim-verdict"])
        box += title
        box += nodes.paragraph(claim.statement, claim.statement, classes=["claim-statement"])
        if self.content:
            self.state.nested_parse(self.content, self.content_offset, box)
        self.set_source_info(box)
        return [box]


class ClaimsLedgerDirective(SphinxDirective):
    """``{claims-ledger}``: where the generated ledger goes."""

    def run(self):
        self.env.note_dependency(self.env.book_claims_path)
        return [claims_ledger()]


class ClaimsSummaryDirective(SphinxDirective):
    """``{claims-summary} G4 D1 P6``: a compact table of those claims and their verdicts."""

    required_arguments = 1
    final_argument_whitespace = True

    def run(self):
        ids = [i for i in self.arguments[0].split() if known_claim(self, i)]
        return [claims_summary(claim_ids=ids)]
