"""The build machinery on a tiny fixture book: tabs, the execution cache, claims, errors.

Each build runs the real ``docs/conf.py`` and extensions with a real kernel.
Which chapters executed is read from MyST-NB's log lines ("Executing
notebook" versus "Using cached notebook").
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
FIXTURE = Path(__file__).parent / "fixtures" / "book"
LOG_LINE = re.compile(r"(\S+)\.md: (Executing notebook|Using cached notebook)")


@dataclass
class Build:
    returncode: int
    log: str
    html: Path

    def pages(self, event: str) -> set[str]:
        """Docnames for which MyST-NB logged ``event`` ("Executing" or "Using cached")."""
        found = set()
        for path, what in LOG_LINE.findall(self.log):
            if what.startswith(event):
                found.add(path.split("/book/", 1)[1])
        return found

    @property
    def executed(self) -> set[str]:
        return self.pages("Executing")

    @property
    def from_cache(self) -> set[str]:
        return self.pages("Using cached")

    def soup(self, page: str) -> BeautifulSoup:
        return BeautifulSoup((self.html / page).read_text(encoding="utf-8"), "html.parser")


class Book:
    """A copy of the fixture book and of the companion sources, in a temporary folder."""

    def __init__(self, where: Path):
        self.src = where / "book"
        shutil.copytree(FIXTURE, self.src)
        self.package = where / "pkg" / "src" / "companion"
        shutil.copytree(
            ROOT / "src" / "companion", self.package, ignore=shutil.ignore_patterns("__pycache__")
        )
        self.out = self.src / "_build" / "html"

    def build(self, *extra: str) -> Build:
        env = {
            **os.environ,
            "BOOK_DOCS_DIR": str(DOCS),
            "FIXTURE_PACKAGE_DIR": str(self.package),
            "TF_CPP_MIN_LOG_LEVEL": "2",
        }
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "sphinx",
                "-W",
                "--keep-going",
                "-n",
                "-b",
                "html",
                *extra,
                str(self.src),
                str(self.out),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )
        return Build(result.returncode, result.stdout + result.stderr, self.out)

    def edit(self, relative: str, old: str, new: str, *, root: Path | None = None) -> None:
        path = (root or self.src) / relative
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {path}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    def settle(self) -> None:
        """Bring the build up to date, whatever earlier tests changed."""
        result = self.build()
        assert result.returncode == 0, result.log


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Book:
    return Book(tmp_path_factory.mktemp("fixture"))


@pytest.fixture(scope="module")
def cold(book) -> Build:
    result = book.build()
    assert result.returncode == 0, result.log
    return result


# --- Executed framework tabs -------------------------------------------------------


def test_cold_build_executes_every_notebook_chapter(cold):
    assert cold.executed == {"chapters/tabs", "chapters/plain"}


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
    from companion.environment import package_versions

    stamp = cold.soup("chapters/plain.html").select_one("div.version-stamp").get_text()
    for name in ("torch", "tensorflow", "keras"):
        assert package_versions([name])[name] in stamp
    assert cold.soup("ledger.html").select_one("div.version-stamp") is None  # nothing executed


# --- The execution cache -------------------------------------------------------------


def test_no_change_rebuild_reads_and_executes_nothing(book, cold):
    book.settle()
    result = book.build()
    assert result.returncode == 0, result.log
    assert "0 added, 0 changed, 0 removed" in result.log
    assert result.executed == set()


def test_prose_edit_takes_outputs_from_the_cache(book, cold):
    book.settle()
    book.edit("chapters/tabs.md", "Prose before the cells.", "Prose, edited, before the cells.")
    result = book.build()
    assert result.returncode == 0, result.log
    assert result.from_cache == {"chapters/tabs"}
    assert result.executed == set()
    assert "Prose, edited" in result.soup("chapters/tabs.html").get_text()


def test_code_edit_reexecutes_only_that_chapter(book, cold):
    book.settle()
    book.edit("chapters/plain.md", "print(21 * 2)", "print(6 * 7 + 1)")
    result = book.build()
    assert result.returncode == 0, result.log
    assert result.executed == {"chapters/plain"}
    assert "43" in result.soup("chapters/plain.html").select_one("div.cell_output").get_text()


def test_editing_an_imported_companion_module_reexecutes_its_chapters_only(book, cold):
    book.settle()
    book.edit("reproducibility.py", '"""Seed every', '"""(edited) Seed every', root=book.package)
    result = book.build()
    assert result.returncode == 0, result.log
    assert result.executed == {"chapters/tabs"}  # plain.md imports no companion module


def test_editing_a_module_no_chapter_imports_executes_nothing(book, cold):
    book.settle()
    book.edit("graph_inspection.py", '"""The graphs', '"""(edited) The graphs', root=book.package)
    result = book.build()
    assert result.returncode == 0, result.log
    assert result.executed == set()


def test_different_installed_packages_reexecute_every_chapter(book, cold):
    book.settle()
    result = book.build("-D", "fingerprint_environment=some-other-package-set==1.0")
    assert result.returncode == 0, result.log
    assert result.executed == {"chapters/tabs", "chapters/plain"}


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
    import json

    data = json.loads((cold.html / "claims.json").read_text())
    treats = [m for m in data["markers"] if m["role"] == "treats"]
    assert [(m["claim"], m["docname"], m["has_evidence"]) for m in treats] == [
        ("G1", "chapters/tabs", True)
    ]


def small_book(tmp_path: Path, chapter: str) -> Book:
    """A fixture book reduced to one extra chapter, so a failing build is quick."""
    book = Book(tmp_path)
    for name in ("chapters/tabs.md", "chapters/plain.md"):
        (book.src / name).unlink()
    (book.src / "index.md").write_text("# Fixture\n\n```{toctree}\nchapters/extra\nledger\n```\n")
    (book.src / "chapters" / "extra.md").write_text(chapter)
    return book


NOTEBOOK_HEADER = (FIXTURE / "chapters" / "plain.md").read_text().split("# Plain chapter")[0]


def test_unknown_claim_id_fails_the_build(tmp_path):
    book = small_book(tmp_path, "# Extra\n\nSee {claim}`Z9`.\n")
    result = book.build()
    assert result.returncode != 0
    assert "unknown claim ID 'Z9'" in result.log


def test_demo_claim_without_an_executed_cell_fails_the_build(tmp_path):
    book = small_book(tmp_path, "# Extra\n\n## Section\n\n:::{claim} G1\n:::\n\nOnly prose here.\n")
    result = book.build()
    assert result.returncode != 0
    assert "claim G1 is a demo claim, but its section has no executed code cell" in result.log


def test_judgment_claim_needs_no_executed_cell(tmp_path):
    book = small_book(tmp_path, "# Extra\n\n:::{claim} G2\n:::\n\nWeighed in prose.\n")
    result = book.build()
    assert result.returncode == 0, result.log


# --- Failures name the chapter and the cell ----------------------------------------------


def test_failing_cell_fails_the_build_and_names_chapter_and_cell(tmp_path):
    chapter = (
        NOTEBOOK_HEADER + "# Extra\n\n```{code-cell} ipython3\nx = 1\n```\n\n"
        "```{code-cell} ipython3\nratio = 1 / 0\n```\n"
    )
    book = small_book(tmp_path, chapter)
    result = book.build()
    assert result.returncode != 0
    assert re.search(
        r"chapters/extra\.md:\d+: WARNING: code cell 2 raised ZeroDivisionError: division by "
        r"zero; it starts with: 'ratio = 1 / 0'",
        result.log,
    ), result.log
    assert "1 chapter(s) failed to execute: chapters/extra" in result.log
    # Nothing changed, but the failed chapter runs again and fails again.
    again = book.build()
    assert again.returncode != 0
    assert again.executed == {"chapters/extra"}


def test_slow_cell_times_out_and_names_chapter_and_cell(tmp_path):
    chapter = (
        NOTEBOOK_HEADER + "# Extra\n\n```{code-cell} ipython3\nimport time\ntime.sleep(60)\n```\n"
    )
    result = small_book(tmp_path, chapter).build("-D", "nb_execution_timeout=3")
    assert result.returncode != 0
    assert re.search(
        r"chapters/extra\.md:\d+: WARNING: code cell 1 timed out after 3 s "
        r"\(nb_execution_timeout\); it starts with: 'import time'",
        result.log,
    ), result.log
    assert "after 3 seconds" in result.log


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
