"""Compare two renderings of a book file by file: what may differ, and nothing else.

Two builds that take every output from the same execution cache must give
the same site. Allowed to differ, and why:

* the build date in the footer (``span.build-date``): the day of the build
  by definition;
* ``.buildinfo``: Sphinx's hash of the configuration, which includes the
  output paths; it is not a page;
* the ``?v=<checksum>`` that Sphinx appends to a stylesheet or script link
  when the file is already in the output folder as the page is written
  (MyST-NB copies its stylesheet only after the pages are written);
* search terms that no page holds any more: building into an existing folder,
  Sphinx keeps a term whose pages no longer contain it, with an empty page
  list. Such terms find nothing, so they are dropped before comparing;
* images that no page shows any more: building into an existing folder,
  Sphinx keeps the image of an output that has since changed
  (``_images/<hash>.svg``). An image that only one build holds and that none
  of its pages refers to is not part of the site, so it is dropped too.

Used by ``tests/reproduce`` on the book and by ``tests/machinery`` on the
fixture book (to show that a page whose rendering varies fails the check).
"""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path

from bs4 import BeautifulSoup

IGNORED_FILES = {".buildinfo", ".buildinfo.bak"}
MASK = "[differs between builds: masked]"
CHECKSUM = re.compile(r"\?v=[0-9a-f]{8}$")
IMAGE_REFERENCE = re.compile(r"_images/([^\"'?#\s)]+)")


def masked_html(path: Path) -> str:
    page = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    for date in page.select("span.build-date"):
        date.clear()
        date.append(MASK)
    for tag, attribute in (("link", "href"), ("script", "src")):
        for element in page.find_all(tag, **{attribute: True}):
            element[attribute] = CHECKSUM.sub("", element[attribute])
    return str(page)


def search_index(path: Path) -> str:
    """``searchindex.js`` as sorted JSON, without terms that point to no page."""
    text = path.read_text(encoding="utf-8")
    index = json.loads(text[text.index("(") + 1 : text.rindex(")")])
    for key in ("terms", "titleterms"):
        index[key] = {term: pages for term, pages in index[key].items() if pages != []}
    return json.dumps(index, indent=1, sort_keys=True)


def site_files(root: Path) -> dict[str, Path]:
    return {
        p.relative_to(root).as_posix(): p
        for p in root.rglob("*")
        if p.is_file() and p.name not in IGNORED_FILES
    }


def comparable_text(name: str, path: Path) -> str | None:
    """The file as compared, or None to compare bytes."""
    if name.endswith(".html"):
        return masked_html(path)
    if name == "searchindex.js":
        return search_index(path)
    return None


def unused_images(files: dict[str, Path]) -> set[str]:
    """The files under ``_images/`` that no page of the site refers to."""
    images = {name for name in files if name.startswith("_images/")}
    if not images:
        return set()
    used = set()
    for name, path in files.items():
        if name.endswith(".html"):
            used.update(IMAGE_REFERENCE.findall(path.read_text(encoding="utf-8")))
    return {name for name in images if name.removeprefix("_images/") not in used}


def site_differences(first: Path, second: Path) -> list[str]:
    """Every difference between two built sites that is not on the allowed list."""
    a_files, b_files = site_files(first), site_files(second)
    only_one = set(a_files) ^ set(b_files)
    only_one -= unused_images(a_files) | unused_images(b_files)
    differences = [f"{name}: only in one build" for name in sorted(only_one)]
    for name in sorted(set(a_files) & set(b_files)):
        a = comparable_text(name, a_files[name])
        if a is None:
            if a_files[name].read_bytes() != b_files[name].read_bytes():
                differences.append(f"{name}: contents differ")
            continue
        b = comparable_text(name, b_files[name])
        if a != b:
            diff = difflib.unified_diff(a.splitlines(), b.splitlines(), "first", "second", n=1)
            differences.append(f"{name}:\n" + "\n".join(list(diff)[:40]))
    return differences
