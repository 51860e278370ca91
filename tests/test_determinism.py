"""Two clean builds of the book give the same site.

The test builds the book a second time from scratch into
``docs/_build/second-build/`` (new doctrees, a new, empty execution cache, a
new torch.compile cache, ``-E -a``), so every chapter is executed again, and
compares every file of the two sites. What may differ, and why:

* outputs of cells tagged ``timing``: measured durations change from run to
  run (the chapters say so); masked in the HTML and in the notebook downloads,
  and figures that only such cells show are left out of the file comparison;
* the build date in the footer (``span.build-date``): it is the day of the
  build by definition;
* ``.buildinfo``: Sphinx's hash of the configuration, which includes this
  second build's cache path; it is not a page;
* the ``?v=<checksum>`` that Sphinx appends to a stylesheet or script link
  when the file is already in the output folder as the page is written.
  MyST-NB copies its stylesheet only after the pages are written, so a build
  into an existing folder links ``mystnb.<hash>.css?v=...`` and a build into
  an empty one links it without. The files themselves are compared byte for
  byte (and MyST-NB's name already carries a hash of the content);
* search terms that no page holds any more: building into an existing
  folder, Sphinx updates the old ``searchindex.js`` and keeps a term whose
  pages no longer contain it, with an empty page list. Such terms find
  nothing, so they are dropped before the two indexes are compared.

Anything else that differs fails the test; the differences are written to
``test-artifacts/determinism.txt``. This costs one more execution of every
chapter, the largest part of the test session after the first build.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from book_html import ARTIFACTS, DOCS
from bs4 import BeautifulSoup

pytestmark = pytest.mark.site

SECOND = DOCS / "_build" / "second-build"
IGNORED_FILES = {".buildinfo", ".buildinfo.bak"}
MASK = "[differs between builds: masked]"
CHECKSUM = re.compile(r"\?v=[0-9a-f]{8}$")


@pytest.fixture(scope="module")
def second_build(built_html) -> Path:
    shutil.rmtree(SECOND, ignore_errors=True)
    SECOND.mkdir(parents=True)
    command = [
        str(Path(sys.executable).parent / "sphinx-build"),
        "-E",
        "-a",
        "-W",
        "--keep-going",
        "-n",
        "-T",
        "-b",
        "html",
        "-d",
        str(SECOND / "doctrees"),
        "-D",
        f"nb_execution_cache_path={SECOND / 'jupyter_cache'}",
        str(DOCS),
        str(SECOND / "html"),
    ]
    env = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONHASHSEED": "0",
        "TORCHINDUCTOR_CACHE_DIR": str(SECOND / "inductor-cache"),
    }
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "second-build.log").write_text(result.stdout + result.stderr, encoding="utf-8")
    assert result.returncode == 0, (
        f"second build failed:\n{(result.stdout + result.stderr)[-4000:]}"
    )
    records = json.loads((SECOND / "execution.json").read_text(encoding="utf-8"))
    assert records, "the second build executed nothing"
    assert all(record["succeeded"] for record in records.values())
    return SECOND / "html"


def masked_html(path: Path) -> tuple[str, set[str]]:
    """The page with its varying regions masked, and the images only those regions show."""
    page = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    hidden_images: set[str] = set()
    for output in page.select("div.cell.tag_timing div.cell_output"):
        for image in output.select("img"):
            hidden_images.add(Path(image.get("src", "")).name)
        output.clear()
        output.append(MASK)
    for date in page.select("span.build-date"):
        date.clear()
        date.append(MASK)
    for tag, attribute in (("link", "href"), ("script", "src")):
        for element in page.find_all(tag, **{attribute: True}):
            element[attribute] = CHECKSUM.sub("", element[attribute])
    return str(page), hidden_images


def masked_notebook(path: Path) -> str:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        if "timing" in cell.get("metadata", {}).get("tags", []):
            cell["outputs"] = [MASK]
    return json.dumps(notebook, indent=1, sort_keys=True)


def site_files(root: Path) -> dict[str, Path]:
    return {
        p.relative_to(root).as_posix(): p
        for p in root.rglob("*")
        if p.is_file() and p.name not in IGNORED_FILES
    }


def search_index(path: Path) -> str:
    """``searchindex.js`` as sorted JSON, without terms that point to no page."""
    text = path.read_text(encoding="utf-8")
    index = json.loads(text[text.index("(") + 1 : text.rindex(")")])
    for key in ("terms", "titleterms"):
        index[key] = {term: pages for term, pages in index[key].items() if pages != []}
    return json.dumps(index, indent=1, sort_keys=True)


def test_two_clean_builds_give_the_same_site(built_html, second_build):
    first, second = site_files(built_html), site_files(second_build)
    differences: list[str] = []
    hidden: set[str] = set()
    for name in sorted(set(first) & set(second)):
        if name.endswith(".html"):
            a, hidden_a = masked_html(first[name])
            b, hidden_b = masked_html(second[name])
            hidden |= hidden_a | hidden_b
        elif name.endswith(".ipynb"):
            a, b = masked_notebook(first[name]), masked_notebook(second[name])
        elif name == "searchindex.js":
            a, b = search_index(first[name]), search_index(second[name])
        else:
            if first[name].read_bytes() != second[name].read_bytes():
                differences.append(f"{name}: contents differ")
            continue
        if a != b:
            diff = difflib.unified_diff(a.splitlines(), b.splitlines(), "first", "second", n=1)
            differences.append(f"{name}:\n" + "\n".join(list(diff)[:40]))
    only = (set(first) ^ set(second)) - {f"_images/{image}" for image in hidden}
    differences += [f"{name}: only in one build" for name in sorted(only)]
    differences = [d for d in differences if Path(d.split(":")[0]).name not in hidden]
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "determinism.txt").write_text("\n\n".join(differences) or "identical\n")
    assert differences == [], "\n\n".join(differences)[:6000]
    assert len(first) > 20, "the comparison saw too few files to mean anything"
