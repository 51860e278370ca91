"""What a reader's browser fetches for each page, against the book's budget.

Measured in Chromium through the DevTools protocol (every response that came
over the network, cache hits left out), from the local server that serves the
site as GitHub Pages does (gzip, ``Cache-Control: max-age=600``). Bytes are
counted uncompressed, as the budget is set; the compressed bytes on the wire
are recorded too.

* **First visit** of a page, in a browser with an empty cache: the page,
  every stylesheet, script, font and icon, and every figure, the ones
  lazy-loaded below the fold included (the page is scrolled to its end).
  Budget: 800 KB.
* **Next page** of the same visit, opened from the previous page with the
  cache it filled: what the browser fetches to show the page (figures far
  below the fold wait until the reader scrolls to them, so they are counted
  separately, as ``scrolled``). Budget: 250 KB.

Per-page figures go to ``test-artifacts/page-weight.json`` and a table to
``test-artifacts/page-weight.md``.
"""

from __future__ import annotations

import pytest
from book_html import ARTIFACTS, source_pages, update_report

FIRST_VISIT_BUDGET = 800_000
NEXT_PAGE_BUDGET = 250_000
PAGES = [*source_pages(), "search", "genindex"]
REPORT = ARTIFACTS / "page-weight.json"


def record(page: str, key: str, figures: dict) -> None:
    def add(report: dict) -> None:
        report.setdefault(page, {})[key] = figures

    report = update_report(REPORT, add)
    lines = [
        "| page | first visit (KB) | requests | on the wire (KB) | next page (KB) "
        "| next page, scrolled to the end (KB) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, measured in sorted(report.items()):
        first = measured.get("first_visit", {})
        after = measured.get("next_page", {})
        lines.append(
            f"| {name} | {first.get('uncompressed', 0) / 1000:.0f} | {first.get('requests', '')} "
            f"| {first.get('wire', 0) / 1000:.0f} | {after.get('uncompressed', 0) / 1000:.0f} "
            f"| {after.get('scrolled', 0) / 1000:.0f} |"
        )
    (REPORT.parent / "page-weight.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def scroll_to_the_end(page) -> None:
    """Scroll down to the end, so every lazy figure loads (Chrome fetches one a screen or
    more before it comes into view, so two screens at a time miss none)."""
    height, step = page.evaluate("[document.body.scrollHeight, window.innerHeight * 2]")
    y = 0
    while y < height:
        y += step
        page.evaluate(f"window.scrollTo(0, {y})")
        page.wait_for_timeout(50)  # let the lazy-loading observer see the new position
    page.wait_for_load_state("networkidle")


def heaviest(opened, count: int = 3) -> str:
    fetched = sorted(opened.network.network_fetches(), key=lambda f: -f.body_bytes)[:count]
    return ", ".join(f"{f.url.rsplit('/', 1)[-1][:40]} {f.body_bytes:,}" for f in fetched)


@pytest.mark.parametrize("page", PAGES)
def test_first_visit_and_next_page_stay_within_budget(page, visit):
    """A first visit to ``page``, then the next page of the book in the same browser."""
    opened = visit(block_other_hosts=False)
    opened.open(f"{page}.html")
    scroll_to_the_end(opened.page)
    first = opened.network.totals()
    first_heaviest = heaviest(opened)
    record(page, "first_visit", first)

    following = PAGES[(PAGES.index(page) + 1) % len(PAGES)]
    opened.network.clear()
    opened.open(f"{following}.html")
    on_load = opened.network.totals()
    on_load_heaviest = heaviest(opened)
    scroll_to_the_end(opened.page)
    record(following, "next_page", {**on_load, "scrolled": opened.network.totals()["uncompressed"]})

    assert opened.other_hosts == [], f"requests to other hosts: {opened.other_hosts}"
    assert opened.console_errors == [], opened.console_errors
    assert opened.bad_responses() == [], opened.bad_responses()
    assert first["uncompressed"] <= FIRST_VISIT_BUDGET, (
        f"a first visit to {page} fetches {first['uncompressed']:,} bytes "
        f"(budget {FIRST_VISIT_BUDGET:,}); heaviest: {first_heaviest}"
    )
    assert on_load["uncompressed"] <= NEXT_PAGE_BUDGET, (
        f"{following}, opened after {page}, fetches {on_load['uncompressed']:,} bytes "
        f"(budget {NEXT_PAGE_BUDGET:,}); heaviest: {on_load_heaviest}"
    )
