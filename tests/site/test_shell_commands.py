"""Every shell command the book shows a reader, other than the example scripts, is checked.

Commands are collected from README.md and from every built page, in the form
the copy button copies them (so the generated "Run this chapter" notes count
too); see ``tests/shell_blocks.py``. Each one is matched against the rules
below; a command no rule knows fails the test, so a new command cannot slip
through unchecked.

``python3 -m pip install nox``
    resolved with ``--dry-run`` (nox itself is not in the book's environment).
``python3 -m pip install -c constraints.txt -e ".[...]"``
    resolved with ``--dry-run`` against this environment.
``nox -s SESSION``
    SESSION must be a session of noxfile.py. Nothing runs nox inside the
    tests: ``.ci/run`` runs ``nox -s tests``, which runs every other session's
    work.
``python -m companion``
    run as shown.
``python examples/<script>.py ...``
    must be one of the commands ``tests/examples`` runs on small settings.
``jupyter execute <chapter>.ipynb``
    every chapter's notebook must be downloadable and the command must exist;
    ``tests/reproduce`` runs exactly this on every page's notebook.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from book_html import HTML, ROOT, source_pages
from shell_blocks import (
    NOTEBOOK_COMMAND,
    Command,
    built_blocks,
    collect_commands,
    readme_blocks,
    shown_example_commands,
    source_blocks,
    unmarked_directive_blocks,
)

BIN = Path(sys.executable).parent
TIMEOUT = 600


def built_commands() -> dict[str, Command]:
    blocks = readme_blocks()
    if (HTML / "index.html").is_file():
        blocks += built_blocks(HTML, source_pages())
    return collect_commands(blocks)


COMMANDS = built_commands()


def nox_sessions() -> set[str]:
    """Names of the sessions noxfile.py defines.

    ``@nox.session`` functions by their own name, and ``@book_session("NAME")``
    checks by the name given.
    """
    tree = ast.parse((ROOT / "noxfile.py").read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if ast.unparse(target) == "nox.session":
                    names.add(node.name)
                elif ast.unparse(target) == "book_session":
                    names.add(ast.literal_eval(decorator.args[0]))
    return names


def run(argv: list[str], *, cwd: Path) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(
        argv,
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def python(argv: list[str]) -> list[str]:
    """Replace a leading ``python``/``python3`` with the interpreter running the tests."""
    return [sys.executable, *argv[1:]] if argv[0] in {"python", "python3"} else argv


def check(command: Command, tmp_path: Path) -> None:
    """Check ``command`` the way the module docstring says."""
    argv = command.argv
    if argv[:4] in (["python3", "-m", "pip", "install"], ["python", "-m", "pip", "install"]):
        result = run([*python(argv), "--dry-run"], cwd=ROOT)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Would install" in result.stdout or "already satisfied" in result.stdout
        return
    if argv[:2] == ["nox", "-s"]:
        assert argv[2] in nox_sessions(), f"{command.text!r}: noxfile.py has no such session"
        return
    if argv[:3] in (["python", "-m", "companion"], ["python3", "-m", "companion"]):
        result = run(python(argv), cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "torch" in result.stdout
        return
    if command.is_example:
        assert command.text in shown_example_commands(), (
            f"{command.text!r} is shown in {command.where} but not run by tests/examples"
        )
        return
    if command.text == NOTEBOOK_COMMAND:
        chapters = [p for p in command.where if p.startswith("chapters/")]
        missing = [p for p in chapters if not (HTML / "_sources" / f"{p}.ipynb").is_file()]
        assert missing == [], (
            f"the launch note names notebooks that cannot be downloaded: {missing}"
        )
        assert run([str(BIN / "jupyter"), "execute", "--help"], cwd=tmp_path).returncode == 0
        return
    pytest.fail(
        f"no rule to check {command.text!r} (shown in {', '.join(command.where)}): add one to "
        "tests/site/test_shell_commands.py, or mark the block with :class: not-runnable"
    )


@pytest.mark.usefixtures("built_html")
def test_the_readers_commands_are_among_those_found():
    assert "nox -s docs" in COMMANDS, "the README's build command"
    assert "nox -s tests" in COMMANDS, "the README's test command"
    assert "python -m companion" in COMMANDS, "the environment report"
    assert NOTEBOOK_COMMAND in COMMANDS, "the chapters' launch-locally note"


def test_every_shell_code_block_directive_is_marked_not_runnable():
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        if "_build" not in path.parts:
            assert unmarked_directive_blocks(path.read_text(encoding="utf-8")) == [], path


@pytest.mark.usefixtures("built_html")
def test_every_example_command_of_the_sources_is_on_the_built_pages_too():
    from_sources = collect_commands(source_blocks())
    missing = [text for text, c in from_sources.items() if c.is_example and text not in COMMANDS]
    assert missing == []


@pytest.mark.parametrize("command", list(COMMANDS.values()), ids=list(COMMANDS))
@pytest.mark.usefixtures("built_html")
def test_shown_command_is_checked(command, tmp_path):
    check(command, tmp_path)
