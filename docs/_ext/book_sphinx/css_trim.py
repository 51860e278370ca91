"""Trim the theme's stylesheet to the rules the built pages can use.

pydata-sphinx-theme ships one 377 KB stylesheet (Bootstrap, FontAwesome's
2,500 icon classes, styles for every component the theme offers), and
sphinx-design one of 55 KB (cards, grids, buttons, badges in every colour);
every page loads both before it can paint. After the build, this extension
rewrites their copies in ``_static`` without the rules no page of this book
can match.

A rule is kept when *any* of its selectors may match. A selector may match
when every class, id, element and attribute it names occurs in some built
page or, for what scripts add at run time (``show``, ``tooltip``, the
search results), in some script the pages load, counted by name as a whole
word. Pseudo-classes and their arguments (``:hover``, ``:not(.x)``,
``:has(...)``) are ignored, which keeps more, never less. At-rules other
than ``@media``, ``@supports``, ``@layer`` and ``@container`` (whose
contents are trimmed the same way) are kept as they are, except the
``@font-face`` rules of FontAwesome, whose glyphs ``_static/icons.css``
replaces.

A stylesheet is always trimmed from its original file, so an
incremental build, which writes only some pages, trims the same way as a full
one. Which files are trimmed is ``TRIMMED_STYLESHEETS`` in ``book_common``.

>>> rules = parse_css("@media (min-width:1px){.a{x:1}.b:hover{x:2}}.c,.d>p{x:3}#e{x:4}")
>>> used = Usage(classes={"b", "d"}, ids=set(), tags={"p"}, attributes=set(), words=set())
>>> serialise(trim(rules, used))
'@media (min-width:1px){.b:hover{x:2}}.c,.d>p{x:3}'
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

from book_sphinx.book_common import TRIMMED_STYLESHEETS, WARNING_TYPE

logger = logging.getLogger(__name__)

#: At-rules whose blocks hold rules that are trimmed like the top level.
GROUPING_AT_RULES = ("@media", "@supports", "@layer", "@container")
#: Font faces no page needs once icons.css draws the icons.
UNUSED_FONT = re.compile(r"font-family:\s*['\"]?Font Awesome", re.I)
#: Classes Bootstrap's script builds from parts (``bs-${name}-auto``), never whole.
BUILT_BY_SCRIPTS = ("bs-tooltip-", "bs-popover-")


@dataclass
class Rule:
    """A qualified rule (``prelude`` the selectors) or an at-rule; ``children`` for groups."""

    prelude: str
    body: str | None = None  # declarations, or None for a grouping rule
    children: list[Rule] = field(default_factory=list)


def _skip_string_or_comment(css: str, i: int) -> int:
    """Index after the string or comment starting at ``i`` (or ``i`` if none starts there)."""
    if css.startswith("/*", i):
        end = css.find("*/", i + 2)
        return len(css) if end < 0 else end + 2
    if css[i] in "\"'":
        quote, j = css[i], i + 1
        while j < len(css) and css[j] != quote:
            j += 2 if css[j] == "\\" else 1
        return j + 1
    return i


def _matching_brace(css: str, i: int) -> int:
    """Index of the ``}`` closing the ``{`` at ``i``."""
    depth, j = 0, i
    while j < len(css):
        skipped = _skip_string_or_comment(css, j)
        if skipped != j:
            j = skipped
            continue
        if css[j] == "{":
            depth += 1
        elif css[j] == "}":
            depth -= 1
            if depth == 0:
                return j
        j += 1
    raise ValueError("unbalanced braces in stylesheet")


def parse_css(css: str) -> list[Rule]:
    """Split a stylesheet into rules, comments dropped, groups parsed recursively."""
    rules: list[Rule] = []
    i, start = 0, 0
    while i < len(css):
        skipped = _skip_string_or_comment(css, i)
        if skipped != i:
            if css.startswith("/*", i) and not css[start:i].strip():
                start = skipped  # a comment between rules: drop it
            i = skipped
            continue
        char = css[i]
        if char == ";" and css[start:i].strip().startswith("@"):
            rules.append(Rule(css[start:i].strip() + ";"))  # @charset, @import
            start = i = i + 1
        elif char == "{":
            end = _matching_brace(css, i)
            prelude, body = css[start:i].strip(), css[i + 1 : end]
            if prelude.lower().startswith(GROUPING_AT_RULES):
                rules.append(Rule(prelude, None, parse_css(body)))
            else:
                rules.append(Rule(prelude, body))
            start = i = end + 1
        else:
            i += 1
    return rules


def serialise(rules: list[Rule]) -> str:
    parts = []
    for rule in rules:
        if rule.body is None and not rule.children and rule.prelude.endswith(";"):
            parts.append(rule.prelude)
        elif rule.body is None:
            parts.append(f"{rule.prelude}{{{serialise(rule.children)}}}")
        else:
            parts.append(f"{rule.prelude}{{{rule.body}}}")
    return "".join(parts)


@dataclass
class Usage:
    """What the built pages contain, and the words of the scripts they load."""

    classes: set[str]
    ids: set[str]
    tags: set[str]
    attributes: set[str]
    words: set[str]

    def digest(self) -> str:
        """A hash of every name: equal usages trim a stylesheet the same way.

        >>> a = Usage({"x", "y"}, set(), {"p"}, set(), set())
        >>> a.digest() == Usage({"y", "x"}, set(), {"p"}, set(), set()).digest()
        True
        >>> a.digest() == Usage({"x"}, {"y"}, {"p"}, set(), set()).digest()
        False
        """
        names = [sorted(getattr(self, kind)) for kind in ("classes", "ids", "tags", "attributes")]
        return hashlib.sha256(json.dumps([*names, sorted(self.words)]).encode()).hexdigest()

    def has(self, kind: str, name: str) -> bool:
        return (
            name in getattr(self, kind)
            or name in self.words
            or (kind == "classes" and name.startswith(BUILT_BY_SCRIPTS))
        )


def split_selectors(prelude: str) -> list[str]:
    """Split a selector list on top-level commas (not those inside ``:is(a, b)``)."""
    selectors, depth, start = [], 0, 0
    for i, char in enumerate(prelude):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            selectors.append(prelude[start:i])
            start = i + 1
    selectors.append(prelude[start:])
    return [s.strip() for s in selectors if s.strip()]


FUNCTIONAL_PSEUDO = re.compile(r"::?[\w-]+\(")
SIMPLE_PSEUDO = re.compile(r"::?[\w-]+")
TOKEN = re.compile(
    r"(?P<class>\.(?:[\w-]|\\.)+)|(?P<id>#(?:[\w-]|\\.)+)|(?P<attribute>\[\s*[\w-]+)"
    r"|(?P<tag>(?<![\w\\.#-])[a-zA-Z][\w-]*)"
)


def _without_pseudo(selector: str) -> str:
    """The selector without pseudo-classes or pseudo-elements and their arguments."""
    while match := FUNCTIONAL_PSEUDO.search(selector):
        depth, j = 1, match.end()
        while j < len(selector) and depth:
            depth += {"(": 1, ")": -1}.get(selector[j], 0)
            j += 1
        selector = selector[: match.start()] + " " + selector[j:]
    attribute_names = re.sub(r"\[[^\]]*\]", lambda m: m.group(0).split("=")[0], selector)
    return SIMPLE_PSEUDO.sub(" ", attribute_names)


def may_match(selector: str, used: Usage) -> bool:
    """Whether every name in ``selector`` (pseudo-classes aside) occurs in the pages.

    >>> used = Usage({"nav"}, set(), {"a", "html"}, {"data-theme"}, {"show"})
    >>> [may_match(s, used) for s in (
    ...     ".nav>a:hover", ".show", ".fa-sun", "html[data-theme=dark] .nav", "a:not(.x)", "*")]
    [True, True, False, True, True, True]
    """
    plain = _without_pseudo(selector)
    for match in TOKEN.finditer(plain):
        kind, text = match.lastgroup, match.group(0)
        name = text.lstrip(".#[ ").replace("\\", "")
        kinds = {"class": "classes", "id": "ids", "attribute": "attributes", "tag": "tags"}
        if kind == "tag":
            name = name.lower()
        if not used.has(kinds[kind], name):
            return False
    return True


def trim(rules: list[Rule], used: Usage) -> list[Rule]:
    kept = []
    for rule in rules:
        at_rule = rule.prelude.startswith("@")
        if rule.body is None and rule.children:
            children = trim(rule.children, used)
            if children:
                kept.append(Rule(rule.prelude, None, children))
        elif at_rule:
            font_face = rule.prelude.lower().startswith("@font-face")
            if font_face and UNUSED_FONT.search(rule.body or ""):
                continue
            kept.append(rule)
        elif "{" in (rule.body or "") or any(
            may_match(s, used) for s in split_selectors(rule.prelude)
        ):
            kept.append(rule)
    return kept


class PageScan(HTMLParser):
    """The element names, attribute names, classes and ids of one page, and the ``.js``
    files its scripts load: their ``src``, or the files an inline script names (the
    book's layout loads the theme's scripts once the page is idle).

    >>> scan = PageScan()
    >>> scan.feed('<div class="a b" id="x"><script>load("y.js")</script></div>')
    >>> sorted(scan.classes), sorted(scan.ids), sorted(scan.tags), sorted(scan.script_names)
    (['a', 'b'], ['x'], ['div', 'script'], ['y.js'])
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.classes: set[str] = set()
        self.ids: set[str] = set()
        self.script_names: set[str] = set()
        self._in_inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        values = dict(attrs)
        self.attributes.update(values)
        self.classes.update((values.get("class") or "").split())
        if values.get("id"):
            self.ids.add(values["id"])
        if tag == "script":
            if values.get("src"):
                self.script_names.add(values["src"])
            else:
                self._in_inline_script = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_inline_script = False

    def handle_data(self, data: str) -> None:
        if self._in_inline_script:
            self.script_names.update(re.findall(r"[\"']([\w./-]+\.js)\b", data))


def scan_page(page: Path, outdir: Path) -> dict[str, list[str]]:
    """What :class:`PageScan` finds in ``page``, with script names resolved to files
    under ``outdir`` (relative paths, so the record can be cached)."""
    scan = PageScan()
    scan.feed(page.read_text(encoding="utf-8"))
    scripts = set()
    for written in scan.script_names:
        name = written.split("?")[0]
        for base in (page.parent, outdir / "_static"):
            candidate = (base / name).resolve()
            if candidate.is_file() and candidate.is_relative_to(outdir.resolve()):
                scripts.add(candidate.relative_to(outdir.resolve()).as_posix())
                break
    found = {
        "tags": scan.tags,
        "attributes": scan.attributes,
        "classes": scan.classes,
        "ids": scan.ids,
        "scripts": scripts,
    }
    return {kind: sorted(names) for kind, names in found.items()}


def page_usage(outdir: Path, cache_file: Path | None = None) -> Usage:
    """Classes, ids, elements and attributes of every built page, and its scripts' words.

    With ``cache_file``, a page whose size and modification time are those of
    the last build is not parsed again: a build that writes nothing new trims in
    a fraction of a second.
    """
    cached = {}
    if cache_file is not None and cache_file.is_file():
        cached = json.loads(cache_file.read_text(encoding="utf-8"))
    records = {}
    for page in sorted(outdir.rglob("*.html")):
        relative = page.relative_to(outdir)
        if relative.parts[0] == "_static":
            continue  # templates the theme ships, not pages
        stat = page.stat()
        stamp = [stat.st_size, stat.st_mtime_ns]
        record = cached.get(relative.as_posix())
        if record is None or record["stamp"] != stamp:
            record = {"stamp": stamp, **scan_page(page, outdir)}
        records[relative.as_posix()] = record
    if cache_file is not None:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        cache_file.write_text(json.dumps(records), encoding="utf-8")
    used = {"tags": {"html", "body", "*"}, "attributes": set(), "classes": set(), "ids": set()}
    scripts: set[str] = set()
    for record in records.values():
        for kind, names in used.items():
            names.update(record[kind])
        scripts.update(record["scripts"])
    words: set[str] = set()
    for script in sorted(scripts):
        text = (outdir / script).read_text(encoding="utf-8")
        words.update(re.findall(r"[A-Za-z][\w-]*", text))
    return Usage(used["classes"], used["ids"], used["tags"], used["attributes"], words)


def static_source(app: Sphinx, relative: str) -> Path | None:
    """The original of a static file, from the theme or ``html_static_path`` (where
    extensions such as sphinx-design add theirs); the output's copy may be trimmed already."""
    theme = getattr(app.builder, "theme", None)
    directories = [Path(d, "static") for d in (theme.get_theme_dirs() if theme else [])]
    directories += [Path(app.confdir, d) for d in app.config.html_static_path]
    for directory in directories:
        candidate = directory / relative
        if candidate.is_file():
            return candidate
    return None


def trim_stylesheets(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    used = page_usage(outdir, Path(app.doctreedir) / "css-usage.json")
    # Parsing the theme's 377 KB is most of the cost: keep each result for the
    # same original and the same usage (a build that changed no page's names).
    results_file = Path(app.doctreedir) / "css-trimmed.json"
    results = json.loads(results_file.read_text(encoding="utf-8")) if results_file.is_file() else {}
    for relative in TRIMMED_STYLESHEETS:
        source = static_source(app, relative)
        target = outdir / "_static" / relative
        if source is None or not target.is_file():
            logger.warning(
                "cannot trim %s: neither the theme nor html_static_path has it",
                relative,
                type=WARNING_TYPE,
                subtype="css_trim",
            )
            continue
        css = source.read_text(encoding="utf-8")
        css = re.sub(r"/\*# sourceMappingURL=[^*]*\*/", "", css)
        key = hashlib.sha256(css.encode()).hexdigest() + used.digest()
        known = results.get(relative, {})
        if known.get("key") != key:
            known = results[relative] = {"key": key, "css": serialise(trim(parse_css(css), used))}
        trimmed = known["css"]
        target.write_text(trimmed + "\n", encoding="utf-8")
        logger.info("trimmed %s from %d to %d bytes", relative, len(css), len(trimmed))
    results_file.write_text(json.dumps(results), encoding="utf-8")


def setup(app: Sphinx) -> dict:
    app.connect("build-finished", trim_stylesheets)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
