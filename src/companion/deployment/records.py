"""Routes out of Python, and what happened when one exported a model.

A *route* is one way of getting a trained model out of Python: a function
that writes an artifact (a file or a directory) and a runtime that loads
it. :func:`attempt_export` runs an exporter, keeps the warnings it raised
and whatever it printed, and records a failure with its real error instead
of raising, so one broken route does not hide the others.

>>> import numpy as np
>>> route = Route(name="demo", framework="pytorch", exporter="numpy.save",
...               runner_format="onnx", artifact="a.npy", runtime="numpy")
>>> import tempfile
>>> with tempfile.TemporaryDirectory() as tmp:
...     record = attempt_export(route, lambda p: np.save(p, [1.0]), Path(tmp) / "a.npy")
>>> record.worked, record.error
(True, None)
>>> attempt_export(route, lambda p: 1 / 0, Path("unused")).error
'ZeroDivisionError: division by zero'
"""

from __future__ import annotations

import contextlib
import io
import logging
import time
import tomllib
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

from companion.cli import error_line
from companion.frameworks import FRAMEWORKS
from companion.validation import (
    check_callable,
    check_choice,
    check_directory,
    check_instance,
)

#: Loggers of exporters that write progress to standard error while they work.
NOISY_LOGGERS = (
    "torch",
    "torch.onnx",
    "torch._dynamo",
    "torch._inductor",
    "tensorflow",
    "tf2onnx",
    "absl",
)


@dataclass(frozen=True, kw_only=True)
class Route:
    """One way out of Python: who exports, what is written, what loads it.

    Built with keyword arguments only, so a table of routes reads as one.
    """

    name: str
    framework: str
    exporter: str
    runner_format: str
    artifact: str
    runtime: str
    #: Lossy by design (quantization): judged by test accuracy, not elementwise.
    lossy: bool = False

    def __post_init__(self):
        check_choice("framework", self.framework, FRAMEWORKS)


def routes_by_name(*routes: Route) -> dict[str, Route]:
    """A framework's table of routes, keyed by name, in the order given.

    >>> table = routes_by_name(Route(name="a", framework="pytorch", exporter="e",
    ...     runner_format="f", artifact="x", runtime="r"))
    >>> list(table)
    ['a']
    """
    table = {route.name: route for route in routes}
    if len(table) != len(routes):
        raise ValueError(
            f"route names must be unique, got {[r.name for r in routes]}"
        )
    return table


#: The table of every route: data, read by :func:`load_routes`.
ROUTES_FILE = "routes.toml"


def load_routes(framework: str) -> dict[str, Route]:
    """``framework``'s routes from ``routes.toml``, keyed by name, in the file's order.

    >>> list(load_routes("tensorflow"))[:2]
    ['saved-model', 'tflite']
    >>> load_routes("jax")
    Traceback (most recent call last):
        ...
    ValueError: framework must be one of ('pytorch', 'tensorflow'), got 'jax'
    """
    check_choice("framework", framework, FRAMEWORKS)
    table = tomllib.loads(
        resources.files(__package__)
        .joinpath(ROUTES_FILE)
        .read_text(encoding="utf-8")
    )
    return routes_by_name(
        *(
            Route(**row)
            for row in table["route"]
            if row["framework"] == framework
        )
    )


@dataclass
class ExportRecord:
    """What happened when one route exported a model."""

    route: Route
    path: Path | None
    seconds: float
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    log: str = ""

    @property
    def worked(self) -> bool:
        return self.error is None

    def with_cause(self, cause: str | None) -> ExportRecord:
        """This record with ``cause`` (say, why a package is missing) after its error.

        A record that worked, or no cause, gives the record back unchanged.

        >>> route = Route(name="x", framework="pytorch", exporter="x", runner_format="onnx",
        ...               artifact="x.onnx", runtime="x")
        >>> record = ExportRecord(route, None, 0.0, error="ModuleNotFoundError: no x")
        >>> record.with_cause("pip cannot install x here").error
        'ModuleNotFoundError: no x; pip cannot install x here'
        """
        if self.worked or not cause:
            return self
        return replace(self, error=f"{self.error}; {cause}")


@contextlib.contextmanager
def quiet_exporters(buffer: io.StringIO):
    """Send prints and the exporters' log records into ``buffer`` for the duration."""
    handler = logging.StreamHandler(buffer)
    saved = []
    for name in NOISY_LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.handlers[:], logger.propagate))
        logger.handlers = [handler]
        logger.propagate = False
    try:
        with (
            contextlib.redirect_stdout(buffer),
            contextlib.redirect_stderr(buffer),
        ):
            yield
    finally:
        for logger, handlers, propagate in saved:
            logger.handlers = handlers
            logger.propagate = propagate


def attempt_export(
    route: Route, export: Callable[[Path], object], path: Path
) -> ExportRecord:
    """Call ``export(path)``; return what happened, with its warnings, output and any error.

    Warnings are collected (each message once) rather than shown, and
    anything the exporter prints goes to ``record.log``. An exception becomes
    ``record.error`` (type and first line) instead of propagating: the caller
    reports failed routes next to working ones.
    """
    check_instance("route", route, Route)
    check_callable("export", export)
    path = Path(path)
    buffer = io.StringIO()
    start = time.perf_counter()
    error = None
    with (
        warnings.catch_warnings(record=True) as caught,
        quiet_exporters(buffer),
    ):
        warnings.simplefilter("always")
        try:
            export(path)
        except (
            Exception
        ) as exc:  # a failing route is a result, reported with its error
            error = error_line(exc)
    seconds = time.perf_counter() - start
    messages = list(
        dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught)
    )
    if error is None and not path.exists():
        error = f"the exporter returned without writing {path.name}"
    return ExportRecord(
        route=route,
        path=path if error is None else None,
        seconds=seconds,
        error=error,
        warnings=messages,
        log=buffer.getvalue(),
    )


def export_into(
    route: Route, write: Callable[[Path], object], directory
) -> ExportRecord:
    """:func:`attempt_export` of ``write`` to ``route.artifact`` in an existing ``directory``."""
    check_instance("route", route, Route)
    directory = check_directory("directory", directory)
    return attempt_export(route, write, directory / route.artifact)


def artifact_size(path: Path) -> int:
    """Bytes on disk of a file, or of every file under a directory.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (Path(tmp) / "a").write_bytes(b"12345")
    ...     artifact_size(Path(tmp))
    5
    """
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    raise FileNotFoundError(f"no artifact at {path}")
