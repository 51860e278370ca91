"""Merge a cell's printed output the same way on every build.

The kernel sends a cell's prints in chunks whose boundaries depend on timing
(``print("shape", x.shape)`` may arrive as ``"shape"`` and ``" (5,)\\n"``).
With ``nb_merge_streams = True``, MyST-NB 1.4.0 merges the chunks with
``coalesce_streams``, which strips each chunk's trailing whitespace and adds
a newline: a line split between two chunks is shown as two lines, on some
builds only. This extension joins the chunks of each stream exactly first,
then lets MyST-NB's function do the rest (carriage returns, backspaces,
stdout before stderr) on the one chunk left, so the result no longer
depends on timing. ``reader_affordances`` uses the same function for the
notebook download, so the download shows what the page shows.
"""

from __future__ import annotations

from myst_nb.core import render
from myst_nb.core.utils import coalesce_streams
from sphinx.application import Sphinx


def join_stream_chunks(outputs: list) -> list:
    """One output per stream name, where its first chunk was, holding every chunk's text.

    >>> from nbformat.v4 import new_output
    >>> chunks = [new_output("stream", name="stdout", text="shape"),
    ...           new_output("stream", name="stdout", text=" (5,)\\n")]
    >>> [(o.name, o.text) for o in join_stream_chunks(chunks)]
    [('stdout', 'shape (5,)\\n')]
    """
    joined: list = []
    streams: dict = {}
    for output in outputs:
        if output.get("output_type") != "stream":
            joined.append(output)
        elif output["name"] in streams:
            streams[output["name"]]["text"] += output["text"]
        else:
            streams[output["name"]] = output
            joined.append(output)
    return joined


def merge_streams(outputs: list) -> list:
    """Join the stream chunks exactly, then normalize them as MyST-NB does.

    >>> from nbformat.v4 import new_output
    >>> chunks = [new_output("stream", name="stdout", text="a\\n\\n"),
    ...           new_output("stream", name="stdout", text="b\\n")]
    >>> merge_streams(chunks)[0].text
    'a\\n\\nb\\n'
    """
    return coalesce_streams(join_stream_chunks(outputs))


def setup(app: Sphinx) -> dict:
    # MyST-NB calls the name it imported into its renderer module.
    render.coalesce_streams = merge_streams
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
