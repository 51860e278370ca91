"""Files that belong to one page: its own script and style, and data a cell offers for download.

Two small jobs, both on ``html-page-context``:

* ``page_static_files`` (a dict of page -> names in ``_static``) adds a
  script or a style sheet to the pages that need it, and to no other page.
* A cell may offer data as a link whose target is the data itself,
  ``<a download="table.csv" href="data:text/csv;charset=utf-8;base64,...">``.
  In a notebook that link works as it is. In the book it would put the
  data into the page a second time, so this extension writes it to a file
  next to the page (``appendix/table.csv``) and points the link there. The
  file is written from the executed output, so it is what the page shows.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from urllib.parse import unquote_to_bytes

from sphinx.application import Sphinx
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)

#: A download link whose target is a data: URI (as companion's cells write them).
DATA_LINK = re.compile(
    r'<a download="(?P<name>[\w.-]+)" href="data:(?P<media>[^,"]*),(?P<data>[^"]*)"'
)


def decode(media: str, data: str) -> bytes:
    """The bytes of a data: URI's payload (base64 or percent-encoded).

    >>> decode("text/csv;charset=utf-8;base64", "YSxiCg==")
    b'a,b\\n'
    >>> decode("text/plain", "a%20b")
    b'a b'
    """
    if media.endswith(";base64"):
        return base64.b64decode(data, validate=True)
    return unquote_to_bytes(data)


def extract_downloads(body: str, directory: Path) -> tuple[str, list[Path]]:
    """``body`` with each data: download link pointing at a file written into ``directory``."""
    written: list[Path] = []

    def to_file(match: re.Match) -> str:
        name = match["name"]
        target = directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(decode(match["media"], match["data"]))
        written.append(target)
        return f'<a download="{name}" href="{name}"'

    return DATA_LINK.sub(to_file, body), written


def page_context(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    for name in app.config.page_static_files.get(pagename, []):
        if name.endswith(".js"):
            app.add_js_file(name, loading_method="defer")
        else:
            app.add_css_file(name)
    body = context.get("body")
    if app.builder.format != "html" or not body or "data:" not in body:
        return
    directory = Path(app.builder.outdir, pagename).parent
    context["body"], written = extract_downloads(body, directory)
    for path in written:
        LOGGER.info(f"{pagename}: wrote {path.relative_to(app.builder.outdir)}")


def setup(app: Sphinx) -> dict:
    app.add_config_value("page_static_files", {}, "html", types=[dict])
    app.connect("html-page-context", page_context)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
