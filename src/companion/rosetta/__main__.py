"""``python -m companion.rosetta --out DIR``: run the table, write CSV and JSON, print counts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from companion.quiet import quiet_tensorflow_logs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m companion.rosetta",
        description="Run the Rosetta table and write rosetta.csv and rosetta.json.",
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="directory to write into"
    )
    args = parser.parse_args(argv)
    quiet_tensorflow_logs()
    from companion.cli import ensure_output_dir, error_line, fail
    from companion.environment import package_versions
    from companion.rosetta.export import write_files
    from companion.rosetta.runner import run_table, summarize
    from companion.rosetta.table import RosettaError

    directory = ensure_output_dir(args.out)
    try:
        cells, seconds = run_table()
    except RosettaError as error:
        return fail(error_line(error))
    versions = package_versions(["numpy", "torch", "tensorflow", "keras"])
    paths = write_files(cells, directory, versions)
    summary = summarize(cells)
    print(f"{summary['rows']} operations, {len(cells)} cells, {seconds:.1f} s")
    for verdict, count in summary["total"].items():
        print(f"  {verdict:<30} {count:>4}")
    print("wrote", ", ".join(str(path) for path in paths.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
