"""Checks on the built chapters about graph capture and dynamic models."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup

CHAPTERS = {
    "chapters/03-graph-capture": {"G6", "G7", "G9", "G11", "G12"},
    "chapters/04-dynamic-models": {"G3", "G4"},
}


def page(built_html, name: str) -> BeautifulSoup:
    return BeautifulSoup((built_html / f"{name}.html").read_text(encoding="utf-8"), "html.parser")


@pytest.mark.parametrize(("name", "claims"), CHAPTERS.items())
def test_chapter_treats_its_claims_with_tabs(built_html, name, claims):
    soup = page(built_html, name)
    linked = {a["href"].split("#claim-")[1].upper() for a in soup.select("a[href*='#claim-']")}
    assert claims <= linked
    tabs = {label["data-sync-id"] for label in soup.select("div.framework-tabs label")}
    assert tabs == {"pytorch", "tensorflow"}


@pytest.mark.parametrize("name", CHAPTERS)
def test_outputs_hold_no_machine_specific_text(built_html, name):
    """Paths, memory addresses and log timestamps would change between builds."""
    text = "\n".join(o.get_text() for o in page(built_html, name).select("div.cell_output"))
    assert not re.search(r"0x[0-9a-f]{6,}", text), "a memory address leaked into the page"
    assert not re.search(r"/(?:tmp|work|home|root)/", text), "an absolute path leaked"
    assert not re.search(r"^[IWE]\d{4} \d\d:\d\d", text, re.MULTILINE), "a log line leaked"


def test_graph_capture_chapter_draws_graphs_and_the_timing_figure(built_html):
    soup = page(built_html, "chapters/03-graph-capture")
    images = [built_html / "chapters" / img["src"] for img in soup.select("div.cell_output img")]
    assert len(images) >= 4  # TF1 graph, traced graph, exported graph, timing figure
    assert all(image.is_file() and image.stat().st_size > 1000 for image in images)
    text = soup.get_text()
    assert "cpp_fused_" in text  # TorchInductor fused the elementwise chain
    assert "fusion(" in text  # so did XLA
    assert "is deprecated" in text  # TorchScript's warning, as the pinned torch prints it


def test_dynamic_models_chapter_shows_a_real_debugger_session(built_html):
    text = page(built_html, "chapters/04-dynamic-models").get_text()
    assert "(Pdb) p step, len(sequence)" in text
    assert (
        "<autograph code>" in text
    )  # the breakpoint inside tf.function stopped in AutoGraph's code
    assert "graph break in loop" in text
