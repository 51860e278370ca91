"""The claims ledger: one data file, markers in chapters, a generated page.

The claims the book examines live in ``claims_file`` (ID, our statement,
kind, verdict, the packages the verdict depends on, sources). Chapters mark
them in two ways:

``{claim}`G5```
    an inline reference: a badge that links to the ledger entry.
``:::{claim} G5`` ... ``:::``
    the place that *treats* the claim: a box with the statement and verdict.
    For a ``demo`` or ``measure`` claim, the same section must contain an
    executed code cell with output, or the build warns (and so fails).

``:::{claims-summary} G4 D1``  renders a compact verdict table of those claims.

``:::{claims-ledger}``  renders the ledger: every claim with its verdict,
the installed versions of the packages it depends on, and links to every
place that treats or mentions it. Claims no chapter treats are listed under
"Not yet covered". An unknown ID is a build warning. The data and the
markers are also written to ``claims.json`` next to the HTML, for tests.

Modules: ``model`` (the data), ``markup`` (role and directives),
``collector`` (per-page markers, parallel-safe), ``ledger`` (the tables).
Warnings have type ``book`` and subtype ``claims``.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx

from book_sphinx.claims.collector import ClaimsCollector
from book_sphinx.claims.ledger import Context, build_ledger, build_summary
from book_sphinx.claims.markup import (
    ClaimDirective,
    ClaimRole,
    ClaimsLedgerDirective,
    ClaimsSummaryDirective,
    claim_reference,
    claims_ledger,
    claims_summary,
)
from book_sphinx.claims.model import anchor, load_claims


def load_claims_file(app: Sphinx) -> None:
    app.env.book_claims_path = str(Path(app.srcdir, app.config.claims_file))
    app.env.book_claims_file = load_claims(Path(app.env.book_claims_path))


def resolve_reference(app: Sphinx, node: claim_reference, docname: str) -> nodes.reference:
    claim = app.env.book_claims_file.claims.get(node["claim_id"])
    uri = app.builder.get_relative_uri(docname, app.config.claims_ledger_docname)
    reference = nodes.reference(
        "",
        "",
        refuri=f"{uri}#{anchor(node['claim_id'])}",
        internal=True,
        classes=node["classes"],
        ids=node["ids"],
        reftitle=f"{claim.id}: {claim.statement}" if claim else node["claim_id"],
    )
    reference.extend(node.children)
    return reference


def resolve_claim_nodes(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    for node in list(doctree.findall(claim_reference)):
        node.replace_self(resolve_reference(app, node, docname))
    for node in list(doctree.findall(claims_ledger)):
        node.replace_self(build_ledger(app, docname))
    for node in list(doctree.findall(claims_summary)):
        node.replace_self(build_summary(app, docname, node["claim_ids"]))


def export_json(app: Sphinx, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    ctx = Context(app, app.config.root_doc)
    markers = sorted(ctx.markers, key=lambda m: (m.claim, m.docname, m.anchor))
    payload = {
        "versions": ctx.versions,
        "claims": [claim.as_json() for claim in ctx.claims.claims.values()],
        "markers": [{**asdict(m), "page": app.builder.get_target_uri(m.docname)} for m in markers],
    }
    out = Path(app.outdir, "claims.json")
    text = json.dumps(payload, indent=1, sort_keys=True)
    if not out.exists() or out.read_text(encoding="utf-8") != text:
        out.write_text(text, encoding="utf-8")


def setup(app: Sphinx) -> dict:
    app.setup_extension("book_sphinx.provenance")  # the headline packages and distribution names
    app.add_config_value("claims_file", "claims.yaml", "env", types=[str])
    app.add_config_value("claims_ledger_docname", "appendix/ledger", "env", types=[str])
    app.add_node(claim_reference)
    app.add_node(claims_ledger)
    app.add_node(claims_summary)
    app.add_role("claim", ClaimRole())
    app.add_directive("claim", ClaimDirective)
    app.add_directive("claims-ledger", ClaimsLedgerDirective)
    app.add_directive("claims-summary", ClaimsSummaryDirective)
    app.add_env_collector(ClaimsCollector)
    app.connect("builder-inited", load_claims_file)
    app.connect("doctree-resolved", resolve_claim_nodes)
    app.connect("build-finished", export_json)
    return {"version": "2.0", "parallel_read_safe": True, "parallel_write_safe": True}
