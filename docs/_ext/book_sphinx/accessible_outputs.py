"""Figures and tables that every reader can use: alt text, sizes, lazy loading, headers.

**Figures.** Every image a cell produces gets:

* an ``alt`` text. A matplotlib SVG carries its own words: the text of every
  title, axis label, legend entry and annotation, each written as an XML
  comment before the glyphs that draw it, inside groups whose ids say what
  they are (``figure_1 > axes_2 > legend_1 > text_5``). The alt text is read
  from them: the figure's title, then per panel its title, axis labels,
  category names, annotations and legend, so it changes when the figure does.
  An alt text given in the cell's metadata (``mystnb: {image: {alt: ...}}``)
  wins; note that jupyter-cache hashes cell metadata, so adding one
  re-executes that chapter. An image for which no alt text can be found is a
  build warning (``book.figures``), so an error under ``-W``.
* ``width`` and ``height`` (CSS pixels, read from the file), so the page
  does not shift when the image arrives;
* ``loading="lazy"``, so a figure far below the fold waits until the reader
  scrolls near it.

**Tables.** A header cell with no text (the corner of a table whose rows are
labelled in its first column) is written as a data cell: an empty ``<th>``
names nothing, and screen readers announce it as an unnamed header.

>>> describe_svg_text(parse_svg(_EXAMPLE_SVG))
'Loss by epoch; x: epoch; y: loss; key: PyTorch, Keras.'
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform
from sphinx.util import logging
from sphinx.util.images import get_image_size

from book_sphinx.book_common import PRIORITY_ACCESSIBLE_OUTPUTS, WARNING_TYPE

logger = logging.getLogger(__name__)

SVG = "{http://www.w3.org/2000/svg}"
#: CSS pixels per SVG unit: matplotlib writes sizes in points (1 pt = 96/72 px).
UNITS_TO_PX = {"pt": 96 / 72, "px": 1.0, "": 1.0, "in": 96.0, "cm": 96 / 2.54, "mm": 9.6 / 2.54}
#: How many items of one kind (categories, annotations) an alt text lists.
MOST_ITEMS = 10
#: An alt text that only repeats the file name says nothing.
MEANINGLESS_ALT = re.compile(r"^(|png|svg|jpe?g|image|figure|.*\.(png|svg|jpe?g|gif))$", re.I)

_EXAMPLE_SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="100pt" height="50pt">
<g id="figure_1"><g id="axes_1">
 <g id="matplotlib.axis_1"><g id="xtick_1"><g id="text_1"><!-- 0 --></g></g>
  <g id="text_2"><!-- epoch --></g></g>
 <g id="matplotlib.axis_2"><g id="ytick_1"><g id="text_3"><!-- 0.5 --></g></g>
  <g id="text_4"><!-- loss --></g></g>
 <g id="text_5"><!-- Loss by epoch --></g>
 <g id="legend_1"><g id="text_6"><!-- PyTorch --></g><g id="text_7"><!-- Keras --></g></g>
</g></g></svg>"""


def _comment(group: ET.Element) -> str:
    """The text matplotlib wrote as a comment at the start of a ``text_N`` group."""
    for child in group.iter():
        if child.tag is ET.Comment:
            return _plain(child.text or "")
    return ""


def _plain(text: str) -> str:
    r"""Mathtext made readable: ``$\mathdefault{10^{-1}}$`` -> ``10^-1``.

    >>> _plain(r" $\mathdefault{10^{-1}}$ ")
    '10^-1'
    """
    text = text.strip()
    if text.startswith("$") and text.endswith("$"):
        text = re.sub(r"\\mathdefault|\\mathrm|[{}$]", "", text)
    return " ".join(text.split())


def _is_number(text: str) -> bool:
    """A tick or bar label that is a number, with at most a short unit.

    >>> [_is_number(t) for t in ("0.88x", "10^-1", "0.001 s", "25%", "v2", "tf.function")]
    [True, True, True, True, False, False]
    """
    return bool(re.fullmatch(r"[-+−]?[\d.,]+(\^[-−]?\d+)?\s*([a-zµ%×]{1,3})?", text))


class _Texts:
    """The texts of one matplotlib SVG, sorted by what they are."""

    def __init__(self, root: ET.Element) -> None:
        self.figure: list[str] = []
        self.figure_key: list[str] = []
        self.images = sum(1 for _ in root.iter(f"{SVG}image"))
        self.panels: list[dict[str, list[str]]] = []
        # An axis group holds its tick groups (xtick_N or ytick_N) and its label.
        self.axis_of = {
            group.get("id"): "y"
            if any((g.get("id") or "").startswith("ytick") for g in group.iter(f"{SVG}g"))
            else "x"
            for group in root.iter(f"{SVG}g")
            if (group.get("id") or "").startswith("matplotlib.axis")
        }
        self.walk(root, ())

    def walk(self, element: ET.Element, ancestors: tuple[str, ...]) -> None:
        for child in element:
            if child.tag != f"{SVG}g":
                continue
            gid = child.get("id") or ""
            if gid.startswith("axes_"):
                self.panels.append({kind: [] for kind in PANEL_PARTS})
            if gid.startswith("text_"):
                self.add(_comment(child), ancestors)
            else:
                self.walk(child, (*ancestors, gid) if gid else ancestors)

    def add(self, text: str, ancestors: tuple[str, ...]) -> None:
        kinds = [a.rsplit("_", 1)[0] for a in ancestors]
        if not text:
            return
        if not self.panels or "axes" not in kinds:
            (self.figure_key if "legend" in kinds else self.figure).append(text)
        elif "legend" in kinds:
            self.panels[-1]["key"].append(text)
        elif "xtick" in kinds or "ytick" in kinds:
            if not _is_number(text):  # numbers on a scale say little; names do
                self.panels[-1]["categories"].append(text)
        elif kinds[-1] == "matplotlib.axis":
            self.panels[-1][self.axis_of.get(ancestors[-1], "x")].append(text)
        else:
            self.panels[-1]["labels"].append(text)


#: What an alt text says of each panel, in this order, after its title.
PANEL_PARTS = ("x", "y", "categories", "labels", "key")


def describe_svg_text(root: ET.Element) -> str:
    """An alt text from a matplotlib SVG's own words (empty if it has none)."""
    texts = _Texts(root)
    seen: set[str] = set()

    def fresh(items: list[str]) -> list[str]:
        """Items not said before in this alt text, at most MOST_ITEMS of them."""
        kept = []
        for item in items:
            if item not in seen:
                seen.add(item)
                kept.append(item)
        return [*kept[:MOST_ITEMS], "…"] if len(kept) > MOST_ITEMS else kept

    sentences = [" ".join(fresh(texts.figure))]
    titles_only = [p["labels"] for p in texts.panels if p["labels"]]
    if (
        len(titles_only) > 1
        and len(titles_only) == len(texts.panels)
        and all(
            len(labels) == 1 and not any(p[k] for k in PANEL_PARTS if k != "labels")
            for labels, p in zip(titles_only, texts.panels, strict=True)
        )
    ):
        # Small multiples titled one by one (a row of sample images, say).
        what = "images" if texts.images >= len(titles_only) else "panels"
        titles = ", ".join(labels[0] for labels in titles_only)
        sentences.append(f"{len(titles_only)} {what}, titled {titles}")
        return _sentences(sentences)
    for panel in texts.panels:
        # matplotlib draws a panel's title after everything else placed in it.
        title = fresh(panel["labels"][-1:])
        parts = title + [
            f"{kind}: {', '.join(items)}"
            for kind in PANEL_PARTS
            if (items := fresh(annotations(panel) if kind == "labels" else panel[kind]))
        ]
        sentences.append("; ".join(parts))
    if key := fresh(texts.figure_key):
        sentences.append(f"key: {', '.join(key)}")
    return _sentences(sentences)


def annotations(panel: dict[str, list[str]]) -> list[str]:
    """A panel's texts but its title (the last), numbers left out: a bar's value
    means little without its bar."""
    return [text for text in panel["labels"][:-1] if not _is_number(text)]


def _sentences(sentences: list[str]) -> str:
    return " ".join(s if s.endswith((".", "…")) else f"{s}." for s in sentences if s)


def svg_size(root: ET.Element) -> tuple[int, int] | None:
    """Width and height in CSS pixels, from the root's attributes or its viewBox.

    >>> svg_size(ET.fromstring('<svg width="439.2pt" height="172.08pt"/>'))
    (586, 229)
    """
    sizes = []
    for attribute in ("width", "height"):
        match = re.fullmatch(r"\s*([\d.]+)\s*([a-z]*)\s*", root.get(attribute) or "")
        if not match or match.group(2) not in UNITS_TO_PX:
            sizes = []
            break
        sizes.append(round(float(match.group(1)) * UNITS_TO_PX[match.group(2)]))
    if not sizes and root.get("viewBox"):
        _, _, width, height = (float(v) for v in root.get("viewBox").replace(",", " ").split())
        sizes = [round(width), round(height)]
    return (sizes[0], sizes[1]) if sizes else None


def parse_svg(text: str) -> ET.Element:
    """An SVG's root element, with its comments kept (they hold matplotlib's texts)."""
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
    parser.feed(text)
    return parser.close()


def read_svg(path: Path) -> ET.Element | None:
    try:
        return parse_svg(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeError, ET.ParseError):
        return None


def cell_images(doctree: nodes.Node) -> list[nodes.image]:
    """The images inside cell outputs (MyST-NB's ``cell_code_output`` containers)."""
    return [
        image
        for output in doctree.findall(nodes.container)
        if output.get("nb_element") == "cell_code_output"
        for image in output.findall(nodes.image)
    ]


def has_meaningful_alt(image: nodes.image) -> bool:
    alt = (image.get("alt") or "").strip()
    return bool(alt) and alt != image.get("uri") and not MEANINGLESS_ALT.match(alt)


class AccessibleOutputs(SphinxTransform):
    """Alt text, size and lazy loading for cell figures; no empty header cells."""

    default_priority = PRIORITY_ACCESSIBLE_OUTPUTS

    def apply(self, **kwargs) -> None:
        for image in cell_images(self.document):
            self.describe(image)
        for table in self.document.findall(nodes.table):
            empty_header_cells_to_data(table)

    def describe(self, image: nodes.image) -> None:
        path = Path(self.env.srcdir) / image["uri"]
        root = read_svg(path) if path.suffix == ".svg" else None
        size = svg_size(root) if root is not None else get_image_size(str(path))
        if size and "width" not in image and "height" not in image:
            image["width"], image["height"] = str(size[0]), str(size[1])
        image.setdefault("loading", "lazy")
        if not has_meaningful_alt(image):
            alt = describe_svg_text(root) if root is not None else ""
            if alt:
                image["alt"] = alt
            else:
                logger.warning(
                    "a cell's figure has no alt text and none can be read from it: give "
                    "the cell `mystnb: {image: {alt: ...}}` metadata, or a title in the figure",
                    type=WARNING_TYPE,
                    subtype="figures",
                    location=image,
                )


def empty_header_cells_to_data(table: nodes.table) -> None:
    """Mark the empty entries of a table's head; ``corners_to_data_cells`` writes them ``<td>``."""
    for thead in table.findall(nodes.thead):
        for entry in thead.findall(nodes.entry):
            if not entry.astext().strip() and CORNER not in entry["classes"]:
                entry["classes"].append(CORNER)


CORNER = "book-corner"
#: How docutils writes a marked entry: ``<th class="head book-corner"><p></p></th>``.
CORNER_HTML = re.compile(r'<th class="head ' + CORNER + r'">(?:<p></p>)?</th>')


def corners_to_data_cells(app, pagename, templatename, context, doctree) -> None:
    """docutils writes every entry of a table head as ``<th>``: an empty one becomes ``<td>``.

    >>> context = {"body": '<tr><th class="head book-corner"><p></p></th><th class="head">A</th>'}
    >>> corners_to_data_cells(None, "page", "page.html", context, None)
    >>> context["body"]
    '<tr><td class="book-corner"></td><th class="head">A</th>'
    """
    if "body" in context and CORNER in context["body"]:
        context["body"] = CORNER_HTML.sub(f'<td class="{CORNER}"></td>', context["body"])


def setup(app: Sphinx) -> dict:
    app.add_transform(AccessibleOutputs)
    app.connect("html-page-context", corners_to_data_cells)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
