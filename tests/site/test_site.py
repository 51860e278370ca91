"""Checks on the built book in docs/_build/html (run after the strict build).

``nox -s tests`` builds the book first; on its own, run ``nox -s docs`` and
then ``nox -s site``.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlparse

import pytest
import yaml
from book_html import DOCS, ROOT, executed_pages, read_page, source_pages
from bs4 import BeautifulSoup

# The claim IDs of the book's brief (shared/CLAIMS.md); the data file must hold at least these.
BRIEF_CLAIM_IDS = (
    [f"G{i}" for i in range(1, 13)]
    + [f"D{i}" for i in range(1, 4)]
    + [f"P{i}" for i in range(1, 7)]
    + [f"C{i}" for i in range(1, 4)]
    + [f"W{i}" for i in range(1, 9)]
    + ["X1", "X2"]
)


def test_there_are_executed_chapters():
    assert "chapters/02-graphs" in executed_pages()


@pytest.mark.parametrize("page", executed_pages())
def test_every_chapter_really_ran(page, built_html):
    """The "everything actually ran" check: executed, succeeded, took time, shows outputs."""
    records = json.loads((built_html.parent / "execution.json").read_text(encoding="utf-8"))
    record = records.get(page)
    assert record is not None, f"{page} was never executed"
    assert record["succeeded"], f"{page} failed: {record['error']}"
    assert record["runtime"] is not None, f"{page} reports no run time"
    assert record["runtime"] > 0, f"{page} reports no run time"
    outputs = read_page(built_html, page).select("div.cell_output")
    assert outputs, f"{page} shows no cell output"


@pytest.mark.parametrize("page", executed_pages())
def test_executed_pages_carry_a_version_stamp(page, built_html):
    from companion.environment import package_versions

    stamp = read_page(built_html, page).select_one("div.version-stamp")
    assert stamp is not None, f"{page} has no version stamp"
    for name, version in package_versions(["torch", "tensorflow", "keras"]).items():
        assert version in stamp.get_text(), f"{page}: stamp lacks {name} {version}"


@pytest.mark.parametrize("page", executed_pages())
def test_no_framework_log_noise_in_outputs(page, built_html):
    text = " ".join(o.get_text() for o in read_page(built_html, page).select("div.cell_output"))
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


@pytest.mark.parametrize("page", source_pages())
def test_pages_request_nothing_from_other_hosts(page, built_html):
    assert third_party_requests(read_page(built_html, page)) == []


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
    page = read_page(built_html, "chapters/02-graphs")
    assert page.find("math") is not None
    assert not [s for s in page.find_all("script") if "mathjax" in (s.get("src") or "").lower()]


def test_graphs_chapter_shows_synced_tabs_pictures_and_claims(built_html):
    page = read_page(built_html, "chapters/02-graphs")
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


def test_claims_file_holds_every_claim_of_the_brief_in_order():
    data = yaml.safe_load((DOCS / "claims.yaml").read_text(encoding="utf-8"))
    ids = [claim["id"] for claim in data["claims"]]
    assert ids[: len(BRIEF_CLAIM_IDS)] == BRIEF_CLAIM_IDS


def test_ledger_has_an_anchor_for_every_claim(built_html):
    page = read_page(built_html, "appendix/ledger")
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
    listed = read_page(built_html, "appendix/ledger").find(id="not-yet-covered").find_next_sibling()
    for claim_id in untreated:
        assert claim_id in listed.get_text(), f"{claim_id} is untreated but not listed"


# --- Offline: nothing from another host, on every built HTML file ------------------


def built_html_files() -> list[str]:
    html = DOCS / "_build" / "html"
    if not html.is_dir():
        return []
    return sorted(
        p.relative_to(html).as_posix()
        for p in html.rglob("*.html")
        if not p.relative_to(html).parts[0].startswith("_")
    )


def other_host_references(page_soup: BeautifulSoup) -> list[str]:
    """References that make a browser contact another host, beyond the request tags above."""
    found = []
    for element in page_soup.find_all(srcset=True):
        found += [part.split()[0] for part in element["srcset"].split(",") if part.strip()]
    for link in page_soup.find_all("link"):
        if set(link.get("rel", [])) & {"preconnect", "dns-prefetch", "prerender"}:
            found.append(link.get("href", ""))
    for element in page_soup.find_all(style=True):
        found += re.findall(r"url\(['\"]?([^'\")]+)", element["style"])
    for style in page_soup.find_all("style"):
        found += re.findall(r"@import\s+['\"]([^'\"]+)", style.get_text())
    for meta in page_soup.find_all("meta", attrs={"http-equiv": True}):
        if meta["http-equiv"].lower() == "refresh":
            found.append(meta.get("content", "").partition("url=")[2])
    return [u for u in found if urlparse(u).scheme in {"http", "https"} or u.startswith("//")]


@pytest.mark.parametrize("name", built_html_files())
def test_no_built_page_refers_to_another_host(name, built_html):
    page = BeautifulSoup((built_html / name).read_text(encoding="utf-8"), "html.parser")
    assert third_party_requests(page) + other_host_references(page) == []


def test_the_offline_check_sees_every_kind_of_request():
    page = BeautifulSoup(
        '<script src="https://cdn.example/x.js"></script>'
        '<link rel="stylesheet" href="//fonts.example/css">'
        '<img srcset="https://img.example/a.png 2x">'
        '<link rel="preconnect" href="https://fonts.example">'
        '<div style="background: url(https://img.example/b.png)"></div>'
        '<a href="https://docs.example/">a link is not a request</a>',
        "html.parser",
    )
    assert len(third_party_requests(page) + other_host_references(page)) == 5


# --- Reader affordances ---------------------------------------------------------


def test_sitemap_lists_every_page_and_nothing_else(built_html):
    sitemap = (built_html / "sitemap.xml").read_text(encoding="utf-8")
    listed = re.findall(r"<loc>(.*?)</loc>", sitemap)
    prefix = sorted(listed, key=len)[0].rsplit("/", 1)[0] + "/"
    pages = {url.removeprefix(prefix) for url in listed}
    assert pages == {f"{page}.html" for page in source_pages()}
    assert all(url.startswith(("http://", "https://")) for url in listed)


@pytest.mark.parametrize("page", source_pages())
def test_pages_carry_social_preview_metadata(page, built_html):
    page_soup = read_page(built_html, page)
    meta = {
        tag["property"]: tag.get("content", "") for tag in page_soup.find_all("meta", property=True)
    }
    for key in ("og:title", "og:type", "og:url", "og:description", "og:image", "og:site_name"):
        assert meta.get(key), f"{page}: no {key}"
    assert meta["og:url"].endswith(f"{page}.html")
    assert meta["og:image"].endswith("_static/social-preview.png")
    assert (built_html / "_static" / "social-preview.png").stat().st_size > 1000
    canonical = page_soup.find("link", rel="canonical")
    assert canonical is not None
    assert canonical["href"] == meta["og:url"]


def test_404_page_uses_absolute_links_that_exist(built_html):
    page = BeautifulSoup((built_html / "404.html").read_text(encoding="utf-8"), "html.parser")
    assert "Page not found" in page.get_text()
    stylesheets = [link["href"] for link in page.find_all("link", rel="stylesheet")]
    assert stylesheets
    assert all(href.startswith("/") for href in stylesheets)
    prefix = re.match(r"(.*/)_static/", stylesheets[0]).group(1)
    for href in stylesheets:
        assert (built_html / href.removeprefix(prefix).split("?")[0]).is_file(), href


@pytest.mark.parametrize("page", executed_pages())
def test_executed_pages_offer_their_notebook_with_outputs(page, built_html):
    import nbformat

    page_soup = read_page(built_html, page)
    depth = "../" * page.count("/")
    links = {a["href"] for a in page_soup.select("a.dropdown-item[href]")}
    assert f"{depth}_sources/{page}.ipynb" in links, f"{page}: no .ipynb download"
    assert f"{depth}_sources/{page}.md" in links, f"{page}: no source download"
    notebook = nbformat.read(built_html / "_sources" / f"{page}.ipynb", as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    shown = page_soup.select("div.cell")
    assert len(code) == len(shown), f"{page}: the notebook and the page differ in cells"
    with_output = sum(1 for cell in shown if cell.select("div.cell_output > *"))
    assert sum(1 for cell in code if cell.outputs) == with_output
    assert not any("fingerprint" in cell.source for cell in code)


@pytest.mark.parametrize("page", [p for p in executed_pages() if p.startswith("chapters/")])
def test_chapters_say_how_to_run_them_locally(page, built_html):
    note = read_page(built_html, page).select_one("details.launch-locally")
    assert note is not None, f"{page}: no launch-locally note"
    commands = [pre.get_text().strip() for pre in note.select("pre")]
    assert f"jupyter execute {page.split('/')[-1]}.ipynb" in commands
    assert any("constraints.txt" in command for command in commands)


@pytest.mark.parametrize("page", source_pages())
def test_footer_shows_build_date_commit_and_versions(page, built_html):
    from companion.environment import package_versions

    footer = read_page(built_html, page).select_one("div.extra_footer")
    assert footer is not None
    date = footer.select_one("span.build-date")
    assert date is not None
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", date.get_text())
    for version in package_versions(["torch", "tensorflow", "keras"]).values():
        assert version in footer.get_text()


# --- Hosting ----------------------------------------------------------------------


def test_read_the_docs_builds_with_the_nox_docs_session():
    config = yaml.safe_load((ROOT / ".readthedocs.yaml").read_text(encoding="utf-8"))
    assert config["version"] == 2
    commands = config["build"]["commands"]
    assert any("nox -s docs" in command for command in commands)
    assert any("docs/_build/html" in c and "READTHEDOCS_OUTPUT" in c for c in commands)


def test_github_pages_workflow_builds_with_the_nox_docs_session():
    workflow = yaml.safe_load(
        (ROOT / ".github" / "workflows" / "pages.yml").read_text(encoding="utf-8")
    )
    steps = [step for job in workflow["jobs"].values() for step in job.get("steps", [])]
    runs = "\n".join(step.get("run", "") for step in steps)
    assert "nox -s docs" in runs
    uploads = [
        s for s in steps if str(s.get("uses", "")).startswith("actions/upload-pages-artifact")
    ]
    assert uploads
    assert uploads[0]["with"]["path"] == "docs/_build/html"
    assert any(str(s.get("uses", "")).startswith("actions/deploy-pages") for s in steps)


def test_the_ledger_is_complete(built_html):
    """Every claim is treated somewhere, carries a verdict, and every update cites sources."""
    data = json.loads((built_html / "claims.json").read_text(encoding="utf-8"))
    treated = {m["claim"] for m in data["markers"] if m["role"] == "treats"}
    untreated = [c["id"] for c in data["claims"] if c["id"] not in treated]
    assert untreated == [], f"not yet covered: {untreated}"
    unassessed = [c["id"] for c in data["claims"] if c["verdict"] == "not yet assessed"]
    assert unassessed == [], f"no verdict: {unassessed}"
    unsourced = [c["id"] for c in data["claims"] if "update" in c["kind"] and not c["sources"]]
    assert unsourced == [], f"update claims without sources: {unsourced}"
    page = read_page(built_html, "appendix/ledger")
    assert "not yet covered" not in page.select_one("article").get_text().replace(
        "listed as not yet covered", ""
    )


def test_every_when_to_choose_claim_links_to_its_evidence(built_html):
    """A W or X claim is judged next to executed evidence, or links to the chapters holding it."""
    data = json.loads((built_html / "claims.json").read_text(encoding="utf-8"))
    for marker in data["markers"]:
        if marker["role"] != "treats" or marker["claim"][0] not in "WX":
            continue
        if marker["has_evidence"]:
            continue
        page = read_page(built_html, marker["docname"])
        box = page.find(id=marker["anchor"])
        chapter_links = [
            a["href"]
            for a in box.select("a.reference.internal")
            if "ledger.html" not in a["href"] and not a["href"].startswith("#")
        ]
        assert chapter_links, f"{marker['claim']} in {marker['docname']} links to no evidence"
