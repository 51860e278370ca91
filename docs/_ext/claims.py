"""The claims ledger: one data file, markers in chapters, a generated page.

The claims the book examines live in ``claims.yaml`` (ID, our statement,
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
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import yaml
from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.transforms import SphinxTransform
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective, SphinxRole

from companion.environment import package_versions

LOGGER = logging.getLogger(__name__)

KINDS = {"demo", "measure", "update", "judgment"}
NEEDS_EVIDENCE = {"demo", "measure"}
VERDICTS = {"holds", "holds partly", "no longer holds"}
NOT_ASSESSED = "not yet assessed"


class claim_reference(nodes.Inline, nodes.Element):
    """An inline link to a claim's ledger entry, resolved at write time."""


class claims_ledger(nodes.General, nodes.Element):
    """Placeholder replaced by the ledger tables once all documents are read."""


class claims_summary(nodes.General, nodes.Element):
    """Placeholder for a compact verdict table of some claims, filled in at write time."""


def load_claims(path: Path) -> dict:
    """Read and validate the claims file; return ``{"groups": ..., "claims": {id: claim}}``."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    groups = data.get("groups", {})
    claims = {}
    for entry in data.get("claims", []):
        claim_id = str(entry.get("id", ""))
        where = f"{path.name}: claim {claim_id or '?'}"
        if not claim_id or claim_id in claims:
            raise ValueError(f"{where}: every claim needs a unique id")
        if claim_id[0] not in groups:
            raise ValueError(f"{where}: id must start with a group letter from {sorted(groups)}")
        kinds = entry.get("kind") or []
        if not kinds or not set(kinds) <= KINDS:
            raise ValueError(f"{where}: kind must be a non-empty list drawn from {sorted(KINDS)}")
        verdict = entry.get("verdict") or NOT_ASSESSED
        if verdict not in VERDICTS | {NOT_ASSESSED}:
            raise ValueError(f"{where}: verdict must be one of {sorted(VERDICTS)} or empty")
        if not entry.get("statement"):
            raise ValueError(f"{where}: a statement is required")
        claims[claim_id] = {
            "id": claim_id,
            "group": claim_id[0],
            "statement": entry["statement"].strip(),
            "kind": list(kinds),
            "verdict": verdict,
            "packages": list(entry.get("packages") or []),
            "today": (entry.get("today") or "").strip(),
            "sources": list(entry.get("sources") or []),
        }
    return {"groups": groups, "claims": claims}


def claim_anchor(claim_id: str) -> str:
    return f"claim-{claim_id.lower()}"


def get_claims(env: BuildEnvironment) -> dict:
    return env.app.claims_data


def get_markers(env: BuildEnvironment) -> list[dict]:
    if not hasattr(env, "claim_markers"):
        env.claim_markers = []
    return env.claim_markers


def check_claim_id(env: BuildEnvironment, claim_id: str, location) -> dict | None:
    env.note_dependency(env.app.claims_path)
    claim = get_claims(env)["claims"].get(claim_id)
    if claim is None:
        known = ", ".join(sorted(get_claims(env)["claims"]))
        LOGGER.warning(
            f"unknown claim ID {claim_id!r} (known: {known})", location=location, type="claims"
        )
    return claim


def next_marker_id(env: BuildEnvironment, claim_id: str) -> str:
    counter = env.temp_data.setdefault("claim_marker_counter", {})
    counter[claim_id] = counter.get(claim_id, 0) + 1
    return f"{claim_anchor(claim_id)}-{counter[claim_id]}"


class ClaimRole(SphinxRole):
    """``{claim}`G5``` : an inline badge that links to the ledger entry."""

    def run(self):
        claim_id = self.text.strip()
        claim = check_claim_id(self.env, claim_id, self.get_location())
        marker_id = next_marker_id(self.env, claim_id)
        node = claim_reference(claim_id=claim_id, ids=[marker_id], classes=["claim-badge"])
        node += nodes.Text(claim_id)
        if claim:
            get_markers(self.env).append(
                {
                    "docname": self.env.docname,
                    "claim": claim_id,
                    "anchor": marker_id,
                    "role": "mentions",
                    "has_evidence": None,
                }
            )
        return [node], []


class ClaimDirective(SphinxDirective):
    """``{claim} ID``: the section that treats a claim, shown as a boxed statement."""

    required_arguments = 1
    has_content = True
    option_spec: ClassVar[dict] = {"class": directives.class_option}

    def run(self):
        claim_id = self.arguments[0].strip()
        claim = check_claim_id(self.env, claim_id, self.get_location())
        if claim is None:
            return []
        marker_id = next_marker_id(self.env, claim_id)
        verdict = claim["verdict"]
        box = nodes.admonition(
            classes=[
                "claim",
                "verdict-" + verdict.replace(" ", "-"),
                *self.options.get("class", []),
            ],
            ids=[marker_id],
            claim_id=claim_id,
        )
        title = nodes.title()
        title += claim_reference("", nodes.Text(f"Claim {claim_id}"), claim_id=claim_id)
        title += nodes.Text(f" · {' + '.join(claim['kind'])} · ")
        title += nodes.inline(verdict, verdict, classes=["claim-verdict"])
        box += title
        box += nodes.paragraph(claim["statement"], claim["statement"], classes=["claim-statement"])
        if self.content:
            self.state.nested_parse(self.content, self.content_offset, box)
        self.set_source_info(box)
        get_markers(self.env).append(
            {
                "docname": self.env.docname,
                "claim": claim_id,
                "anchor": marker_id,
                "role": "treats",
                "has_evidence": None,
            }
        )
        return [box]


def section_has_executed_cell(section: nodes.Element) -> bool:
    """True if ``section`` holds a code cell that produced at least one output."""
    return any(
        node.get("nb_element") == "cell_code_output" and len(node.children) > 0
        for node in section.findall(nodes.container)
    )


class ClaimEvidenceTransform(SphinxTransform):
    """Record, for each treated claim, whether an executed cell stands next to it."""

    default_priority = 880

    def apply(self, **kwargs) -> None:
        markers = {
            m["anchor"]: m for m in get_markers(self.env) if m["docname"] == self.env.docname
        }
        claims = get_claims(self.env)["claims"]
        for box in self.document.findall(nodes.admonition):
            if "claim_id" not in box:
                continue
            marker = markers[box["ids"][0]]
            section = box.parent
            while section is not None and not isinstance(section, nodes.section):
                section = section.parent
            marker["has_evidence"] = section_has_executed_cell(section or self.document)
            marker["section"] = section.next_node(nodes.title).astext() if section else ""
            kinds = set(claims[box["claim_id"]]["kind"])
            if kinds & NEEDS_EVIDENCE and not marker["has_evidence"]:
                LOGGER.warning(
                    f"claim {box['claim_id']} is a {'/'.join(sorted(kinds & NEEDS_EVIDENCE))} "
                    "claim, but its section has no executed code cell with output",
                    location=box,
                    type="claims",
                )


class ClaimsLedgerDirective(SphinxDirective):
    """``{claims-ledger}``: where the generated ledger goes."""

    def run(self):
        self.env.note_dependency(self.env.app.claims_path)
        self.env.temp_data["has_ledger"] = True
        return [claims_ledger()]


def chapter_label(env: BuildEnvironment, marker: dict) -> str:
    """``ch. 2`` for a numbered chapter, else the page title."""
    number = env.toc_secnumbers.get(marker["docname"], {}).get("")
    if number:
        return "ch. " + ".".join(map(str, number))
    title = env.titles.get(marker["docname"])
    return title.astext() if title is not None else marker["docname"]


def place_label(env: BuildEnvironment, marker: dict) -> str:
    """``ch. 2, A new graph for every pass``: the chapter and the section that treats the claim."""
    chapter = chapter_label(env, marker)
    section = marker.get("section")
    title = env.titles.get(marker["docname"])
    if section and (title is None or section != title.astext()):
        return f"{chapter}, {section}"
    return chapter


class ClaimsSummaryDirective(SphinxDirective):
    """``{claims-summary} G4 D1 P6``: a compact table of those claims and their verdicts."""

    required_arguments = 1
    final_argument_whitespace = True

    def run(self):
        ids = self.arguments[0].split()
        known = [i for i in ids if check_claim_id(self.env, i, self.get_location())]
        # Verdicts and "where treated" come from every page: rewrite like the ledger.
        self.env.temp_data["has_ledger"] = True
        return [claims_summary(claim_ids=known)]


def build_summary(app: Sphinx, fromdocname: str, claim_ids: list[str]) -> list[nodes.Node]:
    env = app.env
    claims = get_claims(env)["claims"]
    markers = get_markers(env)
    ledger_uri = app.builder.get_relative_uri(fromdocname, app.config.claims_ledger_docname)
    table = nodes.table(classes=["claims-summary"])
    tgroup = nodes.tgroup(cols=3)
    table += tgroup
    for width in (8, 62, 30):
        tgroup += nodes.colspec(colwidth=width)
    head = nodes.thead()
    head += row_of(["Claim", "Statement", "Verdict on this build"])
    tgroup += head
    body = nodes.tbody()
    tgroup += body
    for claim_id in claim_ids:
        claim = claims[claim_id]
        treated = [m for m in markers if m["claim"] == claim_id and m["role"] == "treats"]
        badge = nodes.paragraph()
        badge += nodes.reference(
            claim_id,
            claim_id,
            refuri=f"{ledger_uri}#{claim_anchor(claim_id)}",
            internal=True,
            classes=["claim-badge"],
        )
        verdict = claim["verdict"] if treated else "not yet covered"
        verdict_para = nodes.paragraph()
        verdict_para += nodes.inline(
            verdict, verdict, classes=["claim-verdict", "verdict-" + verdict.replace(" ", "-")]
        )
        for marker in treated:
            verdict_para += nodes.Text(" · ")
            uri = app.builder.get_relative_uri(fromdocname, marker["docname"])
            label = chapter_label(env, marker)
            verdict_para += nodes.reference(
                label, label, refuri=f"{uri}#{marker['anchor']}", internal=True
            )
        body += row_of([badge, nodes.paragraph(text=claim["statement"]), verdict_para])
    versions = versions_text(["torch", "tensorflow", "keras"], package_versions())
    note = nodes.paragraph(
        text=f"Verdicts as recorded in the claims ledger for the versions this book was "
        f"built with ({versions}).",
        classes=["claims-summary-note"],
    )
    return [table, note]


def versions_text(packages: list[str], versions: dict[str, str]) -> str:
    return ", ".join(f"{name} {versions.get(name, 'not installed')}" for name in packages)


def build_ledger(app: Sphinx, fromdocname: str) -> list[nodes.Node]:
    env = app.env
    data = get_claims(env)
    markers = get_markers(env)
    versions = package_versions()
    result: list[nodes.Node] = []

    def link(docname: str, anchor: str, text: str) -> nodes.reference:
        uri = app.builder.get_relative_uri(fromdocname, docname) + "#" + anchor
        return nodes.reference(text, text, refuri=uri, internal=True)

    uncovered = []
    for group, group_title in data["groups"].items():
        claims = [c for c in data["claims"].values() if c["group"] == group]
        if not claims:
            continue
        result.append(
            nodes.rubric(group_title, f"{group}: {group_title}", classes=["ledger-group"])
        )
        table = nodes.table(classes=["claims-ledger"])
        tgroup = nodes.tgroup(cols=4)
        table += tgroup
        for width in (6, 54, 16, 24):
            tgroup += nodes.colspec(colwidth=width)
        head = nodes.thead()
        head += row_of(
            ["ID", "Claim and today's status", "Kind and verdict", "Where the book shows it"]
        )
        tgroup += head
        body = nodes.tbody()
        tgroup += body
        for claim in claims:
            treated = [m for m in markers if m["claim"] == claim["id"] and m["role"] == "treats"]
            mentioned = [
                m for m in markers if m["claim"] == claim["id"] and m["role"] == "mentions"
            ]
            if not treated:
                uncovered.append(claim)
            id_cell = nodes.paragraph(ids=[claim_anchor(claim["id"])])
            id_cell += nodes.strong(claim["id"], claim["id"])

            text_cell = [nodes.paragraph(claim["statement"], claim["statement"])]
            if claim["today"]:
                text_cell.append(
                    nodes.paragraph(claim["today"], claim["today"], classes=["claim-today"])
                )
            if claim["sources"]:
                para = nodes.paragraph(classes=["claim-sources"])
                para += nodes.Text("Sources: ")
                for i, source in enumerate(claim["sources"]):
                    if i:
                        para += nodes.Text("; ")
                    para += nodes.reference(source["title"], source["title"], refuri=source["url"])
                text_cell.append(para)

            verdict = claim["verdict"] if treated else "not yet covered"
            verdict_cell = [
                nodes.paragraph(text=" + ".join(claim["kind"])),
                nodes.paragraph(
                    "",
                    "",
                    nodes.inline(
                        verdict,
                        verdict,
                        classes=["claim-verdict", "verdict-" + verdict.replace(" ", "-")],
                    ),
                ),
            ]
            if claim["packages"]:
                verdict_cell.append(
                    nodes.paragraph(
                        text=versions_text(claim["packages"], versions), classes=["claim-versions"]
                    )
                )

            where = []
            if treated:
                para = nodes.paragraph()
                for i, marker in enumerate(treated):
                    if i:
                        para += nodes.Text("; ")
                    para += link(marker["docname"], marker["anchor"], place_label(env, marker))
                where.append(para)
            else:
                where.append(nodes.paragraph(text="not yet covered", classes=["claim-uncovered"]))
            if mentioned:
                para = nodes.paragraph(classes=["claim-mentions"])
                para += nodes.Text("Mentioned: ")
                for i, marker in enumerate(mentioned):
                    if i:
                        para += nodes.Text(", ")
                    para += link(marker["docname"], marker["anchor"], chapter_label(env, marker))
                where.append(para)
            body += row_of([id_cell, text_cell, verdict_cell, where])
        result.append(table)

    summary = nodes.paragraph(classes=["ledger-summary"])
    total = len(data["claims"])
    summary += nodes.Text(
        f"{total - len(uncovered)} of {total} claims are treated in a chapter. "
        f"Verdicts refer to the versions installed when this page was built: "
        f"{versions_text(['torch', 'tensorflow', 'keras'], versions)}."
    )
    result.insert(0, summary)

    result.append(nodes.rubric("Not yet covered", "Not yet covered", ids=["not-yet-covered"]))
    if uncovered:
        items = nodes.bullet_list()
        for claim in uncovered:
            item = nodes.list_item()
            para = nodes.paragraph()
            para += nodes.reference(claim["id"], claim["id"], refid=claim_anchor(claim["id"]))
            para += nodes.Text(f": {claim['statement']}")
            item += para
            items += item
        result.append(items)
    else:
        result.append(nodes.paragraph(text="None: every claim is treated somewhere in the book."))
    return result


def row_of(cells) -> nodes.row:
    row = nodes.row()
    for cell in cells:
        entry = nodes.entry()
        if isinstance(cell, str):
            entry += nodes.paragraph(cell, cell)
        elif isinstance(cell, list):
            entry.extend(cell)
        else:
            entry += cell
        row += entry
    return row


def resolve_claim_nodes(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    ledger_doc = app.config.claims_ledger_docname
    claims = get_claims(app.env)["claims"]
    for node in list(doctree.findall(claim_reference)):
        claim_id = node["claim_id"]
        uri = app.builder.get_relative_uri(docname, ledger_doc) + "#" + claim_anchor(claim_id)
        claim = claims.get(claim_id)
        ref = nodes.reference(
            "",
            "",
            refuri=uri,
            internal=True,
            classes=node["classes"],
            ids=node["ids"],
            reftitle=f"{claim_id}: {claim['statement']}" if claim else claim_id,
        )
        ref.extend(node.children)
        node.replace_self(ref)
    for node in list(doctree.findall(claims_ledger)):
        node.replace_self(build_ledger(app, docname))
    for node in list(doctree.findall(claims_summary)):
        node.replace_self(build_summary(app, docname, node["claim_ids"]))


def load_claims_data(app: Sphinx) -> None:
    app.claims_path = str(Path(app.srcdir, app.config.claims_file))
    app.claims_data = load_claims(Path(app.claims_path))


def purge_markers(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    env.claim_markers = [m for m in get_markers(env) if m["docname"] != docname]
    ledger_docs = getattr(env, "claims_ledger_docs", set())
    ledger_docs.discard(docname)


def merge_markers(app, env, docnames, other) -> None:
    get_markers(env).extend(m for m in get_markers(other) if m["docname"] in docnames)


def remember_ledger_doc(app: Sphinx, doctree: nodes.document) -> None:
    if app.env.temp_data.get("has_ledger"):
        if not hasattr(app.env, "claims_ledger_docs"):
            app.env.claims_ledger_docs = set()
        app.env.claims_ledger_docs.add(app.env.docname)


def note_reread(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    env.claims_docs_reread = bool(docnames)


def ledger_needs_update(app: Sphinx, env: BuildEnvironment) -> list[str]:
    # The ledger shows markers from every page: rewrite it whenever any page was read.
    if getattr(env, "claims_docs_reread", False):
        return sorted(getattr(env, "claims_ledger_docs", set()))
    return []


def export_json(app: Sphinx, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    payload = {
        "versions": package_versions(),
        "claims": list(get_claims(app.env)["claims"].values()),
        "markers": [
            {**m, "page": app.builder.get_target_uri(m["docname"])}
            for m in sorted(
                get_markers(app.env), key=lambda m: (m["claim"], m["docname"], m["anchor"])
            )
        ],
    }
    out = Path(app.outdir, "claims.json")
    text = json.dumps(payload, indent=1, sort_keys=True)
    if not out.exists() or out.read_text(encoding="utf-8") != text:
        out.write_text(text, encoding="utf-8")


def setup(app: Sphinx) -> dict:
    app.add_config_value("claims_file", "claims.yaml", "env", types=[str])
    app.add_config_value("claims_ledger_docname", "appendix/ledger", "env", types=[str])
    app.add_node(claim_reference)
    app.add_node(claims_ledger)
    app.add_node(claims_summary)
    app.add_role("claim", ClaimRole())
    app.add_directive("claim", ClaimDirective)
    app.add_directive("claims-ledger", ClaimsLedgerDirective)
    app.add_directive("claims-summary", ClaimsSummaryDirective)
    app.add_transform(ClaimEvidenceTransform)
    app.connect("builder-inited", load_claims_data)
    app.connect("env-purge-doc", purge_markers)
    app.connect("env-merge-info", merge_markers)
    app.connect("doctree-read", remember_ledger_doc)
    app.connect("env-before-read-docs", note_reread)
    app.connect("env-get-updated", ledger_needs_update)
    app.connect("doctree-resolved", resolve_claim_nodes)
    app.connect("build-finished", export_json)
    return {"version": "1.0", "parallel_read_safe": False, "parallel_write_safe": True}
