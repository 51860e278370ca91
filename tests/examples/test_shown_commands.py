"""Every example command the book shows a reader runs, on small settings.

The commands come from README.md, the pages' sources and the ``Examples:``
section of each script's docstring (see ``tests/shell_blocks.py``). Each runs
from a scratch directory, as shown, with the arguments in ``SMALL_SETTINGS``
lowered and ``--quick`` added to the benchmark. A command that names a file
that is not there yet (the weights that the line above it trains) first runs
the earlier example commands of its block, in the same directory, as a reader
pasting the block would.

The first command shown for each script starts a new ``python``, as a
reader's does. The others, and the earlier commands a command needs, run
forked from a process that has imported the frameworks
(``tests/zygote.py``), as the other example tests do; a forked command that
fails runs again in a new ``python``, which decides. So every script is run
in a new process of its own at least once, and no command fails only
because it was forked.
"""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

import pytest
from example_scripts import run_example
from shell_blocks import Command, shown_example_commands

#: Arguments lowered when an example's documented invocation is run.
SMALL_SETTINGS = {"--epochs": "1", "--repeats": "2", "--warmup": "1", "--steps": "2"}
#: Options added to a script's shown command so that it runs on tiny settings.
TINY_OPTIONS = {"benchmark.py": ["--quick"], "train_cnn.py": ["--epochs", "1"]}
COMMANDS = shown_example_commands()
#: The first command shown for each script: it runs in a new process.
FIRST_PER_SCRIPT = {
    next(t for t, c in COMMANDS.items() if Path(c.argv[1]).name == script)
    for script in {Path(c.argv[1]).name for c in COMMANDS.values()}
}


def lowered(argv: list[str]) -> list[str]:
    """``[script, *arguments]`` of ``python examples/<script> ...``, on small settings."""
    script, args = Path(argv[1]).name, list(argv[2:])
    for index, word in enumerate(args[:-1]):
        if word in SMALL_SETTINGS:
            args[index + 1] = SMALL_SETTINGS[word]
    return [script, *args, *TINY_OPTIONS.get(script, [])]


def names_missing_file(argv: list[str], cwd: Path) -> bool:
    """Whether an argument names a file (it has a suffix) that ``cwd`` does not hold."""
    files = [word for word in argv[2:] if not word.startswith("-") and Path(word).suffix]
    return any(not (cwd / word).exists() for word in files)


def test_the_book_shows_example_commands():
    assert any("train_cnn.py" in text for text in COMMANDS)
    assert any("benchmark.py" in text for text in COMMANDS)


@pytest.mark.parametrize("command", list(COMMANDS.values()), ids=list(COMMANDS))
def test_shown_example_command_runs(command: Command, tmp_path):
    setup = tmp_path / "setup"  # what the folder holds before the command runs
    setup.mkdir()
    for earlier in command.setup if names_missing_file(command.argv, setup) else []:
        done = run_example(*lowered(shlex.split(earlier)), cwd=setup)
        assert done.returncode == 0, (
            f"{earlier!r}, which {command.text!r} follows in {command.where[0]}, failed:\n"
            f"{(done.stdout + done.stderr)[-3000:]}"
        )
    fresh = command.text in FIRST_PER_SCRIPT
    workdir = tmp_path / "run"
    shutil.copytree(setup, workdir)
    result = run_example(*lowered(command.argv), cwd=workdir, fresh=fresh)
    if result.returncode != 0 and not fresh:  # again from the same files, in a new process
        workdir = tmp_path / "run-in-a-new-process"
        shutil.copytree(setup, workdir)
        result = run_example(*lowered(command.argv), cwd=workdir, fresh=True)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{command.text!r} failed ({command.where}):\n{output[-3000:]}"
