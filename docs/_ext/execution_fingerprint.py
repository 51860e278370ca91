"""Tie each chapter's cached outputs to the code and packages that made them.

jupyter-cache keys a notebook on its code cells only, so an edit to
``src/companion`` or a new package version would leave stale outputs in the
cache. This extension fixes that per chapter:

* it finds the ``companion`` modules a chapter imports, and everything those
  import in turn (``import`` statements and ``"companion.x"`` strings, which
  catch modules started in a subprocess);
* it appends one hidden code cell (tagged ``remove-cell``) holding a hash of
  those files, the kernel configuration and the installed distributions, so
  the cache key changes exactly when something the outputs depend on does;
* it tells Sphinx that the chapter depends on those files, so Sphinx re-reads
  the chapter when one of them changes.

A prose edit changes no code cell, so the cache still matches and nothing
runs; a code edit re-executes only the chapter that holds it.
"""

from __future__ import annotations

import ast
import hashlib
import re
from functools import cache
from importlib import metadata
from pathlib import Path

from sphinx.application import Sphinx

IMPORT_PATTERN = re.compile(r"^\s*(?:from|import)\s+(companion(?:\.\w+)*)\b", re.MULTILINE)
MODULE_STRING = re.compile(r"^companion(?:\.\w+)+$")
NOTEBOOK_MARKERS = ("jupytext:", "kernelspec:")


def is_text_notebook(source: str) -> bool:
    """True for MyST Markdown that MyST-NB executes (it has notebook front matter)."""
    if not source.startswith("---"):
        return False
    front_matter = source.split("---", 2)[1] if source.count("---") >= 2 else ""
    return any(marker in front_matter for marker in NOTEBOOK_MARKERS)


def module_file(package_root: Path, module: str) -> Path | None:
    """Map ``companion.a.b`` to its source file under ``package_root`` (the ``companion`` dir)."""
    parts = module.split(".")[1:]
    base = package_root.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_modules(path: Path) -> set[str]:
    """Companion modules that ``path`` imports, or names as a string (e.g. ``-m companion.x``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = module_of(path)
    # A relative import counts from the package: the module itself for an __init__.
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and MODULE_STRING.match(node.value)
        ):
            found.add(node.value)
    return {name for name in found if name == "companion" or name.startswith("companion.")}


def module_of(path: Path) -> str:
    """Dotted module name of a file inside the ``companion`` package."""
    parts = list(path.with_suffix("").parts)
    parts = parts[len(parts) - 1 - parts[::-1].index("companion") :]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def dependency_closure(package_root: Path, modules: set[str]) -> list[Path]:
    """Source files of ``modules`` and of every companion module they import, sorted."""
    seen: dict[Path, None] = {}
    todo = list(modules)
    while todo:
        module = todo.pop()
        parts = module.split(".")
        # Importing a.b.c runs the __init__ of every package on the way.
        for depth in range(1, len(parts) + 1):
            path = module_file(package_root, ".".join(parts[:depth]))
            if path is None or path in seen:
                continue
            seen[path] = None
            todo.extend(imported_modules(path))
    return sorted(seen)


@cache
def installed_distributions() -> str:
    """Every installed distribution as ``name==version``, one per line, sorted."""
    lines = {
        f"{dist.metadata['Name'].lower()}=={dist.version}"
        for dist in metadata.distributions()
        if dist.metadata["Name"] and dist.metadata["Name"].lower() != "companion"
    }
    return "\n".join(sorted(lines))


def display_name(path: Path, package_root: Path) -> str:
    """``companion/x.py`` for package files, the bare file name for anything else."""
    try:
        return str(path.relative_to(package_root.parent))
    except ValueError:
        return path.name


def fingerprint(files: list[Path], package_root: Path, environment: str) -> str:
    """Hash of the files' names and contents and of the environment description."""
    digest = hashlib.sha256(environment.encode())
    for path in files:
        digest.update(display_name(path, package_root).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def fingerprint_cell(modules: list[Path], package_root: Path, value: str) -> str:
    names = ", ".join(display_name(p, package_root) for p in modules) or "no companion module"
    return (
        "\n\n```{code-cell} ipython3\n"
        ":tags: [remove-cell]\n\n"
        "# Added by the book build so that cached outputs are tied to what made them:\n"
        f"# depends on {names}, the kernel settings and the installed packages.\n"
        f"# fingerprint {value}\n"
        "```\n"
    )


def add_fingerprint(app: Sphinx, docname: str, source: list[str]) -> None:
    if not is_text_notebook(source[0]):
        return
    package_root = Path(app.config.fingerprint_package_dir)
    modules = dependency_closure(package_root, set(IMPORT_PATTERN.findall(source[0])))
    files = modules + [Path(p) for p in app.config.fingerprint_extra_files]
    for path in files:
        app.env.note_dependency(str(path))
    value = fingerprint(files, package_root, app.config.fingerprint_environment)
    source[0] = source[0].rstrip("\n") + fingerprint_cell(modules, package_root, value)


def setup(app: Sphinx) -> dict:
    app.add_config_value("fingerprint_package_dir", "", "env", types=[str])
    app.add_config_value("fingerprint_extra_files", [], "env", types=[list])
    # A different set of installed packages changes this value, and a changed
    # "env" config value makes Sphinx re-read every page.
    app.add_config_value("fingerprint_environment", installed_distributions(), "env", types=[str])
    app.connect("source-read", add_fingerprint)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
