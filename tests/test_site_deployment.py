"""The built deployment chapter: a matrix row per route; no process imported the model code."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from companion import export_pytorch, export_tensorflow
from companion.deployment import _label

pytestmark = pytest.mark.site

PAGE = "chapters/07-deployment.html"
ROUTES = [*export_pytorch.ROUTES.values(), *export_tensorflow.ROUTES.values()]


@pytest.fixture(scope="module")
def tables(built_html):
    page = BeautifulSoup((built_html / PAGE).read_text(encoding="utf-8"), "html.parser")
    found = {}
    for table in page.select("div.cell_output table"):
        header = [th.get_text(strip=True) for th in table.select("thead th")]
        rows = [
            [td.get_text(" ", strip=True) for td in tr.select("td")]
            for tr in table.select("tbody tr")
        ]
        found[header[0] + "|" + header[1]] = (header, rows)
    return found


def test_the_matrix_has_one_row_per_route_with_a_status(tables):
    header, rows = tables["Route|Runs in"]
    assert header[2] == "Worked"
    assert [row[0] for row in rows] == [_label(route) for route in ROUTES]
    for row in rows:
        assert row[2] == "yes" or row[2].startswith(("failed", "wrong outputs")), row


def test_no_fresh_process_imported_the_model_definitions(tables):
    header, rows = tables["Route|torch"]
    column = header.index("companion.cnn")
    assert rows, "the imports table is empty"
    assert all(row[column] == "–" for row in rows)


def test_the_matrix_figure_is_drawn(built_html):
    page = BeautifulSoup((built_html / PAGE).read_text(encoding="utf-8"), "html.parser")
    pictures = page.select("div.cell_output img")
    assert any(img.get("src", "").endswith(".svg") for img in pictures)
