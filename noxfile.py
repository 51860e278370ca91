"""One entry point for building, checking and previewing the book.

    nox -s docs            build the executed book strictly into docs/_build/html
    nox -s docs -- PAGE    the same, executing only PAGE (e.g. chapters/03-graph-capture);
                           other pages come from the execution cache or are left out
    nox -s tests           everything below, in order, on a fresh strict build, and
                           a cost report in test-artifacts/cost.json
    nox -s lint            ruff check and format check
    nox -s unit            unit tests and doctests of companion and docs/_ext (no book)
    nox -s examples        every example script on tiny settings
    nox -s machinery       the build machinery on a small fixture book
    nox -s reproduce       re-run every page's code in fresh kernels and compare with
                           the built pages; render the book again and compare the files
    nox -s reproduce -- PAGE   the same for one page
    nox -s site            checks on the built site: structure, links, shell commands,
                           a real browser
    nox -s serve           rebuild on change and serve the book on http://127.0.0.1:8000
    nox -s lock            re-resolve constraints.txt (deliberately, not in CI)
    nox -s next            build the book in .nox/next against the newest releases (not
                           the pins) and report what changed: docs/_build-next/next-report.md

Every session but ``lock`` and ``next`` runs in one shared environment, ``.nox/book``,
installed from pyproject.toml under the lock and reinstalled only when
either file changes; so a repeated ``nox -s docs`` takes seconds, and the
sessions share one execution cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from contextlib import contextmanager
from pathlib import Path

import nox
import nox.command

ROOT = Path(__file__).parent
DOCS = ROOT / "docs"
BUILD = DOCS / "_build"
HTML = BUILD / "html"
DOCTREES = BUILD / "doctrees"  # next to the site, not in it (it would be published)
LOCK = ROOT / "constraints.txt"
ARTIFACTS = ROOT / "test-artifacts"
BOOK_ENV = ROOT / ".nox" / "book"
BIN = BOOK_ENV / ("Scripts" if os.name == "nt" else "bin")

sys.path.insert(0, str(DOCS / "_ext"))
from book_sphinx.book_common import STRICT_SPHINX_ARGS  # noqa: E402

nox.options.default_venv_backend = "none"
nox.options.sessions = ["tests"]

# The kernels' own environment (log levels and all) is set by docs/conf.py.
# Bytecode is written on first import even where the caller's shell says not
# to (PYTHONDONTWRITEBYTECODE): the environment is installed without it (see
# book_environment), so otherwise every process would compile what it imports.
QUIET = {"PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": ""}


# --- The shared environment ----------------------------------------------------------


def book_environment(session: nox.Session) -> None:
    """Create or update ``.nox/book`` and run the session's commands from it.

    Installed under the lock: the package with its ``docs`` and ``deploy``
    extras, the ``dev`` dependency group (tests and linters, which
    ``pip install --group`` needs pip 25.1 or newer for), and the book's
    Sphinx extensions (``docs/_ext``, the ``book_sphinx`` package). Skipped
    when the two pyproject.toml files and the lock are unchanged since the
    last install.

    pip does not byte-compile what it installs (``--no-compile``): it would
    compile all 24,000 modules, one after another (about 60 of the 125 s of
    an install here), where the book imports about 5,000; the first process
    to import a module writes its bytecode, and the others read it.
    """
    python = BIN / "python"
    if not python.exists():
        session.run(sys.executable, "-m", "venv", str(BOOK_ENV), external=True)
    inputs = (ROOT / "pyproject.toml", DOCS / "_ext" / "pyproject.toml", LOCK)
    key = hashlib.sha256(b"".join(path.read_bytes() for path in inputs)).hexdigest()
    stamp = BOOK_ENV / ".installed-for"
    if stamp.exists() and stamp.read_text() == key:
        session.log("environment .nox/book is up to date with pyproject.toml and the lock")
    else:
        pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check"]
        pip += ["-q", "--no-compile"]
        session.run(*pip, "-c", str(LOCK), "pip", external=True)
        session.run(
            *pip,
            "-c",
            str(LOCK),
            "-e",
            ".[docs,deploy]",
            "--group",
            "dev",
            "-e",
            "docs/_ext",
            external=True,
        )
        stamp.write_text(key)
    session.env["VIRTUAL_ENV"] = str(BOOK_ENV)
    session.env["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"


NODE_MODULES = ROOT / "node_modules"


def npm_packages(session: nox.Session) -> None:
    """``npm ci`` the npm packages of package-lock.json into node_modules/, if stale.

    The deployment chapter runs onnxruntime-web and LiteRT.js in Chromium
    while it executes, the draw-a-digit page ships onnxruntime-web's files,
    and the browser tests inject axe-core.
    """
    key = hashlib.sha256((ROOT / "package-lock.json").read_bytes()).hexdigest()
    stamp = NODE_MODULES / ".installed-for"
    if stamp.exists() and stamp.read_text() == key:
        session.log("node_modules is up to date with package-lock.json")
        return
    if shutil.which("npm") is None:
        session.error("the book's npm packages need Node.js and npm (`npm ci`): install them")
    session.run("npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", external=True)
    stamp.write_text(key)


def run(session: nox.Session, program: str, *args: str, **kwargs) -> None:
    """Run a program of the shared environment."""
    session.run(
        str(BIN / program), *args, external=True, env={**QUIET, **kwargs.pop("env", {})}, **kwargs
    )


# --- Building the book ---------------------------------------------------------------


def page_name(argument: str) -> str:
    """``docs/chapters/03-x.md`` or ``chapters/03-x`` -> ``chapters/03-x``."""
    name = argument.removeprefix("docs/").removesuffix(".md")
    if not (DOCS / f"{name}.md").is_file():
        raise ValueError(
            f"no page {name!r}: expected a path under docs/, e.g. chapters/01-introduction"
        )
    return name


def pages_from(session: nox.Session) -> list[str]:
    try:
        return [page_name(a) for a in session.posargs if not a.startswith("-")]
    except ValueError as error:
        session.error(str(error))


def build_book(session: nox.Session, *, fresh: bool = False, only: list[str] = ()) -> None:
    args = [*STRICT_SPHINX_ARGS, "-b", "html", "-j", "auto", "-d", str(DOCTREES)]
    if fresh:
        # Re-read every page (outputs still come from the execution cache), so
        # a warning in a page that did not change cannot hide behind the
        # saved environment; and write into an empty folder, so that no file
        # of an earlier build survives into the checks.
        args.insert(0, "-E")
        shutil.rmtree(HTML, ignore_errors=True)
    if only:
        args += ["-D", f"execution_only={','.join(only)}"]
    run(session, "sphinx-build", *args, str(DOCS), str(HTML))


def build_tools(session: nox.Session) -> None:
    """What building the book needs besides Python: the npm runtimes and Chromium."""
    npm_packages(session)
    ensure_chromium(session)


@nox.session
def docs(session: nox.Session) -> None:
    """Build the executed book into docs/_build/html (warnings are errors)."""
    book_environment(session)
    build_tools(session)
    build_book(session, fresh="--fresh" in session.posargs, only=pages_from(session))
    session.log(f"open {HTML / 'index.html'}")


@nox.session
def serve(session: nox.Session) -> None:
    """Rebuild on every change to docs/ or src/ and serve on http://127.0.0.1:8000."""
    book_environment(session)
    build_tools(session)
    run(
        session,
        "sphinx-autobuild",
        *STRICT_SPHINX_ARGS,
        *("--watch", str(ROOT / "src"), "--ignore", str(BUILD), "--port", "8000"),
        *("-d", str(DOCTREES), str(DOCS), str(HTML)),
    )


# --- Checks ----------------------------------------------------------------------------


def book_session(name: str):
    """Make the decorated check also the session ``name``, which runs it in the shared environment.

    The check's docstring describes the session (``nox -l``). The check itself is
    returned unchanged, for ``tests`` to run it as one of its phases.
    """

    def register(check):
        def session_function(session: nox.Session) -> None:
            book_environment(session)
            check(session)

        session_function.__doc__ = check.__doc__
        nox.session(session_function, name=name)
        return check

    return register


def pytest(session: nox.Session, *args: str, env: dict | None = None, **kwargs) -> None:
    extra = [a for a in session.posargs if a.startswith("-")]
    run(session, "pytest", *args, *extra, env=env or {}, **kwargs)


@book_session("lint")
def lint_all(session: nox.Session) -> None:
    """ruff: lint and formatting."""
    run(session, "ruff", "check", ".")
    run(session, "ruff", "format", "--check", ".")


@book_session("unit")
def unit_tests(session: nox.Session) -> None:
    """Unit tests and doctests of the companion package and the book's extensions."""
    pytest(
        session,
        "-n",
        "auto",
        "--doctest-modules",
        "tests/unit",
        "src/companion",
        "docs/_ext/book_sphinx",
    )


@book_session("examples")
def example_tests(session: nox.Session) -> None:
    """Run each example script on tiny settings, as a reader would, and check its output."""
    pytest(session, "-n", "auto", "--durations=5", "tests/examples")


@book_session("machinery")
def machinery_tests(session: nox.Session) -> None:
    """The build machinery (tabs, cache, claims, scheduling) on a small fixture book."""
    # Each test builds its own copy of the fixture book: they run side by side.
    pytest(session, "-n", "auto", "--durations=5", "tests/machinery")


def reproduce_tests(session: nox.Session, pages: list[str] = ()) -> None:
    """Re-run ``pages`` (every page if none) in fresh kernels; render again and compare."""
    pytest(session, "tests/reproduce", env={"BOOK_PAGES": ",".join(pages)})


@book_session("reproduce")
def reproduce_given_pages(session: nox.Session) -> None:
    """Re-run the built pages' code in fresh kernels; render again and compare (needs a build)."""
    reproduce_tests(session, pages_from(session))


FIRST_PAINT = "tests/site/test_first_paint.py"


BROWSER_CHECKS = ("-n", "2", "--durations=10", "tests/site", f"--ignore={FIRST_PAINT}")


def first_paint_tests(session: nox.Session) -> None:
    """The first-paint timings, with the machine to themselves."""
    # A selection given after `--` (say `-k axe`) may leave no first-paint test (exit code 5).
    narrowed = any(a.startswith("-") for a in session.posargs)
    pytest(session, FIRST_PAINT, success_codes=[0, 5] if narrowed else [0])


@book_session("site")
def site_tests(session: nox.Session) -> None:
    """Checks on the built site in docs/_build/html, a real browser included (needs a build)."""
    build_tools(session)
    # Two browsers side by side; then the first-paint timings alone.
    pytest(session, *BROWSER_CHECKS)
    first_paint_tests(session)


@contextmanager
def browser_checks_alongside(session: nox.Session, cost: CostReport):
    """Run the site's browser checks (all but first paint) beside the block's work.

    They wait on pages more than they compute (in one run here, 192 s of wall
    time for 108 s of CPU), so they fill the gaps of the reproduction's pool. No
    check among them measures time; first paint, which does, runs after, alone.
    """
    log_path = ARTIFACTS / "site-browser-checks.log"
    ARTIFACTS.mkdir(exist_ok=True)
    extra = [a for a in session.posargs if a.startswith("-")]
    # A base folder of its own: two pytest runs at once must not share one.
    basetemp = BOOK_ENV.parent / "pytest-site"
    command = [str(BIN / "pytest"), *BROWSER_CHECKS, f"--basetemp={basetemp}", *extra]
    session.log(f"beside the next phase: {' '.join(command[1:])} (output: {log_path})")
    started = time.monotonic()
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **QUIET}
        )
        try:
            yield
        finally:
            code = process.wait()
    cost.phases["site (beside reproduce)"] = round(time.monotonic() - started, 1)
    output = log_path.read_text(encoding="utf-8")
    session.log("site browser checks:\n" + output[-6000:])
    if code != 0:
        session.error(f"the site's browser checks failed (exit {code}); see {log_path}")


CHROMIUM = os.environ.get("BOOK_CHROMIUM", "/usr/bin/chromium")


def playwright_chromium() -> Path | None:
    """The folder of a Chromium that ``playwright install chromium`` downloaded, if any."""
    browsers = Path(
        os.environ.get("PLAYWRIGHT_BROWSERS_PATH", Path.home() / ".cache" / "ms-playwright")
    )
    found = sorted(browsers.glob("chromium-*")) if browsers.is_dir() else []
    return found[-1] if found else None


def ensure_chromium(session: nox.Session) -> None:
    """The browser tests drive Debian's ``chromium``; install it when it is missing.

    Playwright's own browser download is never used (it cannot be fetched here).
    Set BOOK_CHROMIUM to use another Chromium binary.
    """
    if Path(CHROMIUM).is_file():
        return
    if "BOOK_CHROMIUM" not in os.environ and playwright_chromium():
        # Hosts without Debian's package and without root (Read the Docs) run
        # `playwright install chromium` first; the book's Playwright finds it.
        session.log(f"using Playwright's own Chromium in {playwright_chromium()}")
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


# --- Everything, with its cost ------------------------------------------------------


class CostReport:
    """Seconds per phase of ``nox -s tests`` and per chapter execution, as JSON and a table."""

    def __init__(self) -> None:
        self.phases: dict[str, float] = {}
        self.started = time.monotonic()

    @contextmanager
    def phase(self, name: str):
        started = time.monotonic()
        try:
            yield
        finally:
            self.phases[name] = round(time.monotonic() - started, 1)

    def chapters(self) -> dict[str, dict]:
        """Per page: seconds of each execution in this run, by phase."""
        sources = {
            "build": BUILD / "execution-runs.json",
            "reproduce": ARTIFACTS / "reproduce-runs.json",
        }
        pages: dict[str, dict] = {}
        for phase, path in sources.items():
            if phase not in self.phases or not path.is_file():
                continue
            for page, run in json.loads(path.read_text(encoding="utf-8")).items():
                record = pages.setdefault(page, {"executions": 0, "seconds": {}})
                record["executions"] += 1
                record["seconds"][phase] = run["seconds"]
        return dict(sorted(pages.items()))

    def write(self, session: nox.Session) -> None:
        total = round(time.monotonic() - self.started, 1)
        report = {"total_seconds": total, "phases": self.phases, "chapters": self.chapters()}
        snippets = ARTIFACTS / "snippets.json"  # written by tests/reproduce
        if "reproduce" in self.phases and snippets.is_file():
            report["snippets"] = json.loads(snippets.read_text(encoding="utf-8"))["summary"]
        slowest = ARTIFACTS / "reproduce-slowest.json"  # written by tests/reproduce
        if "reproduce" in self.phases and slowest.is_file():
            report["slowest_reproduce_runs"] = json.loads(slowest.read_text(encoding="utf-8"))
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "cost.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
        lines = [f"{'phase':<14}{'seconds':>9}"]
        lines += [f"{name:<14}{seconds:9.1f}" for name, seconds in self.phases.items()]
        lines += [f"{'total':<14}{total:9.1f}", "", f"{'page':<36}{'runs':>5}  seconds by phase"]
        for page, record in report["chapters"].items():
            by_phase = ", ".join(f"{p} {s:.1f}" for p, s in record["seconds"].items())
            lines.append(f"{page:<36}{record['executions']:>5}  {by_phase}")
        if report.get("slowest_reproduce_runs"):
            lines += ["", "slowest runs of the reproduction:"]
            lines += [
                f"{run['seconds']:7.1f} s  {run['page']}: {run['kind']}, {run['what']}"
                for run in report["slowest_reproduce_runs"]
            ]
        if "snippets" in report:
            lines += ["", "snippets: " + json.dumps(report["snippets"])]
        session.log("cost of this run (test-artifacts/cost.json):\n" + "\n".join(lines))


@nox.session
def tests(session: nox.Session) -> None:
    """Everything that can break, on a fresh strict build, with a cost report.

    Lint, unit tests and doctests, the examples, the fixture-book machinery,
    a strict build of the whole book (executing what the cache lacks), the
    reproduction of every page in fresh kernels and a second rendering, with
    the browser checks on the built site beside it, and then the first-paint
    timings alone. Each chapter executes at most twice: once
    in the build (none if cached) and once in the reproduction.
    """
    cost = CostReport()
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    try:
        with cost.phase("environment"):
            book_environment(session)
            build_tools(session)
        with cost.phase("lint"):
            lint_all(session)
        with cost.phase("unit"):
            unit_tests(session)
        with cost.phase("examples"):
            example_tests(session)
        with cost.phase("machinery"):
            machinery_tests(session)
        with cost.phase("build"):
            build_book(session, fresh=True)
        # The browser checks wait more than they compute: they run beside the reproduction.
        with browser_checks_alongside(session, cost), cost.phase("reproduce"):
            reproduce_tests(session)
        with cost.phase("site first paint"):
            first_paint_tests(session)
    finally:
        cost.write(session)


@nox.session(venv_backend="venv", reuse_venv=False)
def lock(session: nox.Session) -> None:
    """Resolve every extra afresh and write constraints.txt."""
    session.install("pip>=25.1")
    session.install("-e", ".[docs,deploy]", "--group", "dev")
    frozen = session.run(
        "python", "-m", "pip", "freeze", "--all", "--exclude-editable", silent=True
    )
    lines = []
    for line in sorted(frozen.splitlines(), key=str.lower):
        if not line or line.startswith(("#", "-e", "setuptools==", "wheel==")):
            continue
        # "torch==2.13.0+cpu" would not resolve where only the plain release
        # exists; "==2.13.0" still selects the +cpu build where one is offered.
        lines.append(line.split("+", 1)[0] if line.lower().startswith("torch==") else line)
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


# --- The book against the newest releases --------------------------------------------

NEXT_ENV = ROOT / ".nox" / "next"
NEXT_BIN = NEXT_ENV / ("Scripts" if os.name == "nt" else "bin")
NEXT_BUILD = DOCS / "_build-next"
NEXT_WHEELS = ROOT / ".nox" / "next-wheels"


def next_requirements() -> list[str]:
    """The book's requirements with every version limit lifted but the docs toolchain's.

    The package's own dependencies and its ``deploy`` extra (the frameworks
    and runtimes the chapters measure) lose their version specifiers; the
    ``docs`` extra and the ``dev`` group keep theirs (what builds the site is
    not under test). Environment markers stay.
    """
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    extras = project["project"]["optional-dependencies"]
    lifted = [*project["project"]["dependencies"], *extras["deploy"]]
    kept = list(extras["docs"])
    groups = project["dependency-groups"]

    def expand(group: str) -> list[str]:
        found = []
        for item in groups[group]:
            found += expand(item["include-group"]) if isinstance(item, dict) else [item]
        return found

    kept += expand("dev")
    unpinned = []
    for requirement in lifted:
        name, _, marker = requirement.partition(";")
        bare = re.split(r"[<>=!~ ]", name.strip(), maxsplit=1)[0]
        unpinned.append(f"{bare}; {marker.strip()}" if marker else bare)
    return sorted(set(unpinned + kept))


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


@nox.session(name="next", venv_backend="none")
def next_releases(session: nox.Session) -> None:
    """Build the book against the newest releases in .nox/next; report what changed.

    Nothing of the pinned build is touched: the environment is .nox/next, the
    build (site, execution cache, kernel profile, compiler cache) goes to
    docs/_build-next. The report, docs/_build-next/next-report.md, compares
    every output with the pinned build in docs/_build/html, or, for a page
    whose code differs there, with the first folder given as
    ``-- --reference DIR`` that holds the same code; timing cells aside.

    torch from PyPI is a CUDA build of several GB that also runs on the CPU.
    Machines of this project's kind cap pip at an older torch through a
    site-wide constraints file; this session replaces it with an empty one
    (PIP_CONSTRAINT), which changes nothing where there is no such cap.
    """
    references = [HTML]
    for index, argument in enumerate(session.posargs):
        if argument == "--reference":
            references.append(Path(session.posargs[index + 1]).resolve())
    pip_env = {"PIP_CONSTRAINT": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    python = str(NEXT_BIN / "python")
    if not Path(python).exists():
        session.run(sys.executable, "-m", "venv", str(NEXT_ENV), external=True)

    def pip(*args: str, **kwargs):
        return session.run(python, "-m", "pip", *args, external=True, env=pip_env, **kwargs)

    pip("install", "-q", "--upgrade", "pip")
    requirements = next_requirements()
    # Download first, then install from the folder: the download's size and time are the cost.
    shutil.rmtree(NEXT_WHEELS, ignore_errors=True)
    started = time.monotonic()
    pip("download", "-q", "-d", str(NEXT_WHEELS), *requirements)
    downloaded = time.monotonic() - started
    started = time.monotonic()
    pip("install", "-q", "--upgrade", "--no-index", "--find-links", str(NEXT_WHEELS), *requirements)
    pip("install", "-q", "--no-deps", "--no-build-isolation", "-e", ".", "-e", "docs/_ext")
    installed_s = time.monotonic() - started
    freeze = pip("list", "--format", "json", silent=True)
    NEXT_BUILD.mkdir(parents=True, exist_ok=True)
    versions = {p["name"]: p["version"] for p in json.loads(freeze.strip().splitlines()[-1])}
    (NEXT_BUILD / "versions.json").write_text(json.dumps(versions, indent=1), encoding="utf-8")
    cost = {
        "download_bytes": folder_bytes(NEXT_WHEELS),
        "download_seconds": round(downloaded, 1),
        "install_seconds": round(installed_s, 1),
        "environment_bytes": folder_bytes(NEXT_ENV),
    }
    (NEXT_BUILD / "install-cost.json").write_text(json.dumps(cost, indent=1), encoding="utf-8")
    session.log(f"install cost: {cost}")
    build_tools(session)
    path = f"{NEXT_BIN}{os.pathsep}{os.environ['PATH']}"
    env = {**QUIET, "BOOK_BUILD_DIR": str(NEXT_BUILD), "PATH": path, "VIRTUAL_ENV": str(NEXT_ENV)}
    log = NEXT_BUILD / "build.log"
    args = [*STRICT_SPHINX_ARGS, "-b", "html", "-j", "auto", "-d", str(NEXT_BUILD / "doctrees")]
    started = time.monotonic()
    with log.open("w", encoding="utf-8") as out:
        session.run(
            str(NEXT_BIN / "sphinx-build"),
            *args,
            str(DOCS),
            str(NEXT_BUILD / "html"),
            external=True,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            success_codes=[0, 1, 2],
        )
    session.log(f"next build: {time.monotonic() - started:.0f} s, log in {log}")
    report = [python, str(ROOT / "tests" / "next_release_report.py"), "--log", str(log)]
    for reference in references:
        report += ["--reference", str(reference)]
    report += ["--candidate", str(NEXT_BUILD / "html")]
    report += ["--versions", str(NEXT_BUILD / "versions.json")]
    session.run(*report, "--out", str(NEXT_BUILD / "next-report.md"), external=True, env=env)
