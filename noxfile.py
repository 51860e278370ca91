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
import shutil
from pathlib import Path

import nox
import nox.command

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
    """Install the project with ``extras`` under the lock, unless already done.

    With ``nox --no-venv`` the session runs in the current environment, which
    must already hold the packages (tests/test_shell_commands.py runs the
    README's ``nox`` commands this way inside the tests environment).
    """
    if session.venv_backend == "none":
        session.log(f"--no-venv: using the current environment as it is (needs .[{extras}])")
        return
    key = hashlib.sha256(
        (ROOT / "pyproject.toml").read_bytes() + LOCK.read_bytes() + extras.encode()
    ).hexdigest()
    stamp = Path(session.virtualenv.location) / ".installed-for"
    if stamp.exists() and stamp.read_text() == key:
        session.log("environment is up to date with pyproject.toml and the lock")
        return
    session.install("-c", str(LOCK), "-e", f".[{extras}]")
    stamp.write_text(key)


# Sphinx's saved environment goes next to the site, not into it (where it
# would be published with the HTML).
DOCTREES = DOCS / "_build" / "doctrees"


def build_book(session: nox.Session, *, fresh: bool = False) -> None:
    args = [*SPHINX_STRICT, "-d", str(DOCTREES), str(DOCS), str(HTML)]
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
        "-d",
        str(DOCTREES),
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


CHROMIUM = os.environ.get("BOOK_CHROMIUM", "/usr/bin/chromium")


def ensure_chromium(session: nox.Session) -> None:
    """The browser tests drive Debian's ``chromium``; install it when it is missing.

    Playwright's own browser download is never used (it cannot be fetched here).
    Set BOOK_CHROMIUM to use another Chromium binary.
    """
    if Path(CHROMIUM).is_file():
        return
    why = f"the browser tests need Chromium at {CHROMIUM}"
    if "BOOK_CHROMIUM" in os.environ:
        session.error(f"{why}, which BOOK_CHROMIUM names, but there is no such file")
    if shutil.which("apt-get") is None:
        session.error(f"{why}; without apt-get, install a Chromium and set BOOK_CHROMIUM to it")
    if os.geteuid() == 0:
        sudo = []
    elif shutil.which("sudo"):
        sudo = ["sudo", "-n"]
    else:
        session.error(f"{why}; run `apt-get install -y chromium` as root, then try again")
    session.log(f"{why}: installing Debian's chromium package")
    apt = {"DEBIAN_FRONTEND": "noninteractive"}
    try:
        session.run(*sudo, "apt-get", "update", "-q", external=True, env=apt)
        session.run(*sudo, "apt-get", "install", "-y", "-q", "chromium", external=True, env=apt)
    except nox.command.CommandFailed:
        session.error(f"{why}, and `apt-get install -y chromium` failed (see above)")
    if not Path(CHROMIUM).is_file():
        session.error(f"{why}; apt-get installed chromium but {CHROMIUM} is still missing")


@nox.session
def tests(session: nox.Session) -> None:
    """Everything that can break: lint, unit and doctests, the book build, site checks.

    The site checks include snippet, copy-button and shell-command runs, the
    browser tests (screenshots and page sizes land in test-artifacts/) and a
    second clean build of the book compared with the first.
    """
    install(session, "dev")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    if "--collect-only" not in session.posargs:
        ensure_chromium(session)
        shutil.rmtree(ROOT / "test-artifacts", ignore_errors=True)
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
    session.run(*pytest, "-m", "site", "--durations=15", "tests", env=QUIET_FRAMEWORKS)


@nox.session
def examples(session: nox.Session) -> None:
    """Run each example script on small settings, as a reader would."""
    install(session, "deploy")
    for script, args in EXAMPLE_RUNS.items():
        session.run("python", str(ROOT / "examples" / script), *args, env=QUIET_FRAMEWORKS)


#: How ``nox -s examples`` runs each script: small settings that finish quickly.
EXAMPLE_RUNS: dict[str, list[str]] = {
    "gradient_graph.py": ["--x", "3.0", "--out", str(ROOT / "docs" / "_build" / "examples")],
    "train_cnn.py": [
        "--framework",
        "pytorch",
        "--epochs",
        "1",
        "--out",
        str(ROOT / "docs" / "_build" / "examples"),
    ],
    "port_weights.py": [
        str(ROOT / "docs" / "_build" / "examples" / "weights-pytorch.safetensors"),
        str(ROOT / "docs" / "_build" / "examples" / "weights-pytorch-as-keras.safetensors"),
        "--check",
        "--force",
    ],
    "export_model.py": [
        "--framework",
        "pytorch",
        "--format",
        "onnx",
        "--out",
        str(ROOT / "docs" / "_build" / "examples" / "export"),
        "--epochs",
        "1",
    ],
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
