"""Facts every extension of the book shares, kept in one place.

Nothing here imports Sphinx, docutils or any framework, so ``noxfile.py`` and
the tests can import it too (the strict build arguments are defined here once).

>>> is_text_notebook("---\\nkernelspec:\\n  name: python3\\n---\\n# Title")
True
>>> is_text_notebook("# Plain Markdown")
False
"""

from __future__ import annotations

import ast
import os
import platform
from fnmatch import fnmatch
from importlib import metadata
from pathlib import Path

#: ``sphinx-build`` arguments for a strict build: every warning is an error,
#: keep going to report them all, nitpicky references, full tracebacks.
STRICT_SPHINX_ARGS = ("-W", "--keep-going", "-n", "-T")

#: The first line of the hidden cell that ``execution_fingerprint`` appends.
FINGERPRINT_MARKER = "# Added by the book build"

#: Warning type of every warning the book's extensions emit; the subtype names
#: the extension (``suppress_warnings = ["book.claims"]`` would silence one).
WARNING_TYPE = "book"

#: Priorities of the book's read-time transforms, in the order they must run.
#: MyST-NB builds the cells in the parser, before any of these; sphinx-design
#: turns tab sets into HTML in its post-transforms, after all of them.
PRIORITY_COPY_WITH_SETUP = 850  # reads the cells in notebook order, before the tabs
PRIORITY_VERSION_STAMP = 890
PRIORITY_LAUNCH_NOTE = 895  # under the version stamp
PRIORITY_FRAMEWORK_TABS = 900
PRIORITY_ACCESSIBLE_OUTPUTS = 910  # alt text, sizes, lazy loading; after the tabs regroup cells

#: Theme stylesheets the build trims to the rules its pages use (see css_trim.py),
#: relative to the output's ``_static``. (MyST-NB's mystnb.*.css is left alone: MyST-NB
#: copies it after every build and warns when it finds the copy changed.)
TRIMMED_STYLESHEETS = ("styles/pydata-sphinx-theme.css", "sphinx-design.min.css")

#: The front-matter keys that make MyST Markdown a notebook MyST-NB executes.
NOTEBOOK_MARKERS = ("jupytext:", "kernelspec:")


def is_text_notebook(source: str) -> bool:
    """True for MyST Markdown that MyST-NB executes (it has notebook front matter)."""
    if not source.startswith("---") or source.count("---") < 2:  # noqa: PLR2004  opening and closing lines
        return False
    front_matter = source.split("---", 2)[1]
    return any(marker in front_matter for marker in NOTEBOOK_MARKERS)


def is_executed_page(env, docname: str) -> bool:
    """True if Sphinx read ``docname`` as a notebook (MyST-NB keeps its kernelspec)."""
    return "kernelspec" in env.metadata.get(docname, {})


def is_executed_page_matching(env, docname: str, patterns) -> bool:
    """True if ``docname`` matches one of the glob ``patterns`` and is an executed page.

    >>> from types import SimpleNamespace
    >>> env = SimpleNamespace(metadata={"chapters/01": {"kernelspec": {}}, "chapters/02": {}})
    >>> is_executed_page_matching(env, "chapters/01", ["chapters/*"])
    True
    >>> is_executed_page_matching(env, "chapters/01", ["appendix/*"])
    False
    >>> is_executed_page_matching(env, "chapters/02", ["chapters/*"])
    False
    """
    return any(fnmatch(docname, p) for p in patterns) and is_executed_page(env, docname)


def page_option(env, docname: str, key: str, default=None):
    """A page's own option from the ``book:`` table of its front matter.

    For example ``book: {execute_alone: true}`` in a chapter's front matter.
    """
    options = env.metadata.get(docname, {}).get("book") or {}
    return options.get(key, default) if isinstance(options, dict) else default


def package_versions(names, aliases: dict[str, list[str]] | None = None) -> dict[str, str]:
    """Installed versions of ``names`` read from distribution metadata; missing ones left out.

    ``aliases`` maps a name to the distributions that provide it (TensorFlow
    is published as ``tensorflow`` or ``tensorflow-cpu``).

    >>> package_versions(["no-such-distribution"])
    {}
    """
    versions = {}
    for name in names:
        for distribution in (aliases or {}).get(name, [name]):
            try:
                versions[name] = metadata.version(distribution)
                break
            except metadata.PackageNotFoundError:
                continue
    return versions


def cpu_model() -> str:
    """The CPU's model name, or the platform's processor string where /proc is absent."""
    try:
        with Path("/proc/cpuinfo").open(encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_summary() -> str:
    """``Python 3.11.7 on <CPU>, 2 logical CPUs, Linux x86_64``: where outputs were computed."""
    return (
        f"Python {platform.python_version()} on {cpu_model()}, "
        f"{os.cpu_count() or 1} logical CPUs, {platform.system()} {platform.machine()}"
    )


# --- A package's modules, read from its source (fingerprints, slices) ---


def module_file(package_root: Path, module: str) -> Path | None:
    """Map ``package.a.b`` to its source file under ``package_root`` (the package's dir)."""
    parts = module.split(".")[1:]
    base = package_root.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def absolute_module(node: ast.ImportFrom, package_of_file: str) -> str:
    """The module an import names (``from .a import x`` in ``package_of_file``: ``package.a``)."""
    if not node.level:
        return node.module or ""
    base = package_of_file.rsplit(".", node.level - 1)[0] if node.level > 1 else package_of_file
    return f"{base}.{node.module}" if node.module else base
