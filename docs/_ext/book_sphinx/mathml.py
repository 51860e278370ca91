"""Render math to MathML at build time, so pages load no math script from a CDN.

Sphinx's default HTML math renderer is MathJax, fetched from a CDN. Browsers
render MathML Core natively, and docutils ships a LaTeX-to-MathML converter,
so this renderer needs neither JavaScript nor a network connection.
"""

from __future__ import annotations

from docutils import nodes
from docutils.utils.math import latex2mathml
from sphinx.application import Sphinx
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)


def to_mathml(latex: str, *, block: bool, node: nodes.Node) -> str:
    try:
        return latex2mathml.tex2mathml(latex, as_block=block)
    except SyntaxError as error:  # docutils reports unsupported LaTeX this way
        LOGGER.warning(f"cannot convert math to MathML: {error} in {latex!r}", location=node)
        return f"<code>{latex}</code>"


def visit_math(self, node: nodes.math) -> None:
    self.body.append(to_mathml(node.astext(), block=False, node=node))
    raise nodes.SkipNode


def visit_displaymath(self, node: nodes.math_block) -> None:
    if node.get("label"):
        self.body.append(f'<div class="math-wrapper" id="{node["ids"][0]}">')
    else:
        self.body.append('<div class="math-wrapper">')
    if node.get("number"):
        self.body.append(f'<span class="eqno">({node["number"]})</span>')
    self.body.append(to_mathml(node.astext(), block=True, node=node))
    self.body.append("</div>")
    raise nodes.SkipNode


def setup(app: Sphinx) -> dict:
    app.add_html_math_renderer(
        "mathml", inline_renderers=(visit_math, None), block_renderers=(visit_displaymath, None)
    )
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
