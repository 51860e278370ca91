"""Things about the two frameworks' packages that the build can measure for itself.

The community chapter cites dated public figures for adoption; these
functions add what needs no citation because it is measured on the machine
that builds the book: how much disk an installed framework takes (alone and
with everything it pulls in), how long ``import`` takes in a fresh
interpreter, and how many public names a module offers.

>>> footprint = install_footprint("numpy")
>>> footprint.name, footprint.own_bytes > 0, footprint.closure_bytes >= footprint.own_bytes
('numpy', True, True)
>>> public_names("json") >= {"dumps", "loads"}
True
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from companion.processes import check_run, last_line, run_python
from companion.timing import TimingResult, summarize
from companion.validation import check_instance, check_int, check_text


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _distribution(name: str) -> metadata.Distribution:
    check_text("name", name)
    try:
        return metadata.distribution(name)
    except metadata.PackageNotFoundError:
        raise ValueError(f"distribution {name!r} is not installed") from None


def distribution_bytes(name: str) -> int:
    """Bytes on disk of the files an installed distribution's RECORD lists.

    >>> distribution_bytes("numpy") > 1_000_000
    True
    """
    total = 0
    for file in _distribution(name).files or []:
        path = Path(file.locate())
        if path.is_file():
            total += path.stat().st_size
    return total


def requirements_closure(name: str) -> list[str]:
    """``name`` and every installed distribution it requires, transitively (extras left out).

    Requirements whose environment marker does not apply here, or that are
    not installed, are skipped. Names are returned in canonical form, sorted.

    >>> "numpy" in requirements_closure("scikit-learn")
    True
    """
    from packaging.requirements import Requirement

    seen: set[str] = set()
    pending = [_canonical(_distribution(name).metadata["Name"])]
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        try:
            dist = metadata.distribution(current)
        except metadata.PackageNotFoundError:
            continue
        seen.add(current)
        for line in dist.requires or []:
            requirement = Requirement(line)
            if (
                requirement.marker is not None
                and not requirement.marker.evaluate({"extra": ""})
            ):
                continue
            pending.append(_canonical(requirement.name))
    return sorted(seen)


@dataclass(frozen=True)
class Footprint:
    """Disk used by one distribution, and by it together with its requirements."""

    name: str
    version: str
    own_bytes: int
    closure: tuple[str, ...]
    closure_bytes: int

    @property
    def own_mb(self) -> float:
        return self.own_bytes / 1e6

    @property
    def closure_mb(self) -> float:
        return self.closure_bytes / 1e6


def install_footprint(name: str) -> Footprint:
    """:func:`distribution_bytes` of ``name`` alone and of its :func:`requirements_closure`."""
    dist = _distribution(name)
    closure = tuple(requirements_closure(name))
    return Footprint(
        name=name,
        version=dist.version,
        own_bytes=distribution_bytes(name),
        closure=closure,
        closure_bytes=sum(distribution_bytes(n) for n in closure),
    )


_IMPORT_TIMER = (
    "import time\n"
    "start = time.perf_counter()\n"
    "import {module}\n"
    "print(time.perf_counter() - start)\n"
)


def import_seconds(
    module: str, *, repeats: int = 5, timeout: float = 120.0
) -> TimingResult:
    """Time ``import module`` in ``repeats`` fresh interpreters; median and spread.

    Each run is a new ``python`` process, so nothing is already imported;
    interpreter start-up is not counted. The operating system's file cache
    is warm after the first run, as it is for a user who imports the
    framework every day.

    >>> result = import_seconds("json", repeats=2)
    >>> result.repeats, 0 < result.median_s < 5
    (2, True)
    """
    check_instance("module", module, str, what="a string")
    if not re.fullmatch(r"[A-Za-z_][\w.]*", module):
        raise ValueError(
            f"module must be a dotted module name, got {module!r}"
        )
    check_int("repeats", repeats, minimum=1)
    samples = []
    for _ in range(repeats):
        done = run_python(
            ["-c", _IMPORT_TIMER.format(module=module)], timeout=timeout
        )
        check_run(done, f"import {module} in a fresh interpreter")
        samples.append(float(last_line(done.stdout)))
    return summarize(samples)


def public_names(module_name: str) -> set[str]:
    """Names a module offers at its top level that do not start with an underscore.

    >>> "sqrt" in public_names("math")
    True
    """
    check_text("module_name", module_name)
    module = importlib.import_module(module_name)
    return {name for name in dir(module) if not name.startswith("_")}


def layer_classes(module_name: str, base: type) -> list[str]:
    """Public classes in a module that subclass ``base`` (e.g. layers in ``torch.nn``).

    >>> import numbers
    >>> layer_classes("numbers", numbers.Number)
    ['Complex', 'Integral', 'Number', 'Rational', 'Real']
    """
    check_instance("base", base, type, what="a class")
    module = importlib.import_module(module_name)
    found = []
    for name in sorted(public_names(module_name)):
        value = getattr(module, name, None)
        if isinstance(value, type) and issubclass(value, base):
            found.append(name)
    return found
