"""The rendering check's file comparison: what it allows to differ, and what it does not."""

from __future__ import annotations

from book_rendering import site_differences


def write_site(root, pages: dict[str, str], images: list[str]):
    for name, html in pages.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(html, encoding="utf-8")
    (root / "_images").mkdir(parents=True, exist_ok=True)
    for image in images:
        (root / "_images" / image).write_text("<svg/>", encoding="utf-8")
    return root


def test_an_image_no_page_shows_is_left_over_and_ignored(tmp_path):
    page = {"a.html": '<img src="_images/new.svg">'}
    first = write_site(tmp_path / "first", page, ["new.svg", "old.svg"])
    second = write_site(tmp_path / "second", page, ["new.svg"])
    assert site_differences(first, second) == []


def test_an_image_a_page_shows_in_one_build_only_is_a_difference(tmp_path):
    first = write_site(tmp_path / "first", {"a.html": '<img src="../_images/x.svg">'}, ["x.svg"])
    second = write_site(tmp_path / "second", {"a.html": '<img src="../_images/y.svg">'}, ["y.svg"])
    found = site_differences(first, second)
    assert "_images/x.svg: only in one build" in found
    assert "_images/y.svg: only in one build" in found
    assert any(line.startswith("a.html:") for line in found)
