"""The generated tables: the claims ledger and the compact claims summaries.

Built at write time (``doctree-resolved``), when the collector holds the
markers of every page. Each table is assembled from small cell builders.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment

from book_sphinx.book_common import package_versions
from book_sphinx.claims.collector import ClaimsCollector
from book_sphinx.claims.model import NOT_COVERED, Claim, ClaimsFile, Marker, anchor, verdict_class


def marker_order(marker: Marker) -> tuple[str, int]:
    """``chapters/03-x`` before ``chapters/10-y``; ``claim-g7-2`` before ``claim-g7-10``."""
    return marker.docname, int(marker.anchor.rsplit("-", 1)[1])


class Context:
    """What every cell builder needs: the app, the page being written, the markers."""

    def __init__(self, app: Sphinx, fromdocname: str):
        self.app = app
        self.env: BuildEnvironment = app.env
        self.fromdocname = fromdocname
        self.claims: ClaimsFile = app.env.book_claims_file
        # In page order, then in the order of the page: the same whatever
        # order a parallel read merged the pages in.
        self.markers = sorted(ClaimsCollector.markers(app.env), key=marker_order)
        config = app.config
        self.versions = package_versions(
            sorted(
                {p for c in self.claims.claims.values() for p in c.packages}
                | set(config.provenance_packages)
            ),
            config.provenance_distribution_aliases,
        )

    def uri(self, docname: str, fragment: str) -> str:
        return self.app.builder.get_relative_uri(self.fromdocname, docname) + "#" + fragment

    def link(self, docname: str, fragment: str, text: str) -> nodes.reference:
        return nodes.reference(text, text, refuri=self.uri(docname, fragment), internal=True)

    def of(self, claim_id: str, role: str) -> list[Marker]:
        return [m for m in self.markers if m.claim == claim_id and m.role == role]

    def versions_text(self, packages) -> str:
        return ", ".join(f"{name} {self.versions.get(name, 'not installed')}" for name in packages)

    def headline_versions(self) -> str:
        return self.versions_text(self.app.config.provenance_packages)


def chapter_label(env: BuildEnvironment, docname: str) -> str:
    """``ch. 2`` for a numbered chapter, else the page title."""
    number = env.toc_secnumbers.get(docname, {}).get("")
    if number:
        return "ch. " + ".".join(map(str, number))
    title = env.titles.get(docname)
    return title.astext() if title is not None else docname


def place_label(env: BuildEnvironment, marker: Marker) -> str:
    """``ch. 2, A new graph for every pass``: the chapter and the section that treats a claim."""
    chapter = chapter_label(env, marker.docname)
    title = env.titles.get(marker.docname)
    if marker.section and (title is None or marker.section != title.astext()):
        return f"{chapter}, {marker.section}"
    return chapter


def verdict_chip(verdict: str) -> nodes.inline:
    return nodes.inline(verdict, verdict, classes=["claim-verdict", verdict_class(verdict)])


def table(columns: list[tuple[str, int]], rows: list[list], classes: list[str]) -> nodes.table:
    """A docutils table with a header row; ``columns`` are (heading, relative width)."""
    result = nodes.table(classes=classes)
    group = nodes.tgroup(cols=len(columns))
    result += group
    for _, width in columns:
        group += nodes.colspec(colwidth=width)
    head = nodes.thead()
    head += row_of([heading for heading, _ in columns], header=True)
    group += head
    body = nodes.tbody()
    body.extend(row_of(cells) for cells in rows)
    group += body
    return result


def row_of(cells, header: bool = False) -> nodes.row:
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


def joined(parts: list[nodes.Node], separator: str, para: nodes.paragraph) -> nodes.paragraph:
    for index, part in enumerate(parts):
        if index:
            para += nodes.Text(separator)
        para += part
    return para


# --- The compact summary ----------------------------------------------------------


def summary_row(ctx: Context, claim: Claim) -> list:
    treated = ctx.of(claim.id, "treats")
    ledger = ctx.app.config.claims_ledger_docname
    badge = nodes.paragraph()
    badge += nodes.reference(
        claim.id,
        claim.id,
        refuri=ctx.uri(ledger, anchor(claim.id)),
        internal=True,
        classes=["claim-badge"],
    )
    verdict = nodes.paragraph()
    verdict += verdict_chip(claim.verdict if treated else NOT_COVERED)
    for marker in treated:
        verdict += nodes.Text(" · ")
        verdict += ctx.link(marker.docname, marker.anchor, chapter_label(ctx.env, marker.docname))
    return [badge, nodes.paragraph(text=claim.statement), verdict]


def build_summary(app: Sphinx, fromdocname: str, claim_ids: list[str]) -> list[nodes.Node]:
    ctx = Context(app, fromdocname)
    rows = [summary_row(ctx, ctx.claims.claims[claim_id]) for claim_id in claim_ids]
    columns = [("Claim", 8), ("Statement", 62), ("Verdict on this build", 30)]
    note = nodes.paragraph(
        text="Verdicts as recorded in the claims ledger for the versions this book was "
        f"built with ({ctx.headline_versions()}).",
        classes=["claims-summary-note"],
    )
    return [table(columns, rows, ["claims-summary"]), note]


# --- The ledger ---------------------------------------------------------------------


def id_cell(claim: Claim) -> nodes.paragraph:
    cell = nodes.paragraph(ids=[anchor(claim.id)])
    cell += nodes.strong(claim.id, claim.id)
    return cell


def statement_cell(claim: Claim) -> list[nodes.Node]:
    cell: list[nodes.Node] = [nodes.paragraph(claim.statement, claim.statement)]
    if claim.today:
        cell.append(nodes.paragraph(claim.today, claim.today, classes=["claim-today"]))
    if claim.sources:
        sources = [nodes.reference(s["title"], s["title"], refuri=s["url"]) for s in claim.sources]
        para = nodes.paragraph(classes=["claim-sources"])
        para += nodes.Text("Sources: ")
        cell.append(joined(sources, "; ", para))
    return cell


def verdict_cell(ctx: Context, claim: Claim, treated: bool) -> list[nodes.Node]:
    cell = [
        nodes.paragraph(text=" + ".join(claim.kind)),
        nodes.paragraph("", "", verdict_chip(claim.verdict if treated else NOT_COVERED)),
    ]
    if claim.packages:
        cell.append(
            nodes.paragraph(text=ctx.versions_text(claim.packages), classes=["claim-versions"])
        )
    return cell


def where_cell(ctx: Context, claim: Claim) -> list[nodes.Node]:
    treated, mentioned = ctx.of(claim.id, "treats"), ctx.of(claim.id, "mentions")
    if treated:
        links = [ctx.link(m.docname, m.anchor, place_label(ctx.env, m)) for m in treated]
        cell = [joined(links, "; ", nodes.paragraph())]
    else:
        cell = [nodes.paragraph(text=NOT_COVERED, classes=["claim-uncovered"])]
    if mentioned:
        links = [
            ctx.link(m.docname, m.anchor, chapter_label(ctx.env, m.docname)) for m in mentioned
        ]
        para = nodes.paragraph(classes=["claim-mentions"])
        para += nodes.Text("Mentioned: ")
        cell.append(joined(links, ", ", para))
    return cell


def group_table(ctx: Context, claims: list[Claim]) -> nodes.table:
    columns = [
        ("ID", 6),
        ("Claim and today's status", 54),
        ("Kind and verdict", 16),
        ("Where the book shows it", 24),
    ]
    rows = [
        [
            id_cell(claim),
            statement_cell(claim),
            verdict_cell(ctx, claim, bool(ctx.of(claim.id, "treats"))),
            where_cell(ctx, claim),
        ]
        for claim in claims
    ]
    return table(columns, rows, ["claims-ledger"])


def uncovered_list(ctx: Context, uncovered: list[Claim]) -> nodes.Node:
    if not uncovered:
        return nodes.paragraph(text="None: every claim is treated somewhere in the book.")
    items = nodes.bullet_list()
    for claim in uncovered:
        para = nodes.paragraph()
        para += nodes.reference(claim.id, claim.id, refid=anchor(claim.id))
        para += nodes.Text(f": {claim.statement}")
        items += nodes.list_item("", para)
    return items


def build_ledger(app: Sphinx, fromdocname: str) -> list[nodes.Node]:
    ctx = Context(app, fromdocname)
    claims = ctx.claims
    uncovered = [c for c in claims.claims.values() if not ctx.of(c.id, "treats")]
    total = len(claims.claims)
    result: list[nodes.Node] = [
        nodes.paragraph(
            text=f"{total - len(uncovered)} of {total} claims are treated in a chapter. "
            "Verdicts refer to the versions installed when this page was built: "
            f"{ctx.headline_versions()}.",
            classes=["ledger-summary"],
        )
    ]
    for group, title in claims.groups.items():
        members = claims.in_group(group)
        if members:
            result.append(nodes.rubric(title, f"{group}: {title}", classes=["ledger-group"]))
            result.append(group_table(ctx, members))
    result.append(nodes.rubric("Not yet covered", "Not yet covered", ids=["not-yet-covered"]))
    result.append(uncovered_list(ctx, uncovered))
    return result
