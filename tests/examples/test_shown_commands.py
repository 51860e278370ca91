"""Every example command the book shows a reader runs, on small settings.

The commands come from README.md, the pages' sources and the ``Examples:``
section of each script's docstring (see ``tests/shell_blocks.py``). Each runs
from a scratch directory, as shown, with the arguments in ``SMALL_SETTINGS``
lowered and ``--quick`` added to the benchmark. A command that names a file
that is not there yet (the weights that the line above it trains) first runs
the earlier example commands of its block, in the same directory, as a reader
pasting the block would. What those earlier commands leave is made once per
test run and copied for each command that needs it (``setup_folder``): the
xdist workers share it through a file lock, so load balancing is kept, and a
shown command that ran after all the commands before it leaves its folder
there for the commands after it.

The first command shown for each script starts a new ``python``, as a
reader's does. The others, and the earlier commands a command needs, run
forked from a process that has imported the frameworks
(``tests/zygote.py``), as the other example tests do; a forked command that
fails runs again in a new ``python``, which decides. So every script is run
in a new process of its own at least once, and no command fails only
because it was forked.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
from contextlib import nullcontext
from pathlib import Path

import pytest
from example_scripts import run_example
from filelock import FileLock
from shell_blocks import Command, shown_example_commands

#: Arguments lowered when an example's documented invocation is run.
SMALL_SETTINGS = {"--epochs": "1", "--repeats": "2", "--warmup": "1", "--steps": "2"}
#: Options added to a script's shown command so that it runs on tiny settings.
TINY_OPTIONS = {
    "benchmark.py": ["--quick"],
    "train_cnn.py": ["--epochs", "1"],
    "export_model.py": ["--epochs", "1", "--repeats", "2"],
}
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


#: Options with which a script makes its own input file (the files it names are outputs).
MAKES_ITS_INPUT = {"--make-demo"}


def names_missing_file(argv: list[str], cwd: Path) -> bool:
    """Whether an argument names a file (it has a suffix) that ``cwd`` does not hold."""
    if MAKES_ITS_INPUT & set(argv):
        return False
    files = [word for word in argv[2:] if not word.startswith("-") and Path(word).suffix]
    return any(not (cwd / word).exists() for word in files)


def setup_folder(setup: tuple[str, ...], shared: Path, where: str) -> Path:
    """The folder that the commands ``setup`` leave, run in order from an empty one.

    Made once per test run, in ``shared`` (one for every xdist worker): the
    first worker to need it makes it under a lock, each prefix from the one
    before, and the others wait and reuse it. Callers copy it, never write to it.
    """
    if not setup:
        folder = shared / "empty"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    folder = folder_after(setup, shared)
    with lock_of(folder):
        if not folder.is_dir():
            building = shared / f"building-{folder.name}"
            shutil.rmtree(building, ignore_errors=True)
            shutil.copytree(setup_folder(setup[:-1], shared, where), building)
            done = run_example(*lowered(shlex.split(setup[-1])), cwd=building)
            assert done.returncode == 0, (
                f"{setup[-1]!r}, which the next command of {where} follows, failed:\n"
                f"{(done.stdout + done.stderr)[-3000:]}"
            )
            building.rename(folder)
    return folder


def folder_after(commands: tuple[str, ...], shared: Path) -> Path:
    """Where :func:`setup_folder` keeps what ``commands`` leave."""
    key = hashlib.sha256("\n".join(commands).encode()).hexdigest()[:12]
    return shared / f"after-{key}"


def lock_of(folder: Path) -> FileLock:
    return FileLock(f"{folder}.lock")


def publish(workdir: Path, folder: Path) -> None:
    """Leave a copy of ``workdir`` as ``folder``, unless a worker already made it (lock held)."""
    if not folder.is_dir():
        building = folder.with_name(f"building-{folder.name}")
        shutil.copytree(workdir, building)
        building.rename(folder)


@pytest.fixture(scope="session")
def shared_setups(tmp_path_factory) -> Path:
    """One folder for every xdist worker of this run, and for this run only.

    Under xdist each worker's base temp sits in the run's own folder; without
    it, the parent of the base temp holds earlier runs too, so the base temp
    itself is used (a folder left by an earlier run must never be reused).
    """
    base = tmp_path_factory.getbasetemp()
    under_xdist = "PYTEST_XDIST_WORKER" in os.environ
    return (base.parent if under_xdist else base) / "shown-command-setups"


def check_weights_match(output: str) -> None:
    """train_distributed.py: two processes ended with the one-process weights."""
    last = output.strip().splitlines()[-1]
    match = re.fullmatch(r"max \|Δw\| = (\S+)", last)
    assert match, last
    assert float(match.group(1)) < 1e-6
    assert "2 processes:" in output


#: What a script's shown command must print, beyond exiting with 0.
OUTPUT_CHECKS = {"train_distributed.py": check_weights_match}


def test_the_book_shows_example_commands():
    assert any("train_cnn.py" in text for text in COMMANDS)
    assert any("benchmark.py" in text for text in COMMANDS)


@pytest.mark.parametrize("command", list(COMMANDS.values()), ids=list(COMMANDS))
def test_shown_example_command_runs(command: Command, tmp_path, shared_setups):
    needed = tuple(command.setup) if names_missing_file(command.argv, tmp_path) else ()
    # what the folder holds before the command runs
    setup = setup_folder(needed, shared_setups, command.where[0])
    fresh = command.text in FIRST_PER_SCRIPT
    # Run after all the commands before it, this command leaves what later ones need.
    after_all = needed == tuple(command.setup)
    after = folder_after((*command.setup, command.text), shared_setups)
    with lock_of(after) if after_all else nullcontext():
        workdir = tmp_path / "run"
        shutil.copytree(setup, workdir)
        result = run_example(*lowered(command.argv), cwd=workdir, fresh=fresh)
        if result.returncode != 0 and not fresh:  # again from the same files, in a new process
            workdir = tmp_path / "run-in-a-new-process"
            shutil.copytree(setup, workdir)
            result = run_example(*lowered(command.argv), cwd=workdir, fresh=True)
        if result.returncode == 0 and after_all:
            publish(workdir, after)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{command.text!r} failed ({command.where}):\n{output[-3000:]}"
    check = OUTPUT_CHECKS.get(Path(command.argv[1]).name)
    if check:
        check(result.stdout)
