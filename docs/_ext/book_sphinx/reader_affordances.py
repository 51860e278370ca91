"""What a reader gets besides the page: the notebook download and a note on running it.

* **Notebook download.** Every executed page gets a ``.ipynb`` entry in the
  theme's download menu, next to the ``.md`` source. MyST-NB 1.4.0 writes
  ``_build/jupyter_execute/<page>.ipynb`` *without* outputs when the outputs
  came from the execution cache (it saves the notebook it read, not the one
  merged with the cache), so this extension merges that notebook with its
  cache record itself and publishes the result as
  ``_sources/<page>.ipynb``: the prose, the code and the outputs the page
  shows. The hidden fingerprint cell (see ``execution_fingerprint``) is
  dropped, per-run execution timestamps are removed, cells get numbered
  ids instead of random ones and a cell's printed chunks are merged as on
  the page (see ``stream_merging``), so two builds of the same outputs give
  the same file.
* **Launch-locally note.** A collapsed "Run this chapter on your machine"
  box under the version stamp of every executed chapter, with the commands
  that install the pinned packages and run the downloaded notebook.

A page whose notebook has no cache record (its execution failed) gets no
download and a build warning, so under ``-W`` the build fails rather than
publish a notebook without outputs.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from docutils import nodes
from jupyter_cache import get_cache
from myst_nb.sphinx_ import NbMetadataCollector
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx_design.shared import create_component

from book_sphinx.book_common import (
    FINGERPRINT_MARKER,
    PRIORITY_LAUNCH_NOTE,
    WARNING_TYPE,
)
from book_sphinx.page_transforms import ExecutedPageTransform, insert_under_title
from book_sphinx.stream_merging import merge_streams

LOGGER = logging.getLogger(__name__)

# Cell metadata written by the executor that changes on every run.
VOLATILE_CELL_METADATA = ("execution",)


def executed_successfully(env, docname: str) -> bool:
    data = NbMetadataCollector.get_exec_data(env, docname)
    return bool(data and data.get("succeeded"))


def notebook_with_outputs(app: Sphinx, docname: str) -> nbformat.NotebookNode:
    """The page's notebook merged with its execution-cache record (raises KeyError if none)."""
    written = Path(app.outdir).parent / "jupyter_execute" / f"{docname}.ipynb"
    notebook = nbformat.read(written, as_version=4)
    cache = get_cache(app.config.nb_execution_cache_path)
    _, merged = cache.merge_match_into_notebook(notebook)
    merged.cells = [
        cell
        for cell in merged.cells
        if not (cell.cell_type == "code" and cell.source.startswith(FINGERPRINT_MARKER))
    ]
    for index, cell in enumerate(merged.cells):
        for key in VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code" and app.config.nb_merge_streams:
            cell.outputs = merge_streams(cell.outputs)  # as the page shows them
        # Reading MyST Markdown gives every cell a random id; number them instead.
        cell.id = f"cell-{index}"
    return merged


def publish_notebook(app: Sphinx, pagename: str, templatename, context: dict, doctree) -> None:
    """Write ``_sources/<page>.ipynb`` and tell the theme to offer it for download."""
    if doctree is None or not executed_successfully(app.env, pagename):
        return
    try:
        notebook = notebook_with_outputs(app, pagename)
    except (FileNotFoundError, KeyError) as error:
        LOGGER.warning(
            f"no executed notebook to offer for download ({error!r})",
            location=pagename,
            type=WARNING_TYPE,
            subtype="reader",
        )
        return
    relative = f"{pagename}.ipynb"
    target = Path(app.outdir) / "_sources" / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    text = nbformat.writes(notebook)
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")
    # sphinx-book-theme adds a ".ipynb" entry to its download menu when this is set.
    context["ipynb_source"] = relative


def launch_note(notebook_name: str, source_path: str) -> nodes.Element:
    """A collapsed box with the commands that run this chapter on a reader's machine."""

    def paragraph(*parts: nodes.Node) -> nodes.paragraph:
        return nodes.paragraph("", "", *parts)

    def code(text: str) -> nodes.literal_block:
        return nodes.literal_block(text, text, language="bash")

    box = create_component(
        "dropdown",
        opened=False,
        type="dropdown",
        has_title=True,
        icon=None,
        chevron=None,
        container_classes=["sd-mb-3", "launch-locally"],
        title_classes=[],
        body_classes=[],
    )
    box += nodes.rubric("", "Run this chapter on your machine")
    box += paragraph(
        nodes.Text("Download this page as a notebook with the download button at the top (the "),
        nodes.literal(".ipynb", ".ipynb"),
        nodes.Text(" entry holds the code and the outputs shown here), or take its source, "),
        nodes.literal(source_path, source_path),
        nodes.Text(
            ", from the book's repository. In a clone of the repository, install the "
            "pinned versions that produced these outputs into a fresh virtual "
            "environment:"
        ),
    )
    box += code('python3 -m pip install -c constraints.txt -e ".[docs,deploy]"')
    box += paragraph(
        nodes.Text(
            "Then open the notebook in Jupyter or VS Code with that environment's "
            "kernel, or run every cell from the command line (cells tagged "
        ),
        nodes.literal("raises-exception", "raises-exception"),
        nodes.Text(" raise on purpose and do not stop the run):"),
    )
    box += code(f"jupyter execute {notebook_name}")
    box += paragraph(
        nodes.Text("Timings will differ on your machine; every other output should match.")
    )
    return box


class LaunchNoteTransform(ExecutedPageTransform):
    """Put the launch-locally note under the version stamp of every executed chapter."""

    default_priority = PRIORITY_LAUNCH_NOTE
    patterns_option = "launch_note_patterns"

    def apply_to_page(self, docname: str) -> None:
        source = self.env.doc2path(docname)
        source_path = Path(source).relative_to(Path(self.env.srcdir).parent).as_posix()
        note = launch_note(f"{Path(docname).name}.ipynb", source_path)
        stamp = next(
            (n for n in self.document.findall(nodes.container) if "version-stamp" in n["classes"]),
            None,
        )
        if stamp is None:
            insert_under_title(self.document, note)
        else:
            stamp.parent.insert(stamp.parent.index(stamp) + 1, note)


def setup(app: Sphinx) -> dict:
    app.setup_extension("sphinx_design")
    app.add_config_value("launch_note_patterns", ["chapters/*"], "env", types=[list])
    app.add_transform(LaunchNoteTransform)
    # Before sphinx-book-theme builds its header buttons (priority 501).
    app.connect("html-page-context", publish_notebook, priority=400)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
