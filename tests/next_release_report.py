"""Compare a build of the book on the newest releases with the pinned build; write a report.

``nox -s next`` builds the book in its own environment against the newest
releases on the package registry, into ``docs/_build-next``, then runs::

    python tests/next_release_report.py --reference docs/_build/html \\
        --candidate docs/_build-next/html --out docs/_build-next/next-report.md

The report says, for the candidate build:

* which chapters failed to execute, with the failing cell and error the
  build logged;
* which outputs changed beyond timing noise: every code cell's outputs,
  compared as the reproduction tests compare them (streams merged, native
  log lines dropped), cells tagged ``timing`` aside;
* which claims of the ledger have evidence that changed: a claim's evidence
  is the code cells of the ``##`` section that marks it (``:::{claim} ID``);
* which versions differ from the pins (``constraints.txt``).
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
sys.path[:0] = [str(TESTS), str(ROOT / "docs" / "_ext")]

import yaml  # noqa: E402
from book_reproduction import comparable, published_notebook, tags  # noqa: E402
from book_sphinx.book_common import FINGERPRINT_MARKER  # noqa: E402

CLAIM_MARKER = re.compile(r"^:::+\{claim\}\s+(\S+)", re.MULTILINE)
CODE_CELL = re.compile(r"^```\{code-cell\}", re.MULTILINE)
#: The build's line for a failing cell (the scheduler's and execution_report's wording).
FAILED_CELL = re.compile(
    r"(chapters/[\w.-]+?)(?:\.md)?:\d+: (?:WARNING: )?(?:code )?cell (\d+) (.+)"
)


@dataclass
class PageComparison:
    """How one executed page of the candidate build compares with the reference."""

    page: str
    failed: str | None = None
    changed_cells: list[int] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    claims: dict[str, list[int]] = field(default_factory=dict)


def sections_of_cells(source: str) -> tuple[list[int], dict[int, list[str]]]:
    """For a MyST notebook's text: each code cell's ``##`` section, and each section's claims.

    >>> text = "# T\\n```{code-cell}\\n```\\n## A\\n:::{claim} P1\\n```{code-cell}\\n```\\n"
    >>> sections_of_cells(text)
    ([0, 1], {1: ['P1']})
    """
    section = 0
    cells: list[int] = []
    claims: dict[int, list[str]] = {}
    for line in source.splitlines():
        if line.startswith("## "):
            section += 1
        elif CODE_CELL.match(line):
            cells.append(section)
        elif match := CLAIM_MARKER.match(line):
            claims.setdefault(section, []).append(match.group(1))
    return cells, claims


def short(value, limit: int = 300) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + " …"


def code_cells(root: Path, page: str) -> list:
    """A page's code cells as published, without the build's hidden fingerprint cell.

    The fingerprint hashes the installed versions, so it always differs between
    the two builds; it is no output of the page.
    """
    return [
        cell
        for cell in published_notebook(root, page).cells
        if cell.cell_type == "code" and not cell.source.startswith(FINGERPRINT_MARKER)
    ]


def matching_cells(want: list, have: list) -> list[tuple[int, int]]:
    """Pairs (reference index, candidate index) of code cells with the same source, in order.

    With the same code throughout this pairs every cell; a reference built
    from another commit pairs only the cells both commits share.
    """
    matcher = difflib.SequenceMatcher(
        a=[c.source for c in want], b=[c.source for c in have], autojunk=False
    )
    return [
        (block.a + k, block.b + k)
        for block in matcher.get_matching_blocks()
        for k in range(block.size)
    ]


def compare_page(reference: Path, candidate: Path, page: str, source: str) -> PageComparison:
    """Compare one page's published notebooks, cell by cell (cells with the same code)."""
    result = PageComparison(page)
    want, have = code_cells(reference, page), code_cells(candidate, page)
    pairs = matching_cells(want, have)
    if len(pairs) < len(have):
        result.details.append(
            f"{len(have) - len(pairs)} of {len(have)} cells have other code in the reference "
            "build: only the others are compared"
        )
    cell_sections, section_claims = sections_of_cells(source)
    for old_index, index in pairs:
        old, new = want[old_index], have[index]
        if "timing" in tags(new):
            continue
        before, after = comparable(old.outputs), comparable(new.outputs)
        if before == after:
            continue
        result.changed_cells.append(index)
        first = new.source.strip().splitlines()[:1]
        result.details.append(
            f"cell {index} (`{first[0] if first else ''}`):\n"
            f"    pinned: {short(before)}\n    next:   {short(after)}"
        )
        section = cell_sections[index] if index < len(cell_sections) else None
        for claim in section_claims.get(section, []):
            result.claims.setdefault(claim, []).append(index)
    return result


def failures(execution: Path, log: Path) -> dict[str, str]:
    """Failed pages of a build, with the failing cell the build log names."""
    records = json.loads(execution.read_text(encoding="utf-8")) if execution.is_file() else {}
    failed = {
        page: (record.get("error") or "failed")
        for page, record in records.items()
        if not record.get("succeeded", True)
    }
    text = log.read_text(encoding="utf-8", errors="replace") if log.is_file() else ""
    for page, cell, error in FAILED_CELL.findall(text):
        failed[page] = f"cell {cell} {error.strip()}"
    return failed


def version_changes(constraints: Path, installed: dict[str, str]) -> list[str]:
    """``name: pinned -> installed`` for every pinned distribution whose version differs."""
    pinned = {}
    for line in constraints.read_text(encoding="utf-8").splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==", 1)
            pinned[re.sub(r"[-_.]+", "-", name).lower()] = version.strip()
    changes = []
    for name, version in sorted(installed.items()):
        key = re.sub(r"[-_.]+", "-", name).lower()
        old = pinned.get(key)
        if old is not None and old != version.split("+")[0]:
            changes.append(f"{name}: {old} -> {version}")
        elif old is None:
            changes.append(f"{name}: not pinned -> {version}")
    return changes


def claim_verdicts() -> dict[str, str]:
    claims = yaml.safe_load((ROOT / "docs" / "claims.yaml").read_text(encoding="utf-8"))
    return {c["id"]: c.get("verdict") or "no verdict" for c in claims["claims"]}


def shared_cells(reference: Path, candidate: Path, page: str) -> int:
    """How many code cells of the page the reference build holds with the same code."""
    if not (reference / "_sources" / f"{page}.ipynb").is_file():
        return 0
    return len(matching_cells(code_cells(reference, page), code_cells(candidate, page)))


def report(references: list[Path], candidate: Path, *, installed: dict[str, str], log: Path) -> str:
    """The Markdown report (see the module docstring).

    Each page is compared with the reference build that shares the most code
    cells with it (a pinned build of another commit may share only some).
    """
    executed = json.loads((candidate.parent / "execution.json").read_text(encoding="utf-8"))
    failed = failures(candidate.parent / "execution.json", log)
    verdicts = claim_verdicts()
    lines = ["# The book on the newest releases", ""]
    lines += ["## Versions that differ from the pins", ""]
    lines += [f"- {change}" for change in version_changes(ROOT / "constraints.txt", installed)]
    lines += ["", "## Chapters that failed", ""]
    lines += [f"- `{page}`: {why}" for page, why in sorted(failed.items())] or ["- none"]
    lines += ["", "## Outputs that changed (timing cells aside)", ""]
    touched: dict[str, list[str]] = {}
    for page in sorted(executed):
        if page in failed:
            continue
        shared = {r: shared_cells(r, candidate, page) for r in references}
        reference = max(references, key=shared.get)
        if not shared[reference]:
            lines.append(f"- `{page}`: no pinned build of this page to compare with")
            continue
        source = (ROOT / "docs" / f"{page}.md").read_text(encoding="utf-8")
        comparison = compare_page(reference, candidate, page, source)
        if not comparison.changed_cells:
            lines.append(f"- `{page}`: no output changed (compared with {reference})")
            lines += [f"  - {detail}" for detail in comparison.details]
            continue
        changed = len(comparison.changed_cells)
        lines.append(f"- `{page}`: {changed} cell(s) changed (compared with {reference})")
        lines += [f"  - {detail}" for detail in comparison.details]
        for claim, cells in comparison.claims.items():
            touched.setdefault(claim, []).append(f"{page} cells {cells}")
    lines += ["", "## Claims whose evidence changed", ""]
    for claim, where in sorted(touched.items()):
        lines.append(f"- {claim} (verdict: {verdicts.get(claim, '?')}): {'; '.join(where)}")
    if not touched:
        lines.append("- none")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--reference", type=Path, action="append", required=True,
        help="a pinned build's html/ (repeat: per page, the one sharing most code is used)",
    )  # fmt: skip
    parser.add_argument("--candidate", type=Path, required=True, help="the next build's html/")
    parser.add_argument("--versions", type=Path, required=True, help="JSON {name: version}")
    parser.add_argument("--log", type=Path, required=True, help="the next build's log")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    installed = json.loads(args.versions.read_text(encoding="utf-8"))
    text = report(args.reference, args.candidate, installed=installed, log=args.log)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
