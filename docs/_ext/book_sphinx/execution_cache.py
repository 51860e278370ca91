"""Merge execution caches, so chapters executed on different machines render as one book.

The book's outputs live in MyST-NB's execution cache (jupyter-cache), keyed
by each notebook's code, fingerprint cell included. A chapter executed on
another runner (a GPU runner for the performance chapter, say) lands in that
runner's cache; copying its records into this machine's cache lets one
rendering take every chapter from the cache. Records are matched by their
notebook hash, so a stale record can never stand in for a changed chapter.

    python -m book_sphinx.execution_cache OTHER_CACHE [INTO_CACHE]

INTO_CACHE defaults to the book's cache, ``docs/_build/.jupyter_cache``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_CACHE = Path(__file__).resolve().parents[2] / "_build" / ".jupyter_cache"


def merge_caches(source: Path, target: Path) -> list[str]:
    """Copy every record of ``source`` that ``target`` lacks; return the URIs copied."""
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    if not (source / "global.db").is_file():
        raise ValueError(f"{source} is not an execution cache (it has no global.db)")
    incoming, into = get_cache(str(source)), get_cache(str(target))
    known = {record.hashkey for record in into.list_cache_records()}
    copied = []
    for record in incoming.list_cache_records():
        if record.hashkey in known:
            continue
        bundle = incoming.get_cache_bundle(record.pk)
        into.cache_notebook_bundle(
            CacheBundleIn(bundle.nb, record.uri, data=record.data), check_validity=False
        )
        copied.append(record.uri)
    return copied


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="the cache to copy records from")
    parser.add_argument("target", type=Path, nargs="?", default=DEFAULT_CACHE, help="into")
    args = parser.parse_args(argv)
    try:
        copied = merge_caches(args.source, args.target)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"copied {len(copied)} record(s) into {args.target}")
    for uri in copied:
        print(f"  {uri}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
