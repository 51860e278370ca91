"""The table as data: CSV (one line per cell), JSON (cells and counts), and files.

>>> from companion.rosetta.table import Cell
>>> cells = [Cell("creation", "zeros", "pytorch", "torch.zeros(2)", "same", "(2,)", "float32", 0.0)]
>>> print(to_csv(cells).splitlines()[0])
group,operation,library,code,verdict,shape,dtype,max_relative_difference,detail,note,warnings
>>> json.loads(to_json(cells))["summary"]["rows"]
1
"""

from __future__ import annotations

import base64
import csv
import io
import json
from dataclasses import asdict, fields
from pathlib import Path

from companion.rosetta.runner import summarize
from companion.rosetta.table import Cell
from companion.validation import check_instance

#: The columns of the CSV file, in order (the fields of a cell).
COLUMNS = tuple(f.name for f in fields(Cell))


def _check_cells(cells) -> list[Cell]:
    check_instance("cells", cells, list)
    if not all(isinstance(cell, Cell) for cell in cells):
        raise TypeError("cells must be a list of Cell, as run_table returns")
    return cells


def to_csv(cells: list[Cell]) -> str:
    """One line per cell (operation x library), with a header line."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(asdict(cell) for cell in _check_cells(cells))
    return buffer.getvalue()


def to_json(cells: list[Cell], versions: dict | None = None) -> str:
    """``{"summary": counts, "versions": ..., "cells": [...]}`` as compact JSON."""
    data = {
        "summary": summarize(_check_cells(cells)),
        "versions": versions or {},
        "cells": [asdict(cell) for cell in cells],
    }
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def write_files(
    cells: list[Cell], directory, versions: dict | None = None
) -> dict:
    """Write ``rosetta.csv`` and ``rosetta.json`` into ``directory``; their paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {
        "csv": directory / "rosetta.csv",
        "json": directory / "rosetta.json",
    }
    paths["csv"].write_text(to_csv(cells), encoding="utf-8")
    paths["json"].write_text(to_json(cells, versions), encoding="utf-8")
    return paths


def data_uri(text: str, media_type: str) -> str:
    """``text`` as a ``data:`` URI (base64), which a link can offer as a download.

    >>> data_uri("a,b\\n", "text/csv")
    'data:text/csv;charset=utf-8;base64,YSxiCg=='
    """
    encoded = base64.b64encode(text.encode("utf-8")).decode("ascii")
    return f"data:{media_type};charset=utf-8;base64,{encoded}"
