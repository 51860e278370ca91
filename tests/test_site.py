"""Checks on the built book in docs/_build/html (run after the strict build).

``nox -s tests`` builds the book first; on its own, run ``nox -s docs`` and
then ``pytest -m site``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml
from bs4 import BeautifulSoup

pytestmark = pytest.mark.site

DOCS = Path(__file__).resolve().parents[1] / "docs"

# The claim IDs of the book's brief (shared/CLAIMS.md); the data file must hold exactly these.
BRIEF_CLAIM_IDS = (
    [f"G{i}" for i in range(1, 13)]
    + [f"D{i}" for i in range(1, 4)]
    + [f"P{i}" for i in range(1, 7)]
    + [f"C{i}" for i in range(1, 4)]
    + [f"W{i}" for i in range(1, 9)]
    + ["X1", "X2"]
)


def notebook_pages() -> list[str]:
    """Docnames of the pages MyST-NB executes (MyST Markdown with notebook front matter)."""
    pages = []
    for path in sorted(DOCS.rglob("*.md")):
        if "_build" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        if text.startswith("---") and "kernelspec:" in text.split("---", 2)[1]:
            pages.append(path.relative_to(DOCS).with_suffix("").as_posix())
    return pages


def all_pages() -> list[str]:
    return sorted(
        p.relative_to(DOCS).with_suffix("").as_posix()
        for p in DOCS.rglob("*.md")
        if "_build" not in p.parts
    )


def soup(html: Path, page: str) -> BeautifulSoup:
    return BeautifulSoup((html / f"{page}.html").read_text(encoding="utf-8"), "html.parser")


def test_there_are_executed_chapters():
    assert "chapters/02-graphs" in notebook_pages()


@pytest.mark.parametrize("page", notebook_pages())
def test_every_chapter_really_ran(page, built_html):
    """The "everything actually ran" check: executed, succeeded, took time, shows outputs."""
    records = json.loads((built_html.parent / "execution.json").read_text(encoding="utf-8"))
    record = records.get(page)
    assert record is not None, f"{page} was never executed"
    assert record["succeeded"], f"{page} failed: {record['error']}"
    assert record["runtime"] is not None, f"{page} reports no run time"
    assert record["runtime"] > 0, f"{page} reports no run time"
    outputs = soup(built_html, page).select("div.cell_output")
    assert outputs, f"{page} shows no cell output"


@pytest.mark.parametrize("page", notebook_pages())
def test_executed_pages_carry_a_version_stamp(page, built_html):
    from companion.environment import package_versions

    stamp = soup(built_html, page).select_one("div.version-stamp")
    assert stamp is not None, f"{page} has no version stamp"
    for name, version in package_versions(["torch", "tensorflow", "keras"]).items():
        assert version in stamp.get_text(), f"{page}: stamp lacks {name} {version}"


@pytest.mark.parametrize("page", notebook_pages())
def test_no_framework_log_noise_in_outputs(page, built_html):
    text = " ".join(o.get_text() for o in soup(built_html, page).select("div.cell_output"))
    for noise in (
        "absl::InitializeLog",
        "oneDNN custom operations",
        "cpu_feature_guard",
        "running over TCP without encryption",
    ):
        assert noise not in text, f"{page}: log noise {noise!r} leaked into the page"


REQUEST_ATTRIBUTES = {
    "script": "src",
    "img": "src",
    "iframe": "src",
    "source": "src",
    "audio": "src",
    "video": "src",
    "embed": "src",
    "object": "data",
}


def third_party_requests(page_soup: BeautifulSoup) -> list[str]:
    """URLs a browser would fetch from another host when loading the page."""
    found = []
    for tag, attribute in REQUEST_ATTRIBUTES.items():
        for element in page_soup.find_all(tag):
            found.append(element.get(attribute, ""))
    for link in page_soup.find_all("link"):
        rel = set(link.get("rel", []))
        if rel & {"stylesheet", "preload", "prefetch", "icon", "modulepreload", "manifest"}:
            found.append(link.get("href", ""))
    for style in page_soup.find_all("style"):
        found += re.findall(r"url\(['\"]?([^'\")]+)", style.get_text())
    return [
        url for url in found if urlparse(url).scheme in {"http", "https"} or url.startswith("//")
    ]


@pytest.mark.parametrize("page", all_pages())
def test_pages_request_nothing_from_other_hosts(page, built_html):
    assert third_party_requests(soup(built_html, page)) == []


def test_static_css_and_js_pull_nothing_from_other_hosts(built_html):
    offenders = []
    for path in (built_html / "_static").rglob("*"):
        if path.suffix not in {".css", ".js"}:
            continue
        text = path.read_text(encoding="utf-8", errors="ignore")
        for url in re.findall(r"@import\s+(?:url\()?['\"]?(https?://[^'\")\s]+)", text):
            offenders.append(f"{path.name}: {url}")
        for url in re.findall(r"url\(['\"]?(https?://[^'\")]+)", text):
            if not url.startswith("http://www.w3.org/"):  # SVG namespaces, not requests
                offenders.append(f"{path.name}: {url}")
    assert offenders == []


def test_math_is_rendered_to_mathml_without_a_script(built_html):
    page = soup(built_html, "chapters/02-graphs")
    assert page.find("math") is not None
    assert not [s for s in page.find_all("script") if "mathjax" in (s.get("src") or "").lower()]


def test_graphs_chapter_shows_synced_tabs_pictures_and_claims(built_html):
    page = soup(built_html, "chapters/02-graphs")
    labels = page.select("div.framework-tabs > label.sd-tab-label")
    assert {label["data-sync-id"] for label in labels} == {"pytorch", "tensorflow"}
    assert {label["data-sync-group"] for label in labels} == {"framework"}
    first = page.select_one("div.framework-tabs")
    contents = first.select(":scope > div.sd-tab-content")
    assert len(contents) == 2
    assert all(content.select("div.cell_output img") for content in contents), (
        "both tabs of the first tab set should show a rendered graph picture"
    )
    images = [built_html / "chapters" / img["src"] for img in page.select("div.cell_output img")]
    assert len(images) >= 3
    assert all(image.is_file() and image.stat().st_size > 1000 for image in images)
    claim_links = {a["href"].split("#")[1] for a in page.select("a[href*='ledger.html#claim-']")}
    assert {"claim-g1", "claim-g2", "claim-g5", "claim-g10", "claim-g11"} <= claim_links


def test_claims_file_holds_exactly_the_briefs_claims():
    data = yaml.safe_load((DOCS / "claims.yaml").read_text(encoding="utf-8"))
    assert [claim["id"] for claim in data["claims"]] == BRIEF_CLAIM_IDS


def test_ledger_has_an_anchor_for_every_claim(built_html):
    page = soup(built_html, "appendix/ledger")
    for claim_id in BRIEF_CLAIM_IDS:
        assert page.find(id=f"claim-{claim_id.lower()}") is not None, claim_id


def test_every_treated_demo_or_measure_claim_has_executed_evidence(built_html):
    data = json.loads((built_html / "claims.json").read_text(encoding="utf-8"))
    kinds = {claim["id"]: set(claim["kind"]) for claim in data["claims"]}
    missing = [
        f"{m['claim']} in {m['docname']}"
        for m in data["markers"]
        if m["role"] == "treats"
        and kinds[m["claim"]] & {"demo", "measure"}
        and not m["has_evidence"]
    ]
    assert missing == []


def test_ledger_lists_untreated_claims_as_not_yet_covered(built_html):
    data = json.loads((built_html / "claims.json").read_text(encoding="utf-8"))
    treated = {m["claim"] for m in data["markers"] if m["role"] == "treats"}
    untreated = [c["id"] for c in data["claims"] if c["id"] not in treated]
    listed = soup(built_html, "appendix/ledger").find(id="not-yet-covered").find_next_sibling()
    for claim_id in untreated:
        assert claim_id in listed.get_text(), f"{claim_id} is untreated but not listed"
