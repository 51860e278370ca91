"""Accessibility of every page, checked by the axe-core engine in Chromium.

axe-core comes from the npm registry, pinned in ``package.json`` and
``package-lock.json`` at the repository's root (``npm ci`` installs it; ``nox
-s site`` and ``nox -s tests`` run that first). Every page of the book is
checked in light and in dark mode, at desktop width and at a phone's 390 px,
against axe's WCAG 2.0/2.1/2.2 A and AA rules and its best practices (which
include "content inside landmarks" and "no empty table header").

The same visit checks what every page must do in a browser: it loads with
no console error, no page error, no failed request and no request to any
host but the local server (other hosts are blocked and reported); in dark
mode it renders dark, with light text and dark code blocks; and a screenshot
of its first screen, light and dark, goes to ``test-artifacts/screenshots/``
(whole pages with ``BOOK_FULL_PAGE_SCREENSHOTS=1``: a long page's full
screenshot takes about 3 s, a first screen 0.1 s, and no check reads them).

Any axe violation fails the test, except those listed in ``ALLOWED`` with a
reason. The full report, per page, mode and width, is written to
``test-artifacts/accessibility.json`` (and a summary to
``test-artifacts/accessibility.md``).

The framework tabs get two more checks: each framework's tab label, once
selected, passes the contrast rule in both modes, and the tabs work from the
keyboard with a visible focus ring.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from book_html import ARTIFACTS, ROOT, read_page, source_pages, update_report

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
# What the colour mode changes: the theme's dark mode is CSS on html[data-theme=dark],
# which recolours the page and moves nothing, so at each width the second mode is
# checked with axe's colour rules (the first mode with all of them).
COLOUR_RULES = ["color-contrast", "link-in-text-block"]
# Every page a reader can reach: the book's pages, search and the index.
PAGES = [*source_pages(), "search", "genindex", "404"]
MODES = ("light", "dark")
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}

#: Violations allowed, by axe rule id, each with the reason. Keep it short.
ALLOWED: dict[str, str] = {}

REPORT = ARTIFACTS / "accessibility.json"
SCREENSHOTS = ARTIFACTS / "screenshots"
FULL_PAGE_SCREENSHOTS = os.environ.get("BOOK_FULL_PAGE_SCREENSHOTS") == "1"


def slug(page: str) -> str:
    return page.replace("/", "--")


def luminance(css_colour: str) -> float:
    red, green, blue = (int(v) for v in re.findall(r"\d+", css_colour)[:3])
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


def check_dark_renders_dark(page) -> None:
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    text = page.evaluate("getComputedStyle(document.querySelector('main p')).color")
    assert luminance(background) < 0.25, f"dark mode background is {background}"
    assert luminance(text) > 0.6, f"dark mode text is {text}"
    code = page.locator("div.highlight pre").first
    if code.count():
        code_background = code.evaluate(
            "pre => getComputedStyle(pre.closest('div.highlight')).backgroundColor"
        )
        assert luminance(code_background) < 0.35, f"code on {code_background} in dark mode"


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.is_file():
        pytest.fail(f"no axe-core at {AXE}: run `npm ci` in {ROOT} (nox -s site does)")
    return AXE.read_text(encoding="utf-8")


def run_axe(page, axe_source: str, *, include: str | None = None, rules=None) -> list[dict]:
    """axe's violations on the page as it is now, each reduced to what a report needs."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source)
    options = {"resultTypes": ["violations"]}
    if rules:
        options["runOnly"] = {"type": "rule", "values": rules}
    else:
        options["runOnly"] = {"type": "tag", "values": AXE_TAGS}
    violations = page.evaluate(
        """([include, options]) => axe.run(include ? {include: [include]} : document, options)
            .then(result => result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target.join(' '),
                                          summary: n.failureSummary}))
            })))""",
        [include, options],
    )
    return [v for v in violations if v["id"] not in ALLOWED]


# Colours are judged as they end, not halfway through the theme's 0.25 s fades.
NO_TRANSITIONS = (
    "*, *::before, *::after { transition: none !important; animation: none !important; }"
)


def set_mode(page, mode: str) -> None:
    """Switch the colour scheme the way a reader's system does (the theme follows it)."""
    page.emulate_media(color_scheme=mode)
    page.wait_for_function(f"document.documentElement.dataset.theme === '{mode}'")


def open_for_axe(visit, page: str, mode: str = "light"):
    opened = visit(color_scheme=mode)
    opened.open(page_path(page))
    opened.page.add_style_tag(content=NO_TRANSITIONS)
    return opened


def record(page_name: str, results: dict) -> None:
    report = update_report(REPORT, lambda report: report.update({page_name: results}))
    lines = ["| page | mode | width | violations (rule: nodes) |", "| --- | --- | --- | --- |"]
    for name, runs in sorted(report.items()):
        for key, violations in runs.items():
            mode, width = key.split("/")
            found = ", ".join(f"{v['id']}: {len(v['nodes'])}" for v in violations) or "none"
            lines.append(f"| {name} | {mode} | {width} | {found} |")
    (REPORT.parent / "accessibility.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            summary = (node["summary"] or "").splitlines()[-1].strip()
            lines.append(f"    {node['target']}: {summary}")
        if len(violation["nodes"]) > 5:
            lines.append(f"    ... and {len(violation['nodes']) - 5} more")
    return "\n".join(lines)


def page_path(page: str) -> str:
    return f"{page}.html"


@pytest.mark.parametrize("page", PAGES)
def test_page_loads_cleanly_reads_in_both_modes_and_passes_axe(page, visit, axe_source):
    opened = open_for_axe(visit, page)
    assert opened.other_hosts == [], f"{page} asked other hosts: {opened.other_hosts}"
    assert opened.failed == [], f"{page}: failed requests {opened.failed}"
    assert opened.bad_responses() == [], f"{page}: {opened.bad_responses()}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    results = {}
    for width, viewport in WIDTHS.items():
        if viewport != WIDTHS["desktop"]:
            opened.page.set_viewport_size(viewport)
            # The theme makes scrollable blocks focusable on resize, after a 300 ms debounce.
            opened.page.wait_for_timeout(400)
        for mode in MODES:
            set_mode(opened.page, mode)
            if width == "desktop":
                if mode == "dark":
                    check_dark_renders_dark(opened.page)
                name = slug(page) + ("-dark" if mode == "dark" else "")
                opened.page.screenshot(
                    path=SCREENSHOTS / f"{name}.png", full_page=FULL_PAGE_SCREENSHOTS
                )
            rules = None if mode == MODES[0] else COLOUR_RULES
            results[f"{mode}/{width}"] = run_axe(opened.page, axe_source, rules=rules)
    record(page, results)
    assert opened.console_errors == [], f"{page}: console errors {opened.console_errors}"
    failures = {key: found for key, found in results.items() if found}
    assert not failures, f"{page}: axe-core violations\n" + "\n".join(
        f"[{key}]\n{describe(found)}" for key, found in failures.items()
    )


def tab_page(built_html: Path) -> str:
    """The first page with tabs for both frameworks."""
    for page in source_pages():
        html = read_page(built_html, page)
        for tab_set in html.select("div.framework-tabs"):
            ids = {label.get("data-sync-id") for label in tab_set.select(":scope > label")}
            if {"pytorch", "tensorflow"} <= ids:
                return page
    pytest.fail("no page has tabs for both frameworks")


@pytest.mark.parametrize("mode", MODES)
def test_each_framework_tab_label_passes_contrast_when_selected(
    mode, visit, axe_source, built_html
):
    opened = open_for_axe(visit, tab_page(built_html), mode)
    set_mode(opened.page, mode)
    found = {}
    for framework in ("pytorch", "tensorflow"):
        label = opened.page.locator(f"div.framework-tabs > label[data-sync-id={framework}]").first
        label.click()
        found[framework] = run_axe(
            opened.page, axe_source, include="div.framework-tabs", rules=["color-contrast"]
        )
    assert found == {"pytorch": [], "tensorflow": []}, describe(
        found["pytorch"] + found["tensorflow"]
    )


def test_framework_tabs_work_from_the_keyboard_with_a_visible_focus(visit, built_html):
    opened = visit()
    opened.open(page_path(tab_page(built_html)))
    page = opened.page
    first_input = "div.framework-tabs > input:checked"
    page.locator(first_input).first.focus()
    # Focus by keyboard: move away and back with Tab so :focus-visible applies.
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    focused = page.evaluate(
        """() => {
            const input = document.activeElement;
            if (!input.matches('div.framework-tabs > input')) return null;
            const label = input.nextElementSibling;
            const style = getComputedStyle(label);
            return {id: label.dataset.syncId, outline: style.outlineStyle,
                    width: parseFloat(style.outlineWidth)};
        }"""
    )
    assert focused is not None, "Tab does not reach the framework tabs"
    assert focused["outline"] != "none"
    assert focused["width"] >= 2, f"focus ring too thin: {focused}"
    page.keyboard.press("ArrowRight")
    chosen = page.eval_on_selector_all(
        "div.framework-tabs:has(> label[data-sync-id=tensorflow]) > input:checked + label",
        "labels => [...new Set(labels.map(l => l.dataset.syncId))]",
    )
    assert chosen == ["tensorflow"], f"the arrow key did not switch every tab set: {chosen}"
