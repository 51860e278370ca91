"""Would a package install beside the pinned ones? Ask pip's resolver, change nothing.

Some routes need a package the book does not install. Whether it *can* be
installed next to the pinned frameworks is a fact worth showing, and pip's
resolver is the authority on it. :func:`check_install` runs
``pip install --dry-run`` in a fresh process, with every distribution of this
environment held at its installed version (a constraints file written from
:mod:`importlib.metadata`), and keeps what pip says about a conflict. Nothing
is installed; pip does ask the package index, so this needs the network.

>>> lines = [
...     "Collecting tensorflowjs==4.22.0",
...     "ERROR: Cannot install tensorflowjs==4.22.0 because these package versions "
...     "have conflicting dependencies.",
...     "",
...     "The conflict is caused by:",
...     "    tensorflowjs 4.22.0 depends on packaging~=23.1",
...     "    The user requested (constraint) packaging==26.3",
...     "",
...     "To fix this you could try to:",
... ]
>>> for line in conflict_lines(lines):
...     print(line)
ERROR: Cannot install tensorflowjs==4.22.0 because these package versions have conflicting \
dependencies.
The conflict is caused by:
    tensorflowjs 4.22.0 depends on packaging~=23.1
    The user requested (constraint) packaging==26.3
"""

from __future__ import annotations

import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib.metadata import distributions
from pathlib import Path

from companion.processes import ProcessError, last_line, run_python
from companion.validation import check_text

#: pip's first line about an unsatisfiable request, and the header of its explanation.
_CANNOT = "ERROR: Cannot install"
_CAUSED = "The conflict is caused by:"


@dataclass(frozen=True)
class InstallCheck:
    """What pip's resolver said about installing ``requirements`` into this environment."""

    requirements: tuple[str, ...]
    installs: bool
    #: pip's explanation of the conflict (empty when it installs).
    conflict: tuple[str, ...]
    seconds: float

    @property
    def error(self) -> str | None:
        """The first line of pip's refusal, without its ``ERROR:`` prefix; None if it installs."""
        if self.installs:
            return None
        first = (
            self.conflict[0]
            if self.conflict
            else "pip could not resolve the request"
        )
        return "pip: " + first.removeprefix("ERROR: ").strip()

    def report(self) -> str:
        """The request and pip's answer, as the chapter prints them."""
        head = f"pip install --dry-run {' '.join(self.requirements)}  (installed versions pinned)"
        if self.installs:
            return f"{head}\nresolves: it would install beside the pinned packages"
        return "\n".join([head, *self.conflict])


def installed_constraints() -> str:
    """``name==version`` for every distribution installed here, but the book's own package."""
    pinned = {}
    for dist in distributions():
        name = dist.metadata["Name"]
        if name and name.lower() != "companion":
            pinned[name.lower()] = f"{name}=={dist.version}"
    return "\n".join(sorted(pinned.values())) + "\n"


def conflict_lines(output_lines) -> tuple[str, ...]:
    """pip's refusal line and the lines that say which requirements collide.

    pip writes the refusal to standard error and the explanation to standard
    output, so the two are looked for apart, wherever they stand.
    """
    lines = list(output_lines)
    refusal = [line for line in lines if line.startswith(_CANNOT)]
    if not refusal:
        return tuple(line for line in lines if line.startswith("ERROR:"))[:1]
    kept = [refusal[0]]
    if _CAUSED in lines:
        kept.append(_CAUSED)
        for line in lines[lines.index(_CAUSED) + 1 :]:
            if not line.startswith("    "):
                break
            kept.append(line)
    return tuple(kept)


def check_install(requirements, *, timeout: float = 300) -> InstallCheck:
    """Ask pip whether ``requirements`` (e.g. ``["litert-torch==0.10.0"]``) would install here.

    Every installed distribution is held at its version, so "installs" means
    "installs without changing anything already here". Runs
    ``python -m pip install --dry-run`` in a fresh process; a run that takes
    longer than ``timeout`` seconds raises :class:`companion.processes.ProcessError`.
    """
    if isinstance(requirements, str):
        raise TypeError(
            f"requirements must be a list of strings, e.g. [{requirements!r}]"
        )
    requirements = tuple(check_text("requirement", r) for r in requirements)
    if not requirements:
        raise ValueError("requirements is empty: name at least one package")
    with tempfile.TemporaryDirectory(prefix="install-check-") as scratch:
        constraints = Path(scratch) / "installed.txt"
        constraints.write_text(installed_constraints(), encoding="utf-8")
        command = ["-m", "pip", "install", "--dry-run", "--no-input"]
        command += [
            "--disable-pip-version-check",
            "-c",
            str(constraints),
            *requirements,
        ]
        start = time.perf_counter()
        done = run_python(
            command, timeout=timeout, environment={"PIP_NO_COLOR": "1"}
        )
        seconds = time.perf_counter() - start
    lines = (done.stdout + "\n" + done.stderr).splitlines()
    if done.returncode == 0:
        return InstallCheck(requirements, True, (), seconds)
    conflict = conflict_lines(lines) or (last_line(done.stderr, "pip failed"),)
    return InstallCheck(requirements, False, conflict, seconds)


def check_installs(*requests, timeout: float = 300) -> list[InstallCheck]:
    """:func:`check_install` for each list of requirements, the pip runs side by side.

    pip spends most of its time waiting for the index, so a few checks in
    parallel take about as long as the slowest one.
    """
    if not requests:
        raise ValueError("name at least one list of requirements")
    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        futures = [
            pool.submit(check_install, r, timeout=timeout) for r in requests
        ]
        return [future.result() for future in futures]


__all__ = [
    "InstallCheck",
    "ProcessError",
    "check_install",
    "check_installs",
    "conflict_lines",
    "installed_constraints",
]
