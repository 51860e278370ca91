"""tests/next_release_report.py: what a build on the newest releases changed."""

from __future__ import annotations

import json

import nbformat
import next_release_report as report

SOURCE = """# Title
```{code-cell} ipython3
print(1)
```
## Section
:::{claim} P6
:::
```{code-cell} ipython3
print(2)
```
```{code-cell} ipython3
:tags: [timing]
print(3)
```
"""


def notebook(outputs: list[str], tags=((), (), ("timing",))):
    cells = []
    for index, (text, cell_tags) in enumerate(zip(outputs, tags, strict=True)):
        cell = nbformat.v4.new_code_cell(f"print({index + 1})")
        cell.metadata["tags"] = list(cell_tags)
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
        cells.append(cell)
    return nbformat.v4.new_notebook(cells=cells)


def write_build(root, page, nb):
    path = root / "_sources" / f"{page}.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(nb, path)
    return root


def test_a_changed_output_names_its_cell_and_the_claim_of_its_section(tmp_path):
    pinned = write_build(tmp_path / "a", "chapters/x", notebook(["1\n", "2\n", "3 s\n"]))
    newest = write_build(tmp_path / "b", "chapters/x", notebook(["1\n", "two\n", "9 s\n"]))
    result = report.compare_page(pinned, newest, "chapters/x", SOURCE)
    assert result.changed_cells == [1]  # the timing cell is left out
    assert result.claims == {"P6": [1]}
    assert '"two' in result.details[0]


def test_failures_come_from_the_execution_record_and_the_build_log(tmp_path):
    execution = tmp_path / "execution.json"
    execution.write_text(json.dumps({
        "chapters/a": {"succeeded": False, "error": "CellExecutionError"},
        "chapters/b": {"succeeded": True},
    }))  # fmt: skip
    log = tmp_path / "build.log"
    log.write_text("docs/chapters/a.md:42: code cell 3 raised ZeroDivisionError: boom\n")
    assert report.failures(execution, log) == {
        "chapters/a": "cell 3 raised ZeroDivisionError: boom"
    }


def test_version_changes_against_the_constraints(tmp_path):
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("# pins\ntorch==2.13.0\nkeras==3.15.1\n")
    changes = report.version_changes(
        constraints, {"torch": "2.15.0", "keras": "3.15.1", "jax": "0.12"}
    )
    assert changes == ["jax: not pinned -> 0.12", "torch: 2.13.0 -> 2.15.0"]
