"""The Rosetta table: at least 200 rows that run, check themselves and export their data."""

import csv
import io
import json
import re

import pytest

from companion.frameworks import DARK_BACKGROUND, LIGHT_BACKGROUND, contrast_ratio
from companion.rosetta import GROUPS, LIBRARIES, VERDICTS, RosettaError, Row, run_row, run_table
from companion.rosetta.export import COLUMNS, data_uri, to_csv, to_json, write_files
from companion.rosetta.html import render_downloads, render_summary, render_table
from companion.rosetta.rows import ROWS, load_rows, read_rows
from companion.rosetta.runner import summarize


@pytest.fixture(scope="module")
def table():
    return run_table()


def test_at_least_200_rows_and_every_group():
    assert len(ROWS) >= 200
    assert {row.group for row in ROWS} == set(GROUPS)
    names = [(row.group, row.name) for row in ROWS]
    assert len(names) == len(set(names)), "operation names repeat"


def test_the_whole_table_runs_with_a_verdict_per_library(table):
    cells, seconds = table
    assert len(cells) == len(LIBRARIES) * len(ROWS)
    assert {cell.verdict for cell in cells} <= set(VERDICTS)
    assert seconds < 60
    summary = summarize(cells)
    assert summary["rows"] == len(ROWS)
    # Most NumPy spellings have a counterpart that gives NumPy's result.
    pytorch = summary["by_library"]["pytorch"]
    assert pytorch["same"] + pytorch["same up to float32 round-off"] > len(ROWS) / 2


def test_every_difference_and_error_says_why(table):
    cells, _ = table
    for cell in cells:
        if cell.verdict.startswith("differs") or cell.verdict == "raises":
            assert cell.note or cell.detail, f"{cell.operation}/{cell.library} needs a note"


def test_measured_differences_are_recorded(table):
    cells, _ = table
    round_off = [c for c in cells if c.verdict == "same up to float32 round-off"]
    assert round_off
    assert all(0 < c.max_relative_difference <= 1e-5 for c in round_off)
    assert all(c.shape and c.dtype for c in cells if c.verdict not in ("raises", "missing"))


def test_known_silent_differences_are_in_the_table(table):
    cells, _ = table
    verdicts = {(c.operation, c.library): c.verdict for c in cells}
    assert verdicts["rows by a list", "tensorflow"] == "differs: semantics"
    assert verdicts["argmax, no axis", "tensorflow"] == "differs: default axis"
    assert verdicts["standard deviation", "pytorch"] == "differs: reduction"
    assert verdicts["conv2d, stride 2, padding=1 vs 'same'", "pytorch"] == "differs: padding"
    assert verdicts["reversed rows by slicing", "pytorch"] == "raises"


def test_csv_and_json_hold_every_cell(table, tmp_path):
    cells, _ = table
    rows = list(csv.DictReader(io.StringIO(to_csv(cells))))
    assert len(rows) == len(cells)
    assert tuple(rows[0]) == COLUMNS
    data = json.loads(to_json(cells, {"numpy": "2"}))
    assert data["summary"]["rows"] == len(ROWS)
    assert data["versions"] == {"numpy": "2"}
    paths = write_files(cells, tmp_path)
    assert json.loads(paths["json"].read_text())["cells"][0]["library"] == "numpy"


def test_the_html_table_is_filterable_and_offers_downloads(table):
    cells, _ = table
    links = render_downloads(data_uri("a", "text/csv"), data_uri("{}", "application/json"))
    page = render_table(cells, downloads=links)
    assert page.count('<th scope="row">') == len(ROWS)
    assert page.count("<tbody") == len(GROUPS)
    assert 'download="rosetta.csv"' in page
    assert 'download="rosetta.json"' in page
    assert 'data-filter="text"' in page
    assert 'aria-live="polite"' in page
    assert "<script" not in page  # the script is the book's own file
    assert render_summary(summarize(cells)).count("<tr>") >= 8


def test_verdict_chip_colours_meet_wcag_aa_in_both_themes():
    from pathlib import Path

    css = (Path(__file__).parents[2] / "docs" / "_static" / "rosetta.css").read_text()
    light, dark = css.split('html[data-theme="dark"] .rosetta')
    for theme, block in (("light", light), ("dark", dark.split("}")[0])):
        colours = dict(re.findall(r"--([\w-]+): (#[0-9a-f]{6});", block))
        names = [name[: -len("-fg")] for name in colours if name.endswith("-fg")]
        assert len(names) == 8, theme
        for name in names:
            ratio = contrast_ratio(colours[f"{name}-fg"], colours[f"{name}-bg"])
            assert ratio >= 4.5, (theme, name, ratio)
        page = LIGHT_BACKGROUND if theme == "light" else DARK_BACKGROUND
        assert contrast_ratio(colours["muted-fg"], page) >= 4.5, theme


def test_an_undeclared_error_is_an_error():
    row = Row("creation", "broken", "np.zeros(2)", "torch.zeros(2, dtype=torch.float64)",
              "tf.nope(2)", "ops.zeros(2, 'float64')")  # fmt: skip
    with pytest.raises(RosettaError, match=r"tf\.nope.*does not declare it"):
        run_row(row)


def test_an_undeclared_difference_is_an_error():
    row = Row(
        "reductions", "std", "np.std(x)", "torch.std(x)", "tf.math.reduce_std(x)", "ops.std(x)"
    )
    with pytest.raises(RosettaError, match="declares no reason"):
        run_row(row)


def test_a_stale_declaration_is_an_error():
    row = Row("reductions", "sum", "np.sum(x)", "torch.sum(x)", "tf.reduce_sum(x)", "ops.sum(x)",
              expect={"pytorch": "differs: semantics"})  # fmt: skip
    with pytest.raises(RosettaError, match="the result is the same"):
        run_row(row)
    quiet = Row("reductions", "sum", "np.sum(x)", "torch.sum(x)", None, None,
                expect={"pytorch": "raises"})  # fmt: skip
    with pytest.raises(RosettaError, match="declared to raise"):
        run_row(quiet)


def test_a_declared_error_is_recorded():
    row = Row("indexing and slicing", "negative step", "x[::-1]", "x[::-1]", "x[::-1]", "x[::-1]",
              expect={"pytorch": "raises"})  # fmt: skip
    cell = run_row(row)[1]
    assert cell.verdict == "raises"
    assert "ValueError" in cell.detail


def test_rows_check_their_arguments():
    with pytest.raises(ValueError, match="group must be one of"):
        Row("tensors", "x", "1", None, None, None)
    with pytest.raises(ValueError, match="give a reference"):
        Row("creation", "x", None, "1", None, None)
    with pytest.raises(ValueError, match="expected verdict"):
        Row("creation", "x", "1", "1", "1", "1", expect={"pytorch": "same"})
    with pytest.raises(ValueError, match="compare"):
        Row("creation", "x", "1", "1", "1", "1", compare="close")
    with pytest.raises(TypeError, match="string of code or None"):
        Row("creation", "x", "1", 1, None, None)
    with pytest.raises(TypeError, match="cells must be a list of Cell"):
        to_csv([1])


def test_rows_files_are_checked_and_errors_name_the_file_and_row(tmp_path):
    row = '[[row]]\nname = "sum"\nnumpy = "np.sum(x)"\npytorch = "torch.sum(x)"\n'
    with pytest.raises(ValueError, match=r"a\.toml, row 1 \('sum'\): a key must be one of"):
        read_rows('group = "reductions"\n' + row + 'torch = "x"', "a.toml")
    with pytest.raises(ValueError, match=r"a\.toml, row 1 \('sum'\): expect's pytorch must be"):
        read_rows('group = "reductions"\n' + row + 'expect = { pytorch = "same" }', "a.toml")
    with pytest.raises(ValueError, match=r"a\.toml, row 1 \('sum'\): group must be one of"):
        read_rows('group = "sums"\n' + row, "a.toml")
    with pytest.raises(ValueError, match=r"a\.toml, row 1 \(None\): .*name"):
        read_rows('group = "reductions"\n[[row]]\nnumpy = "np.sum(x)"', "a.toml")
    with pytest.raises(ValueError, match=r"a\.toml must have a group"):
        read_rows(row, "a.toml")
    with pytest.raises(ValueError, match=r"a\.toml: not valid TOML"):
        read_rows("group = ", "a.toml")
    (tmp_path / "sums.toml").write_text('group = "reductions"\n' + row)
    with pytest.raises(ValueError, match="no rows for the group"):
        load_rows(tmp_path)


def test_the_command_line_writes_both_files(tmp_path, capsys):
    from companion.rosetta.__main__ import main

    assert main(["--out", str(tmp_path / "out")]) == 0
    assert f"{len(ROWS)} operations" in capsys.readouterr().out
    assert {p.name for p in (tmp_path / "out").iterdir()} == {"rosetta.csv", "rosetta.json"}


def test_numpy_spellings_are_run_with_only_the_prefix_swapped():
    from companion.rosetta.spelling import FAILS, OTHER, WORKS, count_outcomes, numpy_spelling

    names = ("sum of everything", "reversed rows by slicing")
    outcomes = numpy_spelling([row for row in ROWS if row.name in names])
    assert outcomes["pytorch"]["sum of everything"] == WORKS  # torch.sum(x)
    assert outcomes["keras"]["sum of everything"] == WORKS  # ops.sum(x)
    assert outcomes["tensorflow"]["sum of everything"] == FAILS  # no tf.sum
    assert outcomes["pytorch"]["reversed rows by slicing"] == FAILS  # no negative steps
    assert outcomes["tensorflow"]["reversed rows by slicing"] == WORKS
    assert count_outcomes(outcomes)["pytorch"] == {WORKS: 1, OTHER: 0, FAILS: 1}
