"""The claims ledger's data: the claims file and the markers pages leave.

>>> claim = Claim(id="G5", group="G", statement="dz/dx = 4 at x = 2.", kind=("demo",))
>>> claim.needs_evidence, claim.verdict
(True, 'not yet assessed')
>>> anchor("G5")
'claim-g5'
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

KINDS = ("demo", "measure", "update", "judgment")
#: Kinds whose treating section must hold an executed cell with output.
NEEDS_EVIDENCE = ("demo", "measure")
VERDICTS = ("holds", "holds partly", "no longer holds", "never held")
NOT_ASSESSED = "not yet assessed"
NOT_COVERED = "not yet covered"


def anchor(claim_id: str) -> str:
    """The id of a claim's row in the ledger."""
    return f"claim-{claim_id.lower()}"


def verdict_class(verdict: str) -> str:
    return "verdict-" + verdict.replace(" ", "-")


@dataclass(frozen=True)
class Claim:
    """One entry of ``claims.yaml``."""

    id: str
    group: str
    statement: str
    kind: tuple[str, ...]
    verdict: str = NOT_ASSESSED
    packages: tuple[str, ...] = ()
    today: str = ""
    sources: tuple[dict, ...] = ()

    @property
    def needs_evidence(self) -> bool:
        return any(kind in NEEDS_EVIDENCE for kind in self.kind)

    def as_json(self) -> dict:
        return {
            **asdict(self),
            "kind": list(self.kind),
            "packages": list(self.packages),
            "sources": list(self.sources),
        }


@dataclass
class Marker:
    """A place on a page that treats a claim (a box) or mentions it (a badge)."""

    docname: str
    claim: str
    anchor: str
    role: str  # "treats" or "mentions"
    has_evidence: bool | None = None
    section: str = ""


@dataclass
class ClaimsFile:
    groups: dict[str, str]
    claims: dict[str, Claim] = field(default_factory=dict)

    def in_group(self, group: str) -> list[Claim]:
        return [claim for claim in self.claims.values() if claim.group == group]


def parse_claim(entry: dict, groups: dict[str, str], where: str) -> Claim:
    claim_id = str(entry.get("id", ""))
    where = f"{where}: claim {claim_id or '?'}"
    if not claim_id or claim_id[0] not in groups:
        raise ValueError(f"{where}: id must start with a group letter from {sorted(groups)}")
    kinds = tuple(entry.get("kind") or ())
    if not kinds or not set(kinds) <= set(KINDS):
        raise ValueError(f"{where}: kind must be a non-empty list drawn from {list(KINDS)}")
    verdict = entry.get("verdict") or NOT_ASSESSED
    if verdict not in (*VERDICTS, NOT_ASSESSED):
        raise ValueError(f"{where}: verdict must be one of {list(VERDICTS)} or empty")
    if not entry.get("statement"):
        raise ValueError(f"{where}: a statement is required")
    return Claim(
        id=claim_id,
        group=claim_id[0],
        statement=entry["statement"].strip(),
        kind=kinds,
        verdict=verdict,
        packages=tuple(entry.get("packages") or ()),
        today=(entry.get("today") or "").strip(),
        sources=tuple(entry.get("sources") or ()),
    )


def load_claims(path: Path) -> ClaimsFile:
    """Read and validate the claims file (``ValueError`` naming the entry on a problem)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    result = ClaimsFile(groups=dict(data.get("groups", {})))
    for entry in data.get("claims", []):
        claim = parse_claim(entry, result.groups, path.name)
        if claim.id in result.claims:
            raise ValueError(f"{path.name}: claim {claim.id}: every claim needs a unique id")
        result.claims[claim.id] = claim
    return result
