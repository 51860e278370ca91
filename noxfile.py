"""One entry point for building, checking and previewing the book.

    nox -s docs       build the executed book strictly into docs/_build/html
    nox -s tests      lint, unit tests and doctests, fixture-book tests, a fresh
                      strict build of the book, then checks on the built site
    nox -s examples   run every example script on small settings
    nox -s lint       ruff check and format check
    nox -s serve      rebuild on change and serve the book on http://127.0.0.1:8000
    nox -s lock       re-resolve constraints.txt (deliberately, not in CI)

Virtual environments are reused; a session reinstalls only when pyproject.toml
or the lock file changed, so a repeated ``nox -s docs`` takes seconds.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import nox

ROOT = Path(__file__).parent
DOCS = ROOT / "docs"
HTML = DOCS / "_build" / "html"
LOCK = ROOT / "constraints.txt"

nox.options.default_venv_backend = "venv"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["lint", "tests"]

# Strict: warnings are errors, keep going to report them all, nitpicky references.
SPHINX_STRICT = ["-W", "--keep-going", "-n", "-T", "-b", "html"]
QUIET_FRAMEWORKS = {"TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONHASHSEED": "0"}


def install(session: nox.Session, extras: str) -> None:
    """Install the project with ``extras`` under the lock, unless already done."""
    key = hashlib.sha256(
        (ROOT / "pyproject.toml").read_bytes() + LOCK.read_bytes() + extras.encode()
    ).hexdigest()
    stamp = Path(session.virtualenv.location) / ".installed-for"
    if stamp.exists() and stamp.read_text() == key:
        session.log("environment is up to date with pyproject.toml and the lock")
        return
    session.install("-c", str(LOCK), "-e", f".[{extras}]")
    stamp.write_text(key)


def build_book(session: nox.Session, *, fresh: bool = False) -> None:
    args = [*SPHINX_STRICT, str(DOCS), str(HTML)]
    if fresh:
        # Re-read every page (outputs still come from the execution cache), so
        # a warning in a page that did not change cannot hide behind the
        # saved environment.
        args.insert(0, "-E")
    session.run("sphinx-build", *args, env=QUIET_FRAMEWORKS)


@nox.session
def docs(session: nox.Session) -> None:
    """Build the executed book into docs/_build/html (warnings are errors)."""
    install(session, "docs,deploy")
    build_book(session, fresh="--fresh" in session.posargs)
    session.log(f"open {HTML / 'index.html'}")


@nox.session
def serve(session: nox.Session) -> None:
    """Rebuild on every change to docs/ or src/ and serve on http://127.0.0.1:8000."""
    install(session, "dev")
    session.run(
        "sphinx-autobuild",
        *SPHINX_STRICT,
        "--watch",
        str(ROOT / "src"),
        "--ignore",
        str(DOCS / "_build"),
        "--port",
        "8000",
        str(DOCS),
        str(HTML),
        env=QUIET_FRAMEWORKS,
    )


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting."""
    install(session, "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def tests(session: nox.Session) -> None:
    """Everything that can break: lint, unit and doctests, the book build, site checks."""
    install(session, "dev")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    pytest = ["pytest", *session.posargs]
    session.run(
        *pytest,
        "-m",
        "not site",
        "--doctest-modules",
        "src/companion",
        "tests",
        env=QUIET_FRAMEWORKS,
    )
    build_book(session, fresh=True)
    session.run(*pytest, "-m", "site", "tests", env=QUIET_FRAMEWORKS)


@nox.session
def examples(session: nox.Session) -> None:
    """Run each example script on small settings, as a reader would."""
    install(session, "deploy")
    for script, args in EXAMPLE_RUNS.items():
        session.run("python", str(ROOT / "examples" / script), *args, env=QUIET_FRAMEWORKS)


#: How ``nox -s examples`` runs each script: small settings that finish quickly.
EXAMPLE_RUNS: dict[str, list[str]] = {
    "gradient_graph.py": ["--x", "3.0", "--out", str(ROOT / "docs" / "_build" / "examples")],
    "benchmark.py": [
        *("--models", "cnn", "--modes", "torch-eager", "tf-function", "keras-on-batch"),
        *("--repeats", "2", "--number", "1", "--threads", "1", "--device", "cpu"),
        *("--out", str(ROOT / "docs" / "_build" / "examples")),
    ],
}


@nox.session(reuse_venv=False)
def lock(session: nox.Session) -> None:
    """Resolve every extra afresh and write constraints.txt."""
    session.install("-e", ".[dev]")
    frozen = session.run("python", "-m", "pip", "freeze", "--exclude-editable", silent=True)
    lines = []
    for line in sorted(frozen.splitlines(), key=str.lower):
        if not line or line.startswith(("#", "-e")):
            continue
        # "torch==2.13.0+cpu" would not resolve where only the plain release
        # exists; "==2.13.0" still selects the +cpu build where one is offered.
        if line.lower().startswith("torch=="):
            line = line.split("+", 1)[0]
        lines.append(line)
    python = session.run(
        "python", "-c", "import platform; print(platform.python_version())", silent=True
    ).strip()
    header = (
        "# Constraints for every nox session: the exact versions the book was built with.\n"
        "# Regenerate with `nox -s lock`; pyproject.toml holds the direct requirements.\n"
        f"# Resolved on Python {python} ({os.uname().sysname} {os.uname().machine}).\n"
    )
    LOCK.write_text(header + "\n".join(lines) + "\n")
    session.log(f"wrote {LOCK} ({len(lines)} packages)")
