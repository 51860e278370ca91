"""Every Python snippet a reader sees outside the executed cells runs (sybil).

Executed cells (``{code-cell}``) are checked by the book build. Everything
else is checked here, in README.md and in every Markdown page under docs/:

* ``python`` fences and ``{code-block} python`` directives run as code, in
  one namespace per file, in order; one that starts with ``>>>`` is a doctest;
* ``pycon`` fences and ``{doctest}`` directives are doctests (output compared);
* a snippet that is not meant to run is a ``{code-block}`` with
  ``:class: not-runnable``, which the page shows with a visible
  "not runnable as shown" label (docs/_static/book.css); it is skipped here.

The companion package's docstrings are doctested by ``pytest
--doctest-modules src/companion`` in ``nox -s tests``; shell commands are
run by tests/test_shell_commands.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from book_html import DOCS, ROOT
from sybil import Sybil
from sybil.parsers.abstract.codeblock import PythonDocTestOrCodeBlockParser
from sybil.parsers.myst import CodeBlockParser, DocTestDirectiveParser, PythonCodeBlockParser

NOT_RUNNABLE = "not-runnable"
PYTHON_LANGUAGES = {"python", "py", "python3", "pycon", "ipython", "ipython3"}
CHECKED_LANGUAGES = {"python", "pycon"}


def snippet_files() -> list[Path]:
    docs = [p for p in sorted(DOCS.rglob("*.md")) if "_build" not in p.relative_to(DOCS).parts]
    return [ROOT / "README.md", *docs]


def marked_not_runnable(region) -> bool:
    options = region.lexemes.get("options") or {}
    return NOT_RUNNABLE in str(options.get("class", "")).split()


class RunnableOnly:
    """Wrap a sybil parser so that regions marked not runnable are left out."""

    def __init__(self, parser):
        self.parser = parser

    def __call__(self, document):
        for region in self.parser(document):
            if not marked_not_runnable(region):
                yield region


class PyconParser(PythonDocTestOrCodeBlockParser):
    """``pycon`` fences: always doctests."""

    codeblock_parser_class = CodeBlockParser

    def __init__(self):
        super().__init__()
        self.codeblock_parser = CodeBlockParser("pycon")

    def __call__(self, document):
        for region in self.codeblock_parser(document):
            source = region.parsed
            for doctest_region in self.doctest_parser(source, document.path):
                doctest_region.adjust(region, source)
                yield doctest_region


SYBIL = Sybil(
    parsers=[
        RunnableOnly(PythonCodeBlockParser()),
        RunnableOnly(PyconParser()),
        DocTestDirectiveParser(),
    ]
)


def ids(paths: list[Path]) -> list[str]:
    return [p.relative_to(ROOT).as_posix() for p in paths]


@pytest.mark.parametrize("path", snippet_files(), ids=ids(snippet_files()))
def test_snippets_run(path):
    document = SYBIL.parse(path)
    for example in document:
        example.evaluate()


FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^\n`]*)$", re.MULTILINE)


def fenced_blocks(text: str) -> list[tuple[str, str, int]]:
    """(language or directive, options-and-body, line) for every fenced block in ``text``."""
    blocks = []
    position = 0
    while match := FENCE.search(text, position):
        fence = match["fence"]
        end = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", re.MULTILINE)
        closing = end.search(text, match.end())
        stop = closing.start() if closing else len(text)
        blocks.append(
            (
                match["info"].strip(),
                text[match.end() : stop],
                text.count("\n", 0, match.start()) + 1,
            )
        )
        position = closing.end() if closing else len(text)
    return blocks


@pytest.mark.parametrize("path", snippet_files(), ids=ids(snippet_files()))
def test_every_python_snippet_is_checked_or_visibly_marked(path):
    """No Python snippet escapes the checks under another language name."""
    problems = []
    for info, body, line in fenced_blocks(path.read_text(encoding="utf-8")):
        directive = re.match(r"\{([\w-]+)\}\s*(.*)", info)
        if directive and directive[1] == "code-cell":
            continue  # executed by the build
        if directive and directive[1] in {"code-block", "code", "sourcecode"}:
            language = directive[2].strip()
            classes = " ".join(re.findall(r"^\s*:class:\s*(.*)$", body, re.MULTILINE)).split()
            if NOT_RUNNABLE in classes:
                continue
        elif directive:
            continue  # another directive (its body may hold fences of its own; they are seen too)
        else:
            language = info.split()[0] if info else ""
        if language in PYTHON_LANGUAGES and language not in CHECKED_LANGUAGES:
            problems.append(
                f"line {line}: a {language!r} snippet is not checked; write it as 'python' "
                "(code) or 'pycon' (doctest), or mark it :class: not-runnable"
            )
    assert problems == []


def test_sybil_finds_the_readme_examples():
    """The README's Python example is really picked up (this suite is not vacuous)."""
    examples = list(SYBIL.parse(ROOT / "README.md"))
    assert len(examples) >= 2
