"""The built deployment chapter: a matrix row per route, no process imported the model code,
and the browser runs."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from companion import export_pytorch, export_tensorflow

PAGE = "chapters/08-deployment.html"


@pytest.fixture(scope="module")
def tables(built_html):
    """Every table in a cell output, as (header, rows)."""
    page = BeautifulSoup((built_html / PAGE).read_text(encoding="utf-8"), "html.parser")
    found = []
    for table in page.select("div.cell_output table"):
        header = [th.get_text(strip=True) for th in table.select("thead th")]
        rows = [
            [td.get_text(" ", strip=True) for td in tr.select("td")]
            for tr in table.select("tbody tr")
        ]
        found.append((header, rows))
    return found


def test_the_matrix_has_one_row_per_route_with_a_status(tables):
    pytorch = [r.exporter for r in export_pytorch.ROUTES.values()]
    tensorflow = [r.exporter for r in export_tensorflow.ROUTES.values()]
    expected = ["PyTorch", *pytorch, "TensorFlow", *tensorflow]
    outcome = [rows for header, rows in tables if header[:2] == ["Route", "Worked"]]
    speed = [rows for header, rows in tables if header[:2] == ["Route", "Import + load"]]
    assert len(outcome) == len(speed) == 1
    for rows in (outcome[0], speed[0]):
        assert [row[0] for row in rows] == expected
    for row in outcome[0]:
        if row[0] not in ("PyTorch", "TensorFlow"):
            assert row[1] == "yes" or row[1].startswith(("failed", "wrong outputs")), row


def test_the_device_routes_are_in_the_matrix_with_their_outcome(tables):
    (rows,) = [rows for header, rows in tables if header[:2] == ["Route", "Worked"]]
    worked = {row[0]: row[1] for row in rows}
    assert worked["ExecuTorch .pte (XNNPACK)"] == "yes"
    assert worked["Keras model.export (litert)"] == "yes"
    assert worked["Keras model.export (openvino)"] == "yes"
    # Until pip can install it beside the pins, with the resolver's reason.
    assert worked["LiteRT Torch .tflite"].startswith("failed")
    assert "pip: Cannot install" in worked["LiteRT Torch .tflite"]


def test_the_browser_runs_are_tabulated(tables):
    (runtimes,) = [rows for header, rows in tables if header[:2] == ["Runtime", "npm version"]]
    assert [row[0] for row in runtimes] == ["onnxruntime-web", "litert.js"]
    (artifacts,) = [rows for header, rows in tables if header[:2] == ["Runtime", "Artifact"]]
    outcome = {row[1]: row[3] for row in artifacts if row[0] != "PyTorch" and row[1]}
    assert outcome["torch.onnx.export"] == "yes"
    assert outcome["Keras model.export (onnx)"] == "yes"
    assert outcome["Keras model.export (litert), fixed batch"] == "yes"
    assert outcome["Keras model.export (litert), dynamic batch"].startswith("failed")


def test_no_fresh_process_imported_the_model_definitions(tables):
    (header, rows), *_ = [(h, r) for h, r in tables if "Model code imported" in h]
    column = header.index("Model code imported")
    assert len(rows) >= 1
    assert all(row[column] == "no" for row in rows)


def test_the_matrix_figure_is_drawn(built_html):
    page = BeautifulSoup((built_html / PAGE).read_text(encoding="utf-8"), "html.parser")
    pictures = page.select("div.cell_output img")
    assert any(img.get("src", "").endswith(".svg") for img in pictures)
