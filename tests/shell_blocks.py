"""The shell commands the book shows a reader, collected from everywhere they are shown.

Commands come from the shell blocks (bash, sh, shell, console) of README.md,
of the pages (their sources, or the built HTML in the form the copy button
copies it, which includes the generated "Run this chapter" notes), and from
the ``Examples:`` section of each example script's docstring. A block that
is not meant to run is a ``{code-block}`` with ``:class: not-runnable``
(shown with a visible label) and is left out.

``tests/examples`` runs every ``python examples/...`` command on small
settings; ``tests/site`` checks the others (pip, nox, ``python -m
companion``, ``jupyter execute``).
"""

from __future__ import annotations

import ast
import re
import shlex
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from book_html import DOCS, ROOT, copied_text, copy_settings, read_page

SHELL_LANGUAGES = {"bash", "sh", "shell", "console", "shell-session"}
FENCE = re.compile(r"^```(\w[\w-]*)[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
DIRECTIVE_BLOCK = re.compile(r"^```\{code-block\} (\S+)\n((?::\w[\w-]*:.*\n)*)", re.MULTILINE)
NOTEBOOK_COMMAND = "jupyter execute <chapter>.ipynb"


@dataclass
class Command:
    text: str
    where: list[str] = field(default_factory=list)
    #: Example commands shown before this one in the block where it first appears.
    setup: list[str] = field(default_factory=list)

    @property
    def argv(self) -> list[str]:
        return shlex.split(self.text)

    @property
    def is_example(self) -> bool:
        return is_example(self.text)


def is_example(text: str) -> bool:
    return text.startswith(("python examples/", "python3 examples/"))


def split_commands(block: str) -> list[str]:
    """Command lines of a shell block: comments dropped, continuations joined, && split."""
    joined = re.sub(r"\\\n", " ", block)
    commands = []
    for raw in joined.splitlines():
        line = raw.strip().removeprefix("$ ")
        words = shlex.split(line, comments=True)
        part: list[str] = []
        for word in [*words, "&&"]:
            if word == "&&":
                if part:
                    commands.append(shlex.join(part))
                part = []
            else:
                part.append(word)
    return commands


def fenced_shell_blocks(text: str) -> list[str]:
    return [body for language, body in FENCE.findall(text) if language in SHELL_LANGUAGES]


def unmarked_directive_blocks(text: str) -> list[str]:
    """``{code-block}`` shell blocks that do not say ``:class: not-runnable`` (should be none)."""
    return [
        options
        for language, options in DIRECTIVE_BLOCK.findall(text)
        if language in SHELL_LANGUAGES and "not-runnable" not in options
    ]


def readme_blocks() -> list[tuple[str, str]]:
    return [(b, "README.md") for b in fenced_shell_blocks((ROOT / "README.md").read_text())]


def source_blocks() -> list[tuple[str, str]]:
    """Shell blocks of the pages' Markdown sources."""
    found = []
    for path in sorted(DOCS.rglob("*.md")):
        if "_build" in path.relative_to(DOCS).parts:
            continue
        page = path.relative_to(DOCS).with_suffix("").as_posix()
        found += [(block, page) for block in fenced_shell_blocks(path.read_text())]
    return found


def built_blocks(html_dir: Path, pages: list[str]) -> list[tuple[str, str]]:
    """Shell blocks of the built pages, as the copy button copies them."""
    settings = copy_settings(html_dir)
    selector = ", ".join(f"div.highlight-{language} pre" for language in SHELL_LANGUAGES)
    found = []
    for page in pages:
        for pre in read_page(html_dir, page).select(selector):
            if pre.find_parent(class_="not-runnable") is None:
                found.append((copied_text(pre, settings), page))
    return found


def example_blocks() -> list[tuple[str, str]]:
    """The ``Examples:`` section of each example script's docstring, as one shell block."""
    found = []
    for script in sorted((ROOT / "examples").glob("*.py")):
        docstring = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8"))) or ""
        section = re.search(r"^Examples[^\n]*:\n(.*?)(?:\n\S|\Z)", docstring, re.S | re.M)
        if section:
            found.append((textwrap.dedent(section[1]), f"examples/{script.name}"))
    return found


def collect_commands(blocks: list[tuple[str, str]]) -> dict[str, Command]:
    """Every distinct command of ``blocks``, with where it is shown and what precedes it."""
    commands: dict[str, Command] = {}
    for block, where in blocks:
        shown: list[str] = []
        for line in split_commands(block):
            # Each chapter's note names its own notebook: one command, checked once.
            text = re.sub(r"^jupyter execute \S+\.ipynb$", NOTEBOOK_COMMAND, line)
            if text not in commands:
                commands[text] = Command(text, setup=[s for s in shown if is_example(s)])
            commands[text].where.append(where)
            shown.append(text)
    return commands


def shown_example_commands() -> dict[str, Command]:
    """The example-script commands of the README, the page sources and the docstrings."""
    every = collect_commands(readme_blocks() + source_blocks() + example_blocks())
    return {text: command for text, command in every.items() if command.is_example}
