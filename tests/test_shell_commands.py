"""Every shell command the book and the README show a reader is run, on small settings.

Commands are collected from the shell blocks (bash, sh, shell, console) of
README.md and of every built page (so the generated "Run this chapter" notes
count too, in the form the copy button copies them), and from the
``Examples:`` section of each example script's docstring. Each one is matched
against the table below, which says how it is run here; a command the table
does not know fails the test, so a new command cannot slip through unrun.
A block that is not meant to run is a ``{code-block}`` with
``:class: not-runnable`` (shown with a visible label) and is left out.

How each kind of command runs:

``python3 -m pip install nox``
    as shown (nox is in the test extra, so this is satisfied without a download).
``python3 -m pip install -c constraints.txt -e ".[...]"``
    with ``--dry-run``: pip resolves the pinned set against this environment.
``nox -s docs``, ``nox -s lint``, ``nox -s examples``
    with ``--no-venv``, in the environment the tests run in (the tests session
    has every package the other sessions install).
``nox -s tests``
    with ``--no-venv`` and ``-- --collect-only -q``: lint, then a strict
    rebuild of the book (outputs from the cache) and test collection, without
    running this test again.
``python -m companion``
    as shown.
``python examples/<script>.py ...``
    as shown, from a scratch directory, with the arguments in SMALL_SETTINGS
    lowered. A command that names a file not there yet (the weights that the
    line above it trains) first runs the earlier example commands of its
    block, in the same directory, as a reader pasting the block would.
``jupyter execute <chapter>.ipynb``
    for the chapter that executes fastest, on its downloaded notebook, in a
    fresh kernel; for the others, the notebook must be downloadable.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from book_html import (
    HTML,
    ROOT,
    copied_text,
    copy_settings,
    execution_records,
    read_page,
    source_pages,
)

pytestmark = pytest.mark.site

SHELL_LANGUAGES = {"bash", "sh", "shell", "console", "shell-session"}
#: Arguments lowered when an example's documented invocation is run.
SMALL_SETTINGS = {"--epochs": "1", "--repeats": "2", "--warmup": "1", "--steps": "2"}
TIMEOUT = 900
NOTEBOOK_COMMAND = "jupyter execute <chapter>.ipynb"
BIN = Path(sys.executable).parent


@dataclass
class Command:
    text: str
    where: list[str] = field(default_factory=list)
    #: Example commands shown before this one in the block where it first appears.
    setup: list[str] = field(default_factory=list)

    @property
    def argv(self) -> list[str]:
        return shlex.split(self.text)


def split_commands(block: str) -> list[str]:
    """Command lines of a shell block: comments dropped, continuations joined, && split."""
    joined = re.sub(r"\\\n", " ", block)
    commands = []
    for line in joined.splitlines():
        line = line.strip()
        if line.startswith("$ "):
            line = line[2:]
        words = shlex.split(line, comments=True)
        if not words:
            continue
        part: list[str] = []
        for word in [*words, "&&"]:
            if word == "&&":
                if part:
                    commands.append(shlex.join(part))
                part = []
            else:
                part.append(word)
    return commands


def readme_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    pattern = re.compile(r"^```(\w[\w-]*)[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
    return [body for language, body in pattern.findall(text) if language in SHELL_LANGUAGES]


def page_blocks(html_dir: Path, page: str) -> list[str]:
    settings = copy_settings(html_dir)
    blocks = []
    selector = ", ".join(f"div.highlight-{language} pre" for language in SHELL_LANGUAGES)
    for pre in read_page(html_dir, page).select(selector):
        if pre.find_parent(class_="not-runnable") is None:
            blocks.append(copied_text(pre, settings))
    return blocks


def example_blocks() -> list[tuple[str, str]]:
    """The ``Examples:`` section of each example script's docstring, as one shell block."""
    found = []
    for script in sorted((ROOT / "examples").glob("*.py")):
        docstring = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8"))) or ""
        section = re.search(r"^Examples[^\n]*:\n(.*?)(?:\n\S|\Z)", docstring, re.S | re.M)
        if section:
            found.append((textwrap.dedent(section[1]), f"examples/{script.name}"))
    return found


def is_example(text: str) -> bool:
    return text.startswith(("python examples/", "python3 examples/"))


def collect_commands() -> dict[str, Command]:
    commands: dict[str, Command] = {}

    def add_block(block: str, where: str) -> None:
        shown: list[str] = []
        for text in split_commands(block):
            # Each chapter's note names its own notebook: one command, run once.
            text = re.sub(r"^jupyter execute \S+\.ipynb$", NOTEBOOK_COMMAND, text)
            if text not in commands:
                commands[text] = Command(text, setup=[s for s in shown if is_example(s)])
            commands[text].where.append(where)
            shown.append(text)

    for block in readme_blocks():
        add_block(block, "README.md")
    if (HTML / "index.html").is_file():
        for page in source_pages():
            for block in page_blocks(HTML, page):
                add_block(block, page)
    for block, where in example_blocks():
        add_block(block, where)
    return commands


COMMANDS = collect_commands()


def run(argv: list[str], *, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    environment.update(env or {})
    return subprocess.run(
        argv, cwd=cwd, env=environment, capture_output=True, text=True, timeout=TIMEOUT
    )


def python(argv: list[str]) -> list[str]:
    """Replace a leading ``python``/``python3`` with the interpreter running the tests."""
    return [sys.executable, *argv[1:]] if argv[0] in {"python", "python3"} else argv


def lowered(argv: list[str]) -> list[str]:
    result = list(argv)
    for index, word in enumerate(result[:-1]):
        if word in SMALL_SETTINGS:
            result[index + 1] = SMALL_SETTINGS[word]
    return result


def fastest_chapter_notebook() -> tuple[str, Path]:
    records = execution_records(HTML)
    chapters = {
        page: record["runtime"]
        for page, record in records.items()
        if page.startswith("chapters/") and record["succeeded"] and record["runtime"]
    }
    page = min(chapters, key=chapters.get)
    return page, HTML / "_sources" / f"{page}.ipynb"


def names_missing_file(argv: list[str], cwd: Path) -> bool:
    """Whether an argument names a file (it has a suffix) that ``cwd`` does not hold."""
    files = [word for word in argv[2:] if not word.startswith("-") and Path(word).suffix]
    return any(not (cwd / word).exists() for word in files)


def run_command(command: Command, tmp_path: Path) -> tuple[subprocess.CompletedProcess, str]:
    """Run ``command`` the way the table in the module docstring says; return result and check."""
    argv = command.argv
    if argv[:2] in (["python3", "-m"], ["python", "-m"]) and argv[2:4] == ["pip", "install"]:
        if argv[4:] == ["nox"]:
            return run(python(argv), cwd=ROOT), "already satisfied"
        if "-e" in argv and "-c" in argv:
            return run([*python(argv), "--dry-run"], cwd=ROOT), "Would install"
    if argv[:2] == ["nox", "-s"] and len(argv) == 3:
        session = argv[2]
        nox = [sys.executable, "-m", "nox", "--no-venv", "-s", session]
        if session in {"docs", "lint", "examples"}:
            return run(nox, cwd=ROOT), f"Session {session} was successful"
        if session == "tests":
            return run(
                [*nox, "--", "--collect-only", "-q"], cwd=ROOT
            ), "Session tests was successful"
    if argv[:3] in (["python", "-m", "companion"], ["python3", "-m", "companion"]):
        return run(python(argv), cwd=tmp_path), "torch"
    if is_example(command.text):
        (tmp_path / "examples").symlink_to(ROOT / "examples")
        for earlier in command.setup if names_missing_file(argv, tmp_path) else []:
            done = run(lowered(python(shlex.split(earlier))), cwd=tmp_path)
            assert done.returncode == 0, (
                f"{earlier!r}, which {command.text!r} follows in {command.where[0]}, failed:\n"
                f"{(done.stdout + done.stderr)[-3000:]}"
            )
        return run(lowered(python(argv)), cwd=tmp_path), ""
    if command.text == NOTEBOOK_COMMAND:
        chapters = [p for p in command.where if p.startswith("chapters/")]
        missing = [p for p in chapters if not (HTML / "_sources" / f"{p}.ipynb").is_file()]
        assert missing == [], (
            f"the launch note names notebooks that cannot be downloaded: {missing}"
        )
        page, notebook = fastest_chapter_notebook()
        name = f"{Path(page).name}.ipynb"
        (tmp_path / name).write_bytes(notebook.read_bytes())
        ipython_dir = tmp_path / "ipython"  # a fresh profile, as on a reader's machine
        ipython_dir.mkdir()
        argv = [str(BIN / "jupyter"), "execute", name]
        return run(argv, cwd=tmp_path, env={"IPYTHONDIR": str(ipython_dir)}), ""
    pytest.fail(
        f"no rule to run {command.text!r} (shown in {', '.join(command.where)}): add one to "
        "tests/test_shell_commands.py, or mark the block with :class: not-runnable"
    )


def test_the_readers_commands_are_among_those_found():
    assert "nox -s docs" in COMMANDS, "the README's build command"
    assert "nox -s tests" in COMMANDS, "the README's test command"
    assert "python -m companion" in COMMANDS, "the environment report"
    assert any(text.startswith("python examples/") for text in COMMANDS), "example scripts"
    if (HTML / "index.html").is_file():
        assert NOTEBOOK_COMMAND in COMMANDS, "the chapters' launch-locally note"


@pytest.mark.parametrize("command", list(COMMANDS.values()), ids=list(COMMANDS))
def test_shown_command_runs(command, tmp_path, built_html):
    result, expected = run_command(command, tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{command.text!r} failed ({command.where}):\n{output[-3000:]}"
    assert expected in output, f"{command.text!r}: expected {expected!r} in:\n{output[-3000:]}"
