"""Reading the built book the way a reader meets it: pages, cells, what the copy button copies.

Shared by the site, copy-button, browser, shell-command and determinism tests.
Every list of pages is computed from ``docs/`` at test time, so the tests
cover whatever chapters exist.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from book_sphinx.book_common import is_text_notebook
from bs4 import BeautifulSoup, Tag
from filelock import FileLock

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
HTML = DOCS / "_build" / "html"
ARTIFACTS = ROOT / "test-artifacts"


def source_pages() -> list[str]:
    """Docnames of every page of the book (Markdown sources under docs/, build output aside)."""
    return sorted(
        p.relative_to(DOCS).with_suffix("").as_posix()
        for p in DOCS.rglob("*.md")
        if "_build" not in p.relative_to(DOCS).parts
    )


def executed_pages() -> list[str]:
    """Docnames of the pages MyST-NB executes (MyST Markdown with notebook front matter)."""
    return [
        page
        for page in source_pages()
        if is_text_notebook((DOCS / f"{page}.md").read_text(encoding="utf-8"))
    ]


def selected_pages() -> list[str]:
    """The executed pages, or those named in ``BOOK_PAGES`` (``nox -s reproduce -- PAGE``)."""
    wanted = [p for p in os.environ.get("BOOK_PAGES", "").split(",") if p]
    pages = executed_pages()
    unknown = sorted(set(wanted) - set(pages))
    if unknown:
        raise ValueError(f"BOOK_PAGES names pages that are not executed pages: {unknown}")
    return [p for p in pages if p in wanted] if wanted else pages


def front_matter(page: str) -> dict:
    """The YAML front matter of a page's source (empty if it has none)."""
    text = (DOCS / f"{page}.md").read_text(encoding="utf-8")
    if not text.startswith("---"):
        return {}
    return yaml.safe_load(text.split("---", 2)[1]) or {}


def chapter_pages() -> list[str]:
    return [page for page in source_pages() if page.startswith("chapters/")]


def read_page(html_dir: Path, page: str) -> BeautifulSoup:
    return BeautifulSoup((html_dir / f"{page}.html").read_text(encoding="utf-8"), "html.parser")


# --- What the copy button copies ------------------------------------------------


@dataclass(frozen=True)
class CopySettings:
    """sphinx-copybutton's settings, as rendered into the built ``_static/copybutton.js``."""

    exclude: str
    prompt: str
    is_regexp: bool
    only_prompt_lines: bool
    remove_prompts: bool
    copy_empty_lines: bool
    line_continuation: str
    here_doc: str


def js_string(literal: str) -> str:
    """Value of a JavaScript string literal as written by Python's ``repr`` in the template."""
    quote = literal[0]
    if quote not in "'\"" or literal[-1] != quote:
        raise ValueError(f"not a string literal: {literal}")
    return re.sub(r"\\(.)", r"\1", literal[1:-1])


def copy_settings(html_dir: Path) -> CopySettings:
    """Read the settings back from the rendered script, so the tests use what the browser uses."""
    script = (html_dir / "_static" / "copybutton.js").read_text(encoding="utf-8")
    exclude = re.search(r"let exclude = '([^']*)';", script).group(1)
    call = re.search(r"return formatCopyText\(text, (.*)\)\s*\n", script).group(1)
    parts = re.findall(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|true|false", call)
    assert len(parts) == 7, f"unexpected formatCopyText call in copybutton.js: {call}"
    prompt, is_regexp, only, remove, empty, continuation, here_doc = parts
    return CopySettings(
        exclude=exclude,
        prompt=js_string(prompt),
        is_regexp=is_regexp == "true",
        only_prompt_lines=only == "true",
        remove_prompts=remove == "true",
        copy_empty_lines=empty == "true",
        line_continuation=js_string(continuation),
        here_doc=js_string(here_doc),
    )


def format_copy_text(text: str, settings: CopySettings) -> str:
    """A line-for-line port of sphinx-copybutton 0.5.2's ``formatCopyText``.

    The browser test checks this port against the real button on every page.
    """
    prompt = settings.prompt if settings.is_regexp else re.escape(settings.prompt)
    regexp = re.compile(f"^({prompt})(.*)")
    output_lines: list[str] = []
    got_prompt: list[bool] = []
    got_continuation = got_here_doc = False
    for line in text.split("\n"):
        match = regexp.match(line)
        if match or got_continuation or got_here_doc:
            prompt_found = match is not None
            got_prompt.append(prompt_found)
            output_lines.append(match.group(2) if settings.remove_prompts and match else line)
            got_continuation = bool(settings.line_continuation) and line.endswith(
                settings.line_continuation
            )
            if settings.here_doc and settings.here_doc in line:
                got_here_doc = not got_here_doc
        elif not settings.only_prompt_lines or (settings.copy_empty_lines and not line.strip()):
            output_lines.append(line)
    if any(got_prompt):
        text = "\n".join(output_lines)
    return text.removesuffix("\n")


def copied_text(pre: Tag, settings: CopySettings) -> str:
    """What clicking the copy button of ``pre`` puts on the clipboard."""
    clone = BeautifulSoup(str(pre), "html.parser")
    if settings.exclude:
        for node in clone.select(settings.exclude):
            node.decompose()
    return format_copy_text(clone.get_text(), settings)


# --- Executed cells as the page shows them ----------------------------------------


@dataclass
class PageCell:
    """One executed code cell of a page, in the order the page shows it."""

    code: str | None  # what the copy button copies; None if the page hides the input
    tags: list[str] = field(default_factory=list)

    @property
    def raises(self) -> bool:
        return "raises-exception" in self.tags

    @property
    def timing(self) -> bool:
        return "timing" in self.tags


def page_cells(html_dir: Path, page: str, settings: CopySettings) -> list[PageCell]:
    cells = []
    for cell in read_page(html_dir, page).select("div.cell"):
        tags = [c.removeprefix("tag_") for c in cell.get("class", []) if c.startswith("tag_")]
        pre = cell.select_one("div.cell_input div.highlight pre")
        cells.append(PageCell(code=copied_text(pre, settings) if pre else None, tags=tags))
    return cells


def execution_records(html_dir: Path) -> dict:
    return json.loads((html_dir.parent / "execution.json").read_text(encoding="utf-8"))


def update_report(path: Path, update) -> dict:
    """Apply ``update`` to the JSON report at ``path`` (a dict), write it back sorted, return it.

    Side-by-side test workers (``pytest -n``) add to the same report: a lock
    beside it makes each read-change-write whole.
    """
    path.parent.mkdir(exist_ok=True)
    # The lock lives beside the test run's temporary files, not among the artifacts.
    key = hashlib.sha256(bytes(path.resolve())).hexdigest()[:12]
    lock = Path(tempfile.gettempdir()) / f"book-report-{key}.lock"
    with FileLock(lock):
        report = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        update(report)
        report = dict(sorted(report.items()))
        path.write_text(json.dumps(report, indent=1), encoding="utf-8")
    return report
