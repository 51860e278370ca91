"""Tie each chapter's cached outputs to the code and packages that made them.

jupyter-cache keys a notebook on its code cells only, so an edit to the
companion package or a new package version would leave stale outputs in the
cache. This extension fixes that per chapter:

* it finds the modules of ``fingerprint_package`` that a chapter imports,
  and everything those import in turn (``import`` statements and
  ``"package.module"`` strings, which catch modules started in a subprocess),
  with the data files that sit beside them (a module reads its package's
  ``*.toml``, say, through ``importlib.resources``);
* it appends one hidden code cell (tagged ``remove-cell``) holding a hash of
  those files, of ``fingerprint_extra_files`` (the kernel settings) and of the
  environment description, so the cache key changes exactly when something
  the outputs depend on does;
* it tells Sphinx that the chapter depends on those files, so Sphinx re-reads
  the chapter when one of them changes.

The environment description names the Python version, the kernel's
environment variables (``kernel_environment``) and the versions of the
distributions the chapters can import: ``fingerprint_distributions`` and
everything they require, followed through their metadata. Tools installed
only for the tests or only for the docs are not in it, so every nox session
shares one execution cache.

A prose edit changes no code cell, so the cache still matches and nothing
runs; a code edit re-executes only the chapter that holds it.
"""

from __future__ import annotations

import ast
import hashlib
import platform
import re
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ConfigError

from book_sphinx.book_common import (
    FINGERPRINT_MARKER,
    absolute_module,
    is_text_notebook,
    module_file,
)


def import_pattern(package: str) -> re.Pattern:
    """Import statements of ``package`` or its modules in a page's source."""
    return re.compile(rf"^\s*(?:from|import)\s+({package}(?:\.\w+)*)\b", re.MULTILINE)


def module_of(path: Path, package: str) -> str:
    """Dotted module name of a file inside ``package``."""
    parts = list(path.with_suffix("").parts)
    parts = parts[len(parts) - 1 - parts[::-1].index(package) :]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imported_modules(path: Path, package: str) -> set[str]:
    """Modules of ``package`` that ``path`` imports, or names as a string (``-m package.x``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = module_of(path, package)
    # A relative import counts from the package: the module itself for an __init__.
    package_of_file = here if path.name == "__init__.py" else here.rpartition(".")[0]
    module_string = re.compile(rf"^{package}(?:\.\w+)+$")
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = absolute_module(node, package_of_file)
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and module_string.match(node.value)
        ):
            found.add(node.value)
    return {name for name in found if name == package or name.startswith(f"{package}.")}


def dependency_closure(package_root: Path, modules: set[str]) -> list[Path]:
    """Source files of ``modules`` and of every module of the package they import, sorted."""
    package = package_root.name
    seen: dict[Path, None] = {}
    todo = list(modules)
    while todo:
        parts = todo.pop().split(".")
        # Importing a.b.c runs the __init__ of every package on the way.
        for depth in range(1, len(parts) + 1):
            path = module_file(package_root, ".".join(parts[:depth]))
            if path is None or path in seen:
                continue
            seen[path] = None
            todo.extend(imported_modules(path, package))
    return sorted(seen)


def package_data(modules: list[Path]) -> list[Path]:
    """The files other than Python source in the folders of ``modules``, sorted.

    A module may read any of them, and nothing says which: all count, so an
    edit to a folder's data re-executes what imports from that folder.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> for name in ("rows.py", "rows.toml", ".hidden", "notes.pyc"):
    ...     _ = (folder / name).write_text("")
    >>> [p.name for p in package_data([folder / "rows.py"])]
    ['rows.toml']
    """
    folders = sorted({path.parent for path in modules})
    return [
        path
        for folder in folders
        for path in sorted(folder.iterdir())
        if path.is_file() and path.suffix not in (".py", ".pyc") and not path.name.startswith(".")
    ]


def marker_applies(marker: Marker | None, extras: set[str]) -> bool:
    """Whether a requirement with ``marker`` is needed when ``extras`` are asked for."""
    if marker is None:
        return True
    return any(marker.evaluate({"extra": extra}) for extra in extras | {""})


def distribution_closure(roots: list[str]) -> dict[str, str]:
    """``{name: version}`` of the ``roots`` (requirement strings) and all they require.

    Requirements are followed through the installed distributions' metadata,
    with environment markers and extras evaluated as pip would. A root that
    is not installed is an error; a dependency that is not installed (an
    optional one whose marker pip evaluated differently) is left out.
    """
    versions: dict[str, str] = {}
    visited: set[tuple[str, frozenset[str]]] = set()
    todo = [(Requirement(root), True) for root in roots]
    while todo:
        requirement, is_root = todo.pop()
        name = canonicalize_name(requirement.name)
        key = (name, frozenset(requirement.extras))
        if key in visited:
            continue
        visited.add(key)
        try:
            distribution = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            if is_root:
                raise ConfigError(
                    f"fingerprint_distributions names {requirement.name!r}, which is not installed"
                ) from None
            continue
        versions[name] = distribution.version
        for line in distribution.requires or []:
            dependency = Requirement(line)
            if marker_applies(dependency.marker, set(requirement.extras)):
                dependency.marker = None
                todo.append((dependency, False))
    return dict(sorted(versions.items()))


def environment_description(config: Config, checkout: Path) -> str:
    """What, besides the files, a chapter's outputs depend on: one line per item.

    Paths inside ``checkout`` (the repository) are written relative to it, so
    two clones of the book share cache keys (a CI runner and a laptop, say).
    """
    lines = [f"python=={platform.python_version()}"]
    distributions = distribution_closure(config.fingerprint_distributions)
    lines += [f"{name}=={version}" for name, version in distributions.items()]
    for name, value in sorted(getattr(config, "kernel_environment", {}).items()):
        lines.append(f"env {name}={str(value).replace(str(checkout), '<checkout>')}")
    return "\n".join(lines)


def display_name(path: Path, package_root: Path) -> str:
    """``package/x.py`` for package files, the bare file name for anything else."""
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
    names = ", ".join(display_name(p, package_root) for p in modules) or "no package module"
    return (
        "\n\n```{code-cell} ipython3\n"
        ":tags: [remove-cell]\n\n"
        f"{FINGERPRINT_MARKER} so that cached outputs are tied to what made them:\n"
        f"# depends on {names}, the kernel settings and the installed packages.\n"
        f"# fingerprint {value}\n"
        "```\n"
    )


def extension_sources() -> list[Path]:
    """The book's own extensions (this folder): every page is read through them."""
    return sorted(Path(__file__).parent.rglob("*.py"))


def add_fingerprint(app: Sphinx, docname: str, source: list[str]) -> None:
    # Editing an extension changes how every page is read: re-read them all
    # (outputs still come from the execution cache, so nothing re-executes).
    for path in extension_sources():
        app.env.note_dependency(str(path))
    if not is_text_notebook(source[0]):
        return
    config = app.config
    package_root = Path(config.fingerprint_package_dir)
    imports = set(import_pattern(package_root.name).findall(source[0]))
    modules = dependency_closure(package_root, imports)
    modules += package_data(modules)
    files = modules + [Path(p) for p in config.fingerprint_extra_files]
    for path in files:
        app.env.note_dependency(str(path))
    value = fingerprint(files, package_root, config.fingerprint_environment)
    source[0] = source[0].rstrip("\n") + fingerprint_cell(modules, package_root, value)


def describe_environment(app: Sphinx, config: Config) -> None:
    # "-D fingerprint_environment=..." (the tests) takes precedence over the description.
    if not config.fingerprint_environment:
        checkout = Path(config.fingerprint_package_dir).parents[1]
        config.fingerprint_environment = environment_description(config, checkout)


def setup(app: Sphinx) -> dict:
    app.setup_extension("book_sphinx.kernel_setup")
    app.add_config_value("fingerprint_package_dir", "", "env", types=[str])
    app.add_config_value("fingerprint_extra_files", [], "env", types=[list])
    app.add_config_value("fingerprint_distributions", [], "env", types=[list])
    # Filled in on config-inited from the values above; a different value
    # (other versions installed) makes Sphinx re-read every page.
    app.add_config_value("fingerprint_environment", "", "env", types=[str])
    app.connect("config-inited", describe_environment, priority=600)
    app.connect("source-read", add_fingerprint)
    return {"version": "2.0", "parallel_read_safe": True, "parallel_write_safe": True}
