"""First paint on a slow phone: LCP, total blocking time and layout shift per page.

Each page is opened in an empty browser (first visit) from the local server,
which compresses as GitHub Pages and Read the Docs do, under the DevTools
protocol's emulation of a mid-range phone: a 412 x 823 touch screen, the CPU
slowed four times, and a slow 4G network (150 ms round trip, 1.6 Mbit/s down,
750 kbit/s up). The page's own ``PerformanceObserver`` entries give:

* **LCP**, the Largest Contentful Paint: when the largest text block or
  image was painted (budget 2.5 s);
* **TBT**, total blocking time: the part beyond 50 ms of every long task on
  the main thread after the first contentful paint (budget 200 ms);
* **CLS**, cumulative layout shift, in session windows as Chrome reports it
  (budget 0.1).

The machine that runs the tests may be busy (CI shares nothing, but a
developer's machine may be building), which inflates blocking time. A page
over budget is therefore measured again, up to ``ATTEMPTS`` times in all, and
judged by its best run. The times are budgets to report, not to fail on: a
best run over a time budget gives a warning; a layout shift over budget fails. Every
run's figures are kept in ``test-artifacts/first-paint.json``, with a table of
the best in ``test-artifacts/first-paint.md``.
"""

from __future__ import annotations

import warnings

import pytest
from book_html import ARTIFACTS, source_pages, update_report

LCP_BUDGET_MS = 2500
TBT_BUDGET_MS = 200
CLS_BUDGET = 0.1
# Five, not three: in one CI run here the scaling chapter, which measures 144 ms
# on a quiet machine, gave 288, 207 and 253 ms, and the Rosetta appendix 668 then 41.
ATTEMPTS = 5
PAGES = [*source_pages(), "search", "genindex"]
REPORT = ARTIFACTS / "first-paint.json"

PHONE = {
    "viewport": {"width": 412, "height": 823},
    "device_scale_factor": 1.75,
    "is_mobile": True,
    "has_touch": True,
}
CPU_SLOWDOWN = 4
SLOW_4G = {
    "offline": False,
    "latency": 150,  # ms, round trip
    "downloadThroughput": 1_600_000 / 8,  # bytes per second
    "uploadThroughput": 750_000 / 8,
}

OBSERVERS = """
window.__firstPaint = {lcp: 0, lcpElement: '', fcp: 0, cls: 0, longTasks: []};
(() => {
  const record = window.__firstPaint;
  const observe = (type, callback) => {
    try { new PerformanceObserver(list => list.getEntries().forEach(callback))
            .observe({type, buffered: true}); } catch (error) {}
  };
  observe('paint', entry => {
    if (entry.name === 'first-contentful-paint') record.fcp = entry.startTime;
  });
  observe('largest-contentful-paint', entry => {
    record.lcp = entry.startTime;
    const element = entry.element;
    record.lcpElement = element ? element.tagName.toLowerCase()
      + (element.id ? '#' + element.id : '') + (element.className && typeof element.className
         === 'string' ? '.' + element.className.trim().split(/\\s+/).join('.') : '') : '';
  });
  let session = 0, first = 0, last = 0;
  observe('layout-shift', entry => {
    if (entry.hadRecentInput) return;
    if (session && entry.startTime - last < 1000 && entry.startTime - first < 5000) {
      session += entry.value;
    } else {
      session = entry.value;
      first = entry.startTime;
    }
    last = entry.startTime;
    record.cls = Math.max(record.cls, session);
  });
  observe('longtask', entry => record.longTasks.push([entry.startTime, entry.duration]));
})();
"""


def record(page: str, figures: dict) -> None:
    report = update_report(REPORT, lambda report: report.update({page: figures}))
    lines = [
        "| page | FCP (ms) | LCP (ms) | LCP element | TBT (ms) | CLS | runs |",
        "| --- | ---: | ---: | --- | ---: | ---: | ---: |",
    ]
    for name, f in sorted(report.items()):
        lines.append(
            f"| {name} | {f['fcp_ms']:.0f} | {f['lcp_ms']:.0f} | `{f['lcp_element'][:40]}` "
            f"| {f['tbt_ms']:.0f} | {f['cls']:.3f} | {len(f.get('runs', [f]))} |"
        )
    (REPORT.parent / "first-paint.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def within_budget(figures: dict) -> bool:
    return (
        0 < figures["lcp_ms"] <= LCP_BUDGET_MS
        and figures["tbt_ms"] <= TBT_BUDGET_MS
        and figures["cls"] <= CLS_BUDGET
    )


def first_visit_on_a_slow_phone(browser, url: str) -> dict:
    """Open ``url`` in an empty browser under the slow phone's profile; its paint figures."""
    context = browser.new_context(**PHONE)
    try:
        context.add_init_script(OBSERVERS)
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", SLOW_4G)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
        page.goto(url, wait_until="load", timeout=60_000)
        page.wait_for_load_state("networkidle", timeout=60_000)
        page.wait_for_timeout(500)  # late long tasks and shifts
        measured = page.evaluate("window.__firstPaint")
    finally:
        context.close()
    tbt = sum(
        max(0.0, duration - 50)
        for start, duration in measured["longTasks"]
        if start + duration > measured["fcp"]
    )
    return {
        "fcp_ms": round(measured["fcp"]),
        "lcp_ms": round(measured["lcp"]),
        "lcp_element": measured["lcpElement"],
        "tbt_ms": round(tbt),
        "cls": round(measured["cls"], 4),
        "long_tasks": len(measured["longTasks"]),
    }


@pytest.mark.filterwarnings("default:.*budget in every run:UserWarning")
@pytest.mark.parametrize("page", PAGES)
def test_first_paint_on_a_slow_phone(page, browser, site):
    runs = []
    while len(runs) < ATTEMPTS and not any(within_budget(run) for run in runs):
        runs.append(first_visit_on_a_slow_phone(browser, f"{site}/{page}.html"))
    best = min(runs, key=lambda run: (not within_budget(run), run["tbt_ms"], run["lcp_ms"]))
    record(page, {**best, "runs": runs})
    assert best["lcp_ms"] > 0, f"{page}: no largest contentful paint recorded"
    # Layout shift does not depend on the machine's load: over budget fails.
    assert best["cls"] <= CLS_BUDGET, f"{page}: CLS over budget in every run: {runs}"
    # Times do. A busy machine can keep a page over budget in every run (graph
    # capture: 140 ms in one CI run, 211-234 ms in the next, the page unchanged),
    # so a time over budget is reported, in the table and as a warning, not failed.
    for name, key, budget in (("LCP", "lcp_ms", LCP_BUDGET_MS), ("TBT", "tbt_ms", TBT_BUDGET_MS)):
        if best[key] > budget:
            message = f"{page}: {name} {best[key]} ms, over the {budget} ms budget in every run"
            warnings.warn(message, stacklevel=1)
