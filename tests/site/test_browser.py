"""The book in a real browser: headless Chromium (Debian's package) driven by Playwright.

The built site is served from a local server as a static host serves it
(gzip, cache headers, the book's 404 page for a missing path; see
``conftest.py``, which also holds the one browser every test shares). Checks:

* the framework tabs switch together on a page and keep the choice on the
  next page (sphinx-design keeps it in localStorage);
* the search page finds every chapter by a word of its title;
* the copy button puts on the clipboard exactly what tests/test_copy_button.py
  runs (so that test's Python port of the button is checked here);
* "copy with setup" puts on the clipboard each cell's snippet exactly as the
  reproduction tests assemble and run it (``book_reproduction.page_snippets``),
  so what they verify in a fresh kernel is what a reader copies;
* the Rosetta table's search and filters narrow its rows;
* a missing page shows the book's 404 page, styled, with working links.

Every page's own visit (it loads cleanly from the local server only, renders
dark in dark mode, passes axe-core in both modes and at both widths, and is
photographed light and dark into ``test-artifacts/screenshots/``) is in
``test_accessibility.py``; its weight in ``test_page_weight.py``; its first
paint on a slow phone in ``test_first_paint.py``.

Chromium: ``/usr/bin/chromium`` (Debian's ``chromium`` package, which
``nox -s tests`` installs when it is missing), or the binary named by
``BOOK_CHROMIUM``. Playwright never downloads a browser here.
"""

from __future__ import annotations

import re

import pytest
from book_html import (
    ARTIFACTS,
    chapter_pages,
    copy_settings,
    executed_pages,
    page_cells,
    read_page,
    source_pages,
)

pytest.importorskip("playwright.sync_api")

SCREENSHOTS = ARTIFACTS / "screenshots"


def slug(page: str) -> str:
    return page.replace("/", "--")


def framework_tab_pages(built_html) -> list[str]:
    """Pages with at least one tab set that offers both frameworks."""
    return [
        page
        for page in source_pages()
        if any(
            tab_set.select(":scope > label[data-sync-id=tensorflow]")
            and tab_set.select(":scope > label[data-sync-id=pytorch]")
            for tab_set in read_page(built_html, page).select("div.framework-tabs")
        )
    ]


BOTH_FRAMEWORKS = (
    "div.framework-tabs:has(> label[data-sync-id=pytorch]):has(> label[data-sync-id=tensorflow])"
)


def selected_frameworks(page) -> list[str]:
    """For every tab set on the page that offers both frameworks, the tab whose content shows."""
    return page.eval_on_selector_all(
        BOTH_FRAMEWORKS,
        """sets => sets.map(set => {
            const checked = set.querySelector(':scope > input:checked');
            const label = checked && checked.nextElementSibling;
            const content = label && label.nextElementSibling;
            const shown = content && getComputedStyle(content).display !== 'none';
            return shown ? label.dataset.syncId : null;
        })""",
    )


def test_framework_tabs_switch_together_and_persist_across_pages(visit, built_html):
    pages = framework_tab_pages(built_html)
    assert pages, "no page has framework tabs"
    first, second = pages[0], pages[-1] if len(pages) > 1 else "index"
    opened = visit()
    tab = opened.open(f"{first}.html") and opened.page
    assert set(selected_frameworks(tab)) == {"pytorch"}, "PyTorch should be the first choice"
    tab.locator("div.framework-tabs > label[data-sync-id=tensorflow]").last.click()
    assert set(selected_frameworks(tab)) == {"tensorflow"}, f"{first}: tabs did not follow"

    opened.open(f"{second}.html")
    if second != "index":
        assert set(selected_frameworks(tab)) == {"tensorflow"}, f"{second}: choice not kept"
        tab.locator("div.framework-tabs > label[data-sync-id=pytorch]").first.click()
        assert set(selected_frameworks(tab)) == {"pytorch"}
        opened.open(f"{first}.html")
        assert set(selected_frameworks(tab)) == {"pytorch"}, f"{first}: choice not kept"
    else:
        opened.open(f"{first}.html")
        assert set(selected_frameworks(tab)) == {"tensorflow"}, f"{first}: choice not kept"
    assert opened.console_errors == []


def title_word(built_html, page: str) -> str:
    title = read_page(built_html, page).select_one("main h1").get_text(" ", strip=True)
    words = re.findall(r"[A-Za-z]{5,}", title)
    assert words, f"{page}: no searchable word in its title {title!r}"
    return max(words, key=len)


@pytest.mark.parametrize("page", chapter_pages())
def test_search_finds_the_chapter_by_a_word_of_its_title(page, visit, built_html):
    word = title_word(built_html, page)
    opened = visit()
    opened.open(f"search.html?q={word}")
    opened.page.wait_for_selector("#search-results ul.search li", timeout=15_000)
    links = opened.page.eval_on_selector_all(
        "#search-results ul.search li a", "links => links.map(a => a.getAttribute('href'))"
    )
    assert any(f"{page}.html" in link for link in links), f"{word!r} did not find {page}: {links}"
    assert opened.console_errors == []


@pytest.mark.parametrize("page", executed_pages())
def test_copy_button_puts_each_cells_code_on_the_clipboard(page, visit, built_html):
    expected = [c.code for c in page_cells(built_html, page, copy_settings(built_html)) if c.code]
    opened = visit(permissions=("clipboard-read", "clipboard-write"))
    opened.open(f"{page}.html")
    buttons = opened.page.locator("div.cell div.cell_input button.copybtn")
    assert buttons.count() == len(expected), f"{page}: one copy button per visible cell"
    copied = []
    for index in range(buttons.count()):
        button = buttons.nth(index)
        if button.is_visible() or index == 0:
            # A reader's click: hover shows the button, then click it.
            button.scroll_into_view_if_needed()
            button.hover()
            button.click()
        else:
            # The cell sits in a tab that is not selected: click it the way a script would.
            button.evaluate("button => button.click()")
        copied.append(opened.page.evaluate("navigator.clipboard.readText()"))
    assert copied == expected
    assert opened.console_errors == []


@pytest.mark.parametrize("page", executed_pages())
def test_copy_with_setup_puts_each_cells_snippet_on_the_clipboard(page, visit, built_html):
    from book_reproduction import page_snippets

    # A button for every offered snippet but those of a cell that needs no
    # earlier one: that cell is its own snippet, which the plain button copies.
    expected = {
        s.cell: s.text for s in page_snippets(built_html, page) if s.offered and len(s.cells) > 1
    }
    opened = visit(permissions=("clipboard-read", "clipboard-write"))
    opened.open(f"{page}.html")
    buttons = opened.page.locator("button.copy-with-setup")
    copied = {}
    for index in range(buttons.count()):
        button = buttons.nth(index).element_handle()
        cell = int(button.get_attribute("data-cell"))
        # Cells in a tab that is not selected are clicked the way a script would.
        button.evaluate("b => b.click()")
        opened.page.wait_for_function("b => b.textContent !== 'Copy with setup'", arg=button)
        assert button.text_content() == "Copied", f"{page}: cell {cell}"
        copied[cell] = opened.page.evaluate("navigator.clipboard.readText()")
    assert copied == expected
    assert opened.console_errors == []


def test_the_rosetta_tables_search_and_filters_narrow_its_rows(visit, built_html):
    rows = read_page(built_html, "appendix/rosetta").select(
        "tbody[data-group] tr:not(.rosetta-group)"
    )
    opened = visit()
    opened.open("appendix/rosetta.html")
    tab = opened.page
    shown = (
        "() => [...document.querySelectorAll('tbody[data-group] tr:not(.rosetta-group)')]"
        ".filter(r => !r.hidden).length"
    )
    assert tab.evaluate(shown) == len(rows)
    tab.fill("input[data-filter=text]", "argmax")
    argmax = [r for r in rows if "argmax" in r.get_text().lower()]
    assert 0 < tab.evaluate(shown) == len(argmax)
    tab.fill("input[data-filter=text]", "")
    tab.select_option("select[data-filter=library]", "tensorflow")
    tab.select_option("select[data-filter=verdict]", "raises")
    raising = [r for r in rows if r.select("td")[2].select_one(".v").get_text() == "raises"]
    assert 0 < tab.evaluate(shown) == len(raising)
    count = tab.text_content(".rosetta-count")
    assert count == f"{len(raising)} of {len(rows)} operations shown"
    assert opened.console_errors == []


def test_missing_page_shows_the_books_404_page(visit):
    opened = visit()
    opened.open("chapters/no-such-chapter.html", expect_status=404)
    tab = opened.page
    assert "Page not found" in tab.title()
    # Styled: the theme's stylesheet loaded from an absolute path.
    assert tab.evaluate("document.styleSheets.length") > 2
    front = tab.locator("article a", has_text="front page")
    front.click()
    tab.wait_for_load_state("networkidle")
    assert tab.url.rstrip("/").endswith("index.html")
    errors = [e for e in opened.console_errors if "no-such-chapter" not in e and "404" not in e]
    assert errors == []
    assert opened.other_hosts == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.goto(f"{opened.site}/chapters/no-such-chapter.html")
    tab.screenshot(path=SCREENSHOTS / "404.png")


def test_the_colour_mode_menu_switches_to_dark_and_back(visit):
    """The theme's colour-mode menu (its script loads once the page is idle) works."""
    opened = visit(color_scheme="light")
    opened.open("index.html")
    tab = opened.page
    assert tab.evaluate("document.documentElement.dataset.theme") == "light"
    for mode in ("dark", "light"):
        tab.locator("button.theme-switch-button").first.click()
        tab.locator(f".dropdown-menu.show button.theme-change-button[data-mode={mode}]").click()
        assert tab.evaluate("document.documentElement.dataset.theme") == mode
        assert tab.evaluate("localStorage.getItem('mode')") == mode
    assert opened.console_errors == []
