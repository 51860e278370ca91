"""The build machinery on a tiny fixture book: tabs, scheduling, the cache, claims, errors.

Each build runs the book's own ``docs/conf.py`` and extensions with a real
kernel, as ``nox -s docs`` does: ``sphinx-build`` with the strict arguments,
in its own process. (Sphinx's in-process testing application does not suit
builds that start kernels: the kernels' event loops and sockets outlive the
build, and a parallel read forks a process that holds them.) Each scenario
starts from a fresh copy of the fixture (and of the companion sources), with
a copy of an execution cache that one cold build filled, so a scenario
executes only what its own edit requires. Which pages executed is read from
the scheduler's ``execution-runs.json``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import pytest
from book_html import DOCS, ROOT
from book_rendering import site_differences
from book_reproduction import differences, published_notebook, rerun_page
from book_sphinx.book_common import STRICT_SPHINX_ARGS
from bs4 import BeautifulSoup

FIXTURE = Path(__file__).parent / "fixtures" / "book"
CHAPTERS = {"chapters/tabs", "chapters/plain", "chapters/timed"}


@dataclass
class Build:
    returncode: int
    log: str
    out: Path

    @property
    def html(self) -> Path:
        return self.out / "html"

    @property
    def runs(self) -> dict:
        return json.loads((self.out / "execution-runs.json").read_text(encoding="utf-8"))

    @property
    def executed(self) -> set[str]:
        return set(self.runs)

    def soup(self, page: str) -> BeautifulSoup:
        return BeautifulSoup((self.html / page).read_text(encoding="utf-8"), "html.parser")


class Book:
    """A fresh copy of the fixture book and of the companion sources."""

    def __init__(self, where: Path, cache: Path | None = None, package: Path | None = None):
        self.src = where / "book"
        shutil.copytree(FIXTURE, self.src)
        self.package = where / "pkg" / "src" / "companion"
        shutil.copytree(
            package or ROOT / "src" / "companion",
            self.package,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
        self.out = self.src / "_build"
        if cache is not None:
            shutil.copytree(cache, self.cache)

    @property
    def cache(self) -> Path:
        return self.out / ".jupyter_cache"

    def build(
        self, *, parallel: int = 0, out: Path | None = None, fresh: bool = False, **overrides
    ) -> Build:
        """Build as ``nox -s docs`` does: ``sphinx-build`` with the strict arguments."""
        out = out or self.out
        overrides = {"nb_execution_cache_path": str(self.cache), **overrides}
        args = [*STRICT_SPHINX_ARGS, "-b", "html", "-d", str(out / "doctrees")]
        args += ["-j", str(parallel)] if parallel else []
        args += ["-E"] if fresh else []
        for name, value in overrides.items():
            args += ["-D", f"{name}={','.join(value) if isinstance(value, list) else value}"]
        env = {**os.environ, "BOOK_DOCS_DIR": str(DOCS), "FIXTURE_PACKAGE_DIR": str(self.package)}
        result = subprocess.run(
            [sys.executable, "-m", "sphinx", *args, str(self.src), str(out / "html")],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
            check=False,
        )
        return Build(result.returncode, result.stdout + result.stderr, out)

    def edit(self, relative: str, old: str, new: str, *, root: Path | None = None) -> None:
        path = (root or self.src) / relative
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {path}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture(scope="module")
def cold_book(tmp_path_factory) -> tuple[Book, Build]:
    book = Book(tmp_path_factory.mktemp("cold"))
    result = book.build()
    assert result.returncode == 0, result.log
    return book, result


@pytest.fixture
def cold(cold_book) -> Build:
    return cold_book[1]


@pytest.fixture
def book(cold_book, tmp_path) -> Book:
    """A fresh copy with the cold build's execution cache, built once (nothing executes)."""
    # The cold copy's sources, not the repository's: they may have moved on since.
    fresh = Book(tmp_path, cache=cold_book[0].cache, package=cold_book[0].package)
    settled = fresh.build()
    assert settled.returncode == 0, settled.log
    assert settled.executed == set(), "a fresh copy with a full cache executed something"
    return fresh


# --- Executed framework tabs -------------------------------------------------------


def test_cold_build_executes_every_notebook_chapter(cold):
    assert cold.executed == CHAPTERS
    assert all(run["succeeded"] for run in cold.runs.values())
    # MyST-NB then finds every page in the cache: it executes nothing itself.
    assert "Executing notebook" not in cold.log
    assert cold.log.count("Using cached notebook") == len(CHAPTERS)


def test_adjacent_tagged_cells_become_one_synced_tab_set(cold):
    soup = cold.soup("chapters/tabs.html")
    tab_sets = soup.select("div.sd-tab-set.framework-tabs")
    assert len(tab_sets) == 2  # prose between the runs splits them

    first = tab_sets[0]
    labels = first.select("label.sd-tab-label")
    assert [label.get_text(strip=True) for label in labels] == ["PyTorch", "TensorFlow"]
    assert {label["data-sync-group"] for label in labels} == {"framework"}
    assert [label["data-sync-id"] for label in labels] == ["pytorch", "tensorflow"]

    torch_tab, tf_tab = first.select("div.sd-tab-content")
    torch_outputs = [o.get_text().strip() for o in torch_tab.select("div.cell_output")]
    assert torch_outputs == ["torch says hello", "a second torch cell in the same run"]
    assert [o.get_text().strip() for o in tf_tab.select("div.cell_output")] == [
        "tensorflow says hello"
    ]

    lone = tab_sets[1].select("label.sd-tab-label")
    assert [label["data-sync-id"] for label in lone] == ["tensorflow"]


def test_untagged_cells_render_outside_tabs(cold):
    soup = cold.soup("chapters/tabs.html")
    untagged = [c for c in soup.select("div.cell") if "untagged cell" in c.get_text()]
    assert len(untagged) == 1
    assert untagged[0].find_parent("div", class_="sd-tab-set") is None


def test_hidden_fingerprint_cell_is_not_shown(cold):
    assert "fingerprint" not in cold.soup("chapters/tabs.html").select_one("article").get_text()


def test_version_stamp_names_the_installed_frameworks(cold):
    from importlib import metadata

    stamp = cold.soup("chapters/plain.html").select_one("div.version-stamp").get_text()
    assert f"PyTorch {metadata.version('torch')}" in stamp
    assert f"Keras {metadata.version('keras')}" in stamp
    assert cold.soup("ledger.html").select_one("div.version-stamp") is None  # nothing executed


# --- Scheduling ------------------------------------------------------------------------


def test_chapters_execute_side_by_side_and_a_timed_one_alone(cold):
    runs = cold.runs
    assert runs["chapters/timed"]["alone"] is True
    assert runs["chapters/timed"]["alongside"] == []
    assert runs["chapters/tabs"]["alongside"] == ["chapters/plain"]
    assert runs["chapters/plain"]["alongside"] == ["chapters/tabs"]
    timed = cold.soup("chapters/timed.html").select_one("div.version-stamp").get_text()
    assert "executed alone" in timed
    plain = cold.soup("chapters/plain.html").select_one("div.version-stamp").get_text()
    assert "Tabs chapter ran on another core" in plain


def test_parallel_and_serial_reading_give_the_same_site(book, tmp_path):
    serial = book.build(out=tmp_path / "serial", fresh=True)
    parallel = book.build(out=tmp_path / "parallel", parallel=2, fresh=True)
    assert serial.returncode == 0, serial.log
    assert parallel.returncode == 0, parallel.log
    assert serial.executed == parallel.executed == set()
    assert site_differences(serial.html, parallel.html) == []
    ledger = parallel.soup("ledger.html").find(id="claim-g1").find_parent("tr")
    assert "Tabs chapter" in ledger.get_text()  # markers merged from the reading processes


def test_execution_only_builds_one_chapter_and_leaves_the_rest_out(tmp_path):
    book = Book(tmp_path)
    # A left-out page cannot resolve a value it glues: that warning is not
    # about the chapter being checked, and must not fail the strict build.
    with (book.src / "chapters" / "tabs.md").open("a") as tabs:
        tabs.write(
            "\n```{code-cell} ipython3\nfrom myst_nb import glue\n\n"
            'glue("answer", 42, display=False)\n```\n\nThe answer is {glue:text}`answer`.\n'
        )
    result = book.build(execution_only=["chapters/plain"])
    assert result.returncode == 0, result.log
    assert result.executed == {"chapters/plain"}
    tabs = result.soup("chapters/tabs.html")
    assert "left out of this build" in tabs.select_one("div.version-stamp").get_text()
    assert tabs.select("div.cell_output") == []
    # The next full build executes what was left out, and only that.
    full = book.build()
    assert full.returncode == 0, full.log
    assert full.executed == {"chapters/tabs", "chapters/timed"}


def test_shards_executed_apart_render_as_one_book_from_merged_caches(tmp_path):
    from book_sphinx.execution_cache import merge_caches

    first, second = Book(tmp_path / "runner-1"), Book(tmp_path / "runner-2")
    one = first.build(execution_only=["chapters/plain", "chapters/tabs"])
    two = second.build(execution_only=["chapters/timed"])
    assert one.executed == {"chapters/plain", "chapters/tabs"}
    assert two.executed == {"chapters/timed"}
    copied = merge_caches(second.cache, first.cache)
    assert [Path(uri).name for uri in copied] == ["timed.md"]
    merged = first.build()
    assert merged.returncode == 0, merged.log
    assert merged.executed == set()
    assert merged.soup("chapters/timed.html").select("div.cell_output")


# --- The execution cache -------------------------------------------------------------


def test_no_change_rebuild_reads_and_executes_nothing(book):
    result = book.build()
    assert result.returncode == 0, result.log
    assert "0 added, 0 changed, 0 removed" in result.log
    assert result.executed == set()


def test_prose_edit_executes_nothing(book):
    book.edit("chapters/tabs.md", "Prose before the cells.", "Prose, edited, before the cells.")
    result = book.build()
    assert result.returncode == 0, result.log
    assert "1 changed" in result.log
    assert result.executed == set()
    assert "Prose, edited" in result.soup("chapters/tabs.html").get_text()


def sitemap_urls(build: Build) -> list[str]:
    return re.findall(r"<loc>(.*?)</loc>", (build.html / "sitemap.xml").read_text(encoding="utf-8"))


def test_an_incremental_build_keeps_every_page_in_the_sitemap_in_order(cold, book):
    # sphinx-sitemap alone lists only the pages a build writes (its issue #13).
    everything = sitemap_urls(cold)
    assert any(url.endswith("/chapters/tabs.html") for url in everything)
    assert len(everything) > 2
    assert everything == sorted(everything)
    book.edit("chapters/tabs.md", "Prose before the cells.", "Prose, edited, before the cells.")
    result = book.build()
    assert result.returncode == 0, result.log
    assert sitemap_urls(result) == everything


def test_code_edit_reexecutes_only_that_chapter(book):
    book.edit("chapters/plain.md", "print(21 * 2)", "print(6 * 7 + 1)")
    result = book.build()
    assert result.returncode == 0, result.log
    assert result.executed == {"chapters/plain"}
    assert "43" in result.soup("chapters/plain.html").select_one("div.cell_output").get_text()


def test_editing_an_imported_companion_module_reexecutes_its_chapters_only(book):
    book.edit("reproducibility.py", '"""Seed every', '"""(edited) Seed every', root=book.package)
    result = book.build()
    assert result.returncode == 0, result.log
    assert result.executed == {"chapters/tabs"}  # the others import no companion module


def test_editing_a_module_no_chapter_imports_executes_nothing(book):
    book.edit("graph_inspection.py", '"""The graphs', '"""(edited) The graphs', root=book.package)
    result = book.build()
    assert result.returncode == 0, result.log
    assert result.executed == set()


def test_different_installed_packages_reexecute_every_chapter(book):
    result = book.build(fingerprint_environment="some-other-package-set==1.0")
    assert result.returncode == 0, result.log
    assert result.executed == CHAPTERS


def overlay_environment(where: Path, fake: dict[str, str]) -> Path:
    """A virtual environment that sees this one's packages plus ``fake`` distributions.

    The fakes are real ``.dist-info`` folders (all that makes a distribution
    installed, as far as package metadata goes), found before this
    environment's own, so a fake ``numpy`` of another version shadows numpy's.
    """
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    python = where / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    ours = sysconfig.get_paths()["purelib"]
    # An "import" line in a .pth file runs at start-up; addsitedir also runs
    # this environment's own .pth files (the editable companion install).
    (site / "zz-book-environment.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    for name, version in fake.items():
        info = site / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    return python


def build_with(python: Path, book: Book) -> tuple[int, str, set[str]]:
    """Build ``book`` with another interpreter (``python -m sphinx``), strictly."""
    env = {**os.environ, "BOOK_DOCS_DIR": str(DOCS), "FIXTURE_PACKAGE_DIR": str(book.package)}
    args = [*STRICT_SPHINX_ARGS, "-b", "html", "-d", str(book.out / "doctrees")]
    args += ["-D", f"nb_execution_cache_path={book.cache}"]
    result = subprocess.run(
        [str(python), "-m", "sphinx", *args, str(book.src), str(book.out / "html")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=600,
    )
    runs = json.loads((book.out / "execution-runs.json").read_text(encoding="utf-8"))
    return result.returncode, result.stdout + result.stderr, set(runs)


def test_a_test_only_package_changes_nothing_but_a_used_one_reexecutes(book, tmp_path):
    extra = overlay_environment(tmp_path / "with-a-test-tool", {"book-test-only-tool": "1.0"})
    code, log, executed = build_with(extra, book)
    assert code == 0, log
    assert "0 added, 0 changed, 0 removed" in log  # the same fingerprint: nothing re-read
    assert executed == set()
    numpy = overlay_environment(tmp_path / "with-other-numpy", {"numpy": "9.9.9"})
    code, log, executed = build_with(numpy, book)
    assert code == 0, log
    assert executed == CHAPTERS  # numpy is in the chapters' closure: everything re-executes


# --- The checks of tests/reproduce can fail ----------------------------------------------


def test_a_page_whose_output_changes_fails_the_reproduction_check(tmp_path):
    book = Book(tmp_path)
    (book.src / "chapters" / "changing.md").write_text(
        (FIXTURE / "chapters" / "plain.md").read_text().split("# Plain chapter")[0]
        + "# Changing\n\n```{code-cell} ipython3\nimport time\nprint(time.time_ns())\n```\n"
    )
    book.edit("index.md", "ledger\n", "chapters/changing\nledger\n")
    result = book.build()
    assert result.returncode == 0, result.log
    steady = rerun_page(result.html, "chapters/plain", tmp_path / "plain")
    assert steady.returncode == 0, steady.log
    assert differences(published_notebook(result.html, "chapters/plain"), steady.notebook) == []
    changing = rerun_page(result.html, "chapters/changing", tmp_path / "changing")
    assert changing.returncode == 0, changing.log
    problems = differences(published_notebook(result.html, "chapters/changing"), changing.notebook)
    assert len(problems) == 1
    assert "cell 0" in problems[0]
    assert "output differs" in problems[0]


def test_a_page_whose_rendering_varies_fails_the_rendering_check(book, tmp_path):
    (book.src / "varying.py").write_text(
        "import random\nfrom docutils import nodes\n\n"
        "def add(app, doctree):\n"
        "    doctree.append(nodes.paragraph(text=f'varies {random.random()}'))\n\n"
        "def setup(app):\n"
        "    app.connect('doctree-read', add)\n"
        "    return {'parallel_read_safe': True}\n"
    )
    with (book.src / "conf.py").open("a") as conf:
        conf.write("\nsys.path.insert(0, str(HERE))\nextensions = [*extensions, 'varying']\n")
    first = book.build(out=tmp_path / "first")
    second = book.build(out=tmp_path / "second")
    assert first.returncode == second.returncode == 0, first.log + second.log
    assert second.executed == set()
    found = site_differences(first.html, second.html)
    assert any(d.startswith("index.html:") for d in found), found


# --- Claims ----------------------------------------------------------------------------


def test_ledger_links_treatments_and_lists_untreated_claims(cold):
    soup = cold.soup("ledger.html")
    g1_row = soup.find(id="claim-g1").find_parent("tr")
    links = [a["href"] for a in g1_row.select("a.reference")]
    assert any(href.startswith("chapters/tabs.html#claim-g1-") for href in links)
    assert any(href.startswith("chapters/plain.html#claim-g1-") for href in links)  # the mention
    assert "holds" in g1_row.get_text()
    uncovered = soup.find(id="not-yet-covered").find_next("ul").get_text()
    assert "G2" in uncovered
    assert "G1" not in uncovered


def test_claims_json_records_evidence(cold):
    data = json.loads((cold.html / "claims.json").read_text())
    treats = [m for m in data["markers"] if m["role"] == "treats"]
    assert [(m["claim"], m["docname"], m["has_evidence"]) for m in treats] == [
        ("G1", "chapters/tabs", True)
    ]


NOTEBOOK_HEADER = (FIXTURE / "chapters" / "plain.md").read_text().split("# Plain chapter")[0]


def small_book(tmp_path: Path, chapter: str) -> Book:
    """A fixture book reduced to one extra chapter, so a failing build is quick."""
    book = Book(tmp_path)
    for name in ("tabs", "plain", "timed"):
        (book.src / "chapters" / f"{name}.md").unlink()
    (book.src / "index.md").write_text("# Fixture\n\n```{toctree}\nchapters/extra\nledger\n```\n")
    (book.src / "chapters" / "extra.md").write_text(chapter)
    return book


def test_unknown_claim_id_fails_the_build(tmp_path):
    result = small_book(tmp_path, "# Extra\n\nSee {claim}`Z9`.\n").build()
    assert result.returncode != 0
    assert "unknown claim ID 'Z9'" in result.log
    assert "[book.claims]" in result.log  # typed warnings


def test_demo_claim_without_an_executed_cell_fails_the_build(tmp_path):
    chapter = "# Extra\n\n## Section\n\n:::{claim} G1\n:::\n\nOnly prose here.\n"
    result = small_book(tmp_path, chapter).build()
    assert result.returncode != 0
    assert "claim G1 is a demo claim, but its section has no executed code cell" in result.log


def test_judgment_claim_needs_no_executed_cell(tmp_path):
    result = small_book(tmp_path, "# Extra\n\n:::{claim} G2\n:::\n\nWeighed in prose.\n").build()
    assert result.returncode == 0, result.log


# --- Failures name the chapter and the cell ----------------------------------------------


def assert_cell_failed(result, cell: int, problem: str, first_line: str) -> None:
    """The build failed, warning that code cell ``cell`` of chapters/extra had ``problem``.

    The warning also quotes the cell's first line.
    """
    assert result.returncode != 0
    warning = (
        rf"chapters/extra\.md:\d+: WARNING: code cell {cell} {re.escape(problem)}; "
        rf"it starts with: '{re.escape(first_line)}'"
    )
    assert re.search(warning, result.log), result.log


def test_failing_cell_fails_the_build_and_names_chapter_and_cell(tmp_path):
    chapter = (
        NOTEBOOK_HEADER + "# Extra\n\n```{code-cell} ipython3\nx = 1\n```\n\n"
        "```{code-cell} ipython3\nratio = 1 / 0\n```\n"
    )
    book = small_book(tmp_path, chapter)
    result = book.build()
    assert_cell_failed(result, 2, "raised ZeroDivisionError: division by zero", "ratio = 1 / 0")
    assert "1 chapter(s) failed to execute: chapters/extra" in result.log
    # Nothing changed, but the failed chapter runs again and fails again.
    again = book.build()
    assert again.returncode != 0
    assert again.executed == {"chapters/extra"}


def test_slow_cell_times_out_and_names_chapter_and_cell(tmp_path):
    chapter = (
        NOTEBOOK_HEADER + "# Extra\n\n```{code-cell} ipython3\nimport time\ntime.sleep(60)\n```\n"
    )
    result = small_book(tmp_path, chapter).build(nb_execution_timeout=3)
    assert_cell_failed(result, 1, "timed out after 3 s (nb_execution_timeout)", "import time")


def test_a_failure_in_one_chapter_does_not_hide_another(tmp_path):
    book = small_book(
        tmp_path, NOTEBOOK_HEADER + "# Extra\n\n```{code-cell} ipython3\n1 / 0\n```\n"
    )
    (book.src / "chapters" / "second.md").write_text(
        NOTEBOOK_HEADER + "# Second\n\n```{code-cell} ipython3\nundefined_name\n```\n"
    )
    (book.src / "index.md").write_text(
        "# Fixture\n\n```{toctree}\nchapters/extra\nchapters/second\nledger\n```\n"
    )
    result = book.build()
    assert result.returncode != 0
    assert "raised ZeroDivisionError" in result.log
    assert "raised NameError" in result.log
