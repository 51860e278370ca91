"""The deployment matrix as Markdown: what each route gives, and what it costs in time."""

from __future__ import annotations

from companion.deployment.evaluation import RouteResult
from companion.deployment.formatting import (
    format_bytes,
    format_latency,
    format_seconds,
)
from companion.frameworks import FRAMEWORKS, LABELS

_WORKED = {
    "yes": "yes",
    "wrong outputs": "**wrong outputs**",
    "failed": "**failed**: `{error}`",
}


def _row(result: RouteResult) -> dict[str, str]:
    """One route's cells; those of a route that did not run are dashes."""
    row = {
        "Route": result.route.exporter,
        "Worked": _WORKED[result.status].format(error=result.error),
        "Max abs diff": "–",
        "Accuracy": "–",
        "Size": format_bytes(result.size_bytes),
        "Import + load": "–",
        "Latency, 1 image": "–",
        "Latency, batch": "–",
    }
    run = result.run
    if run is None:
        return row
    change = result.accuracy - result.source_accuracy
    row["Max abs diff"] = f"{result.max_abs_diff:.1g}"
    row["Accuracy"] = f"{result.accuracy:.1%}" + (
        f" ({change * 100:+.1f} pt)" if change else ""
    )
    row["Import + load"] = (
        f"{format_seconds(run.import_s)} + {format_seconds(run.load_s)}"
    )
    row["Latency, 1 image"] = format_latency(run.latency_one)
    row["Latency, batch"] = format_latency(run.latency_batch)
    return row


def matrix_rows(results: list[RouteResult]) -> list[dict[str, str]]:
    """The matrix as a list of rows of formatted cells, one per route."""
    if not isinstance(results, list | tuple) or not all(
        isinstance(r, RouteResult) for r in results
    ):
        raise TypeError("results must be a list of RouteResult")
    return [_row(result) for result in results]


#: The matrix's two halves: what each route gives, and what it costs in time.
OUTCOME_COLUMNS = ("Route", "Worked", "Max abs diff", "Accuracy", "Size")
SPEED_COLUMNS = (
    "Route",
    "Import + load",
    "Latency, 1 image",
    "Latency, batch",
)


def _table(
    rows: list[dict[str, str]], columns: tuple[str, ...], header: list[str]
) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = [row.get(key, "") for key in columns]
        lines.append(
            "| "
            + " | ".join(cell.replace("|", "\\|") for cell in cells)
            + " |"
        )
    return lines


def matrix_markdown(results: list[RouteResult]) -> str:
    """The deployment matrix as Markdown: an outcome table and a speed table.

    Each table has a row per route, grouped under a row naming the framework.
    The batch latency column is named after the batch size the routes ran.
    """
    rows = matrix_rows(results)
    if not rows:
        raise ValueError("results is empty: nothing to tabulate")
    grouped = []
    for framework in FRAMEWORKS:
        title = LABELS[framework]
        mine = [
            row
            for row, r in zip(rows, results, strict=True)
            if r.route.framework == framework
        ]
        if mine:
            grouped += [{"Route": f"**{title}**"}, *mine]
    ran = [r for r in results if r.ran]
    batch = (
        f"Latency, {ran[0].run.batch_size} images" if ran else "Latency, batch"
    )
    speed_header = [
        batch if c == "Latency, batch" else c for c in SPEED_COLUMNS
    ]
    lines = ["**Does it work, and how big is it?**", ""]
    lines += _table(grouped, OUTCOME_COLUMNS, list(OUTCOME_COLUMNS))
    lines += ["", "**What does it cost in time?**", ""]
    lines += _table(grouped, SPEED_COLUMNS, speed_header)
    return "\n".join(lines)


def imports_markdown(results: list[RouteResult]) -> str:
    """What each route's fresh process imported, as a Markdown table.

    The model definitions (``companion.cnn``) get a column of their own: it
    must say "no" everywhere.
    """
    ran = [r for r in results if r.ran]
    if not ran:
        raise ValueError("no route ran: nothing to tabulate")
    lines = [
        "| Route | Frameworks and runtimes imported | Model code imported |",
        "|---|---|---|",
    ]
    for result in ran:
        modules = result.run.modules
        runtimes = [
            name
            for name, loaded in modules.items()
            if loaded and name != "companion.cnn"
        ]
        model_code = "yes" if modules.get("companion.cnn") else "no"
        lines.append(
            f"| {result.route.exporter} | {', '.join(runtimes)} | {model_code} |"
        )
    return "\n".join(lines)
