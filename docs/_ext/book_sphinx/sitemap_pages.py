"""Every page in sitemap.xml, after an incremental build too, in a stable order.

sphinx-sitemap collects a page's address as the page is written, so a build
that rewrites one chapter (``nox -s docs -- chapters/07-porting``, or any
incremental build) writes a sitemap of that chapter alone: its open issue
jdillard/sphinx-sitemap#13. Just before it writes the file, this extension
adds every page of the book through sphinx-sitemap's own ``add_html_link``
(so its exclusions and address scheme still apply) and sorts the addresses,
which a parallel build would otherwise queue in the order its workers finish.
"""

from __future__ import annotations

import queue

from sphinx.application import Sphinx
from sphinx_sitemap import add_html_link

#: Before sphinx-sitemap's ``create_sitemap`` (default priority 500) reads the queue.
BEFORE_THE_SITEMAP = 400


def drain(links) -> dict[str, object]:
    """Empty sphinx-sitemap's queue of ``(address, last modified)`` into a dict."""
    found = {}
    while True:
        try:
            link, last_updated = links.get_nowait()
        except queue.Empty:
            return found
        found[link] = last_updated


def complete_the_sitemap(app: Sphinx, exception: Exception | None) -> None:
    links = getattr(app, "sitemap_links", None)  # set by sphinx-sitemap
    if exception is not None or links is None or app.builder.format != "html":
        return
    written = drain(links)
    for docname in sorted(app.env.found_docs):
        add_html_link(app, docname, None, {}, None)
    every = {**drain(links), **written}
    for link in sorted(every):
        links.put((link, every[link]))


def setup(app: Sphinx) -> dict:
    app.setup_extension("sphinx_sitemap")
    app.connect("build-finished", complete_the_sitemap, priority=BEFORE_THE_SITEMAP)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
