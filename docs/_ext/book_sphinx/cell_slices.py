"""For each code cell, the earlier cells it needs: the slice a reader can paste on its own.

A reader who copies one cell from the middle of a chapter gets a
``NameError``: the cell uses names earlier cells defined. The slice of a
cell is that cell with every earlier cell it needs, followed back through
what those need in turn, in the order they ran, and nothing else.

The analysis is static and errs towards including a cell, never towards
leaving one out:

* a cell *defines* the names it binds (assignments, imports, ``def``,
  ``class``, loop and ``with`` targets) and *uses* every other name it reads,
  inside function bodies too (a function defined earlier reads its globals
  when a later cell calls it);
* a cell that may change an object in place *modifies* that name: it
  assigns to an attribute or an item of it (``model.training = False``,
  ``weights[0] = 1``), deletes one, or calls one of its methods as a
  statement (``optimizer.step()``, ``losses.append(x)``), whose result is
  thrown away, which is what in-place methods look like, or passes it to a
  function called as a statement (``load_weights(model, path)``; builtins
  such as ``print`` aside), or passes it to a function defined in the page
  whose body changes one of its parameters, however the call is written
  (``history = compile_and_fit(model)``), or to the parameter of a function
  of the book's package that changes it (``history = train_torch(model,
  ...)``, see ``PackageFunctions``). A loop that changes its variable
  changes what it loops over (``for name, model in models.items():``).
  A later cell that uses the name needs every earlier cell that defined or
  modified it.
  Modules are the exception: ``torch.manual_seed(0)`` as a statement does
  not tie every later cell that uses ``torch`` to this one;
* a star import (``from x import *``) may define anything: every later cell
  needs it;
* a cell tagged ``raises-exception`` stops part-way, so no other cell's
  slice includes it (a later cell that needs a name only it defines gets no
  slice, see ``Slice.complete``);
* a cell tagged ``chapter-setup`` (the standard first cell: seeds, threads,
  quiet logs) sets state that no name shows, so every slice starts with it.

What the analysis misses (a function that changes a global, an object
changed through another name) the reproduction tests catch: each slice is
run on its own in a fresh kernel and must print what the page shows.

>>> cells = [Cell("import math"), Cell("r = 2.0"), Cell("n = 3"),
...          Cell("area = math.pi * r ** 2"), Cell("print(round(area, 2))")]
>>> slice_of(cells, 4).indices
[0, 1, 3, 4]
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass, field
from pathlib import Path

from book_sphinx.book_common import absolute_module, module_file

BUILTINS = frozenset(dir(builtins)) | {"__name__", "__file__", "display", "get_ipython"}
#: Tags of cells that no other cell's slice may include.
STOPS_PART_WAY = "raises-exception"
#: The tag of a chapter's standard first cell (seeds, threads, quiet logs): it
#: changes state no name shows, so every slice of the page starts with it.
CHAPTER_SETUP = "chapter-setup"
#: The tag of a slow cell (ten seconds or more on the build machine: a benchmark,
#: an export, a training run): a snippet or a script that would repeat it is
#: labelled instead of offered. Tags, unlike measured times, give the same
#: labels on every build.
HEAVY = "heavy"


@dataclass
class Cell:
    """One code cell: its source and tags."""

    source: str
    tags: tuple[str, ...] = ()


@dataclass
class CellNames:
    """What a cell binds, reads, and may change in place."""

    defines: set[str] = field(default_factory=set)
    #: The names the cell binds by importing them (modules, mostly).
    imports: set[str] = field(default_factory=set)
    uses: set[str] = field(default_factory=set)
    modifies: set[str] = field(default_factory=set)
    #: The names whose method the cell calls as a statement (a subset of ``modifies``).
    calls: set[str] = field(default_factory=set)
    #: Functions the cell defines whose bodies change one of their parameters.
    mutators: set[str] = field(default_factory=set)
    #: Each function called by name, with the plain names passed to it.
    passed: dict[str, set[str]] = field(default_factory=dict)
    #: Each name imported with ``from MODULE import name``: where it comes from.
    imported_from: dict[str, str] = field(default_factory=dict)
    #: Each call of a function by name: the name, and the plain names passed
    #: by position (None for anything else) and by keyword.
    call_sites: list[tuple[str, list[str | None], dict[str, str]]] = field(default_factory=list)
    star_import: bool = False
    #: The source could not be parsed (IPython magics, say): treat it as needing everything.
    opaque: bool = False


def call_arguments(call: ast.Call) -> tuple[list[str | None], dict[str, str]]:
    """The plain names a call passes by position (None for anything else) and by keyword."""
    positional = [a.id if isinstance(a, ast.Name) else None for a in call.args]
    keywords = {k.arg: k.value.id for k in call.keywords if k.arg and isinstance(k.value, ast.Name)}
    return positional, keywords


def root_name(node: ast.AST) -> str | None:
    """``model`` for ``model.layer[0].weight``; None when there is no plain name at the root."""
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


class NameCollector(ast.NodeVisitor):
    """Collect the names a cell binds, reads and changes, in one pass."""

    def __init__(self) -> None:
        self.names = CellNames()

    def bind(self, name: str) -> None:
        self.names.defines.add(name.split(".", maxsplit=1)[0])

    def use(self, name: str) -> None:
        # A name the cell bound before reading it comes from the cell itself.
        if name not in self.names.defines:
            self.names.uses.add(name)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Store):
            self.bind(node.id)
        elif isinstance(node.ctx, ast.Del):
            self.names.modifies.add(node.id)
        else:
            self.use(node.id)

    # The value is evaluated before the targets are bound: visit it first.
    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for target in node.targets:
            self.visit(target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
        self.visit(node.annotation)
        self.visit(node.target)

    def visit_For(self, node: ast.For) -> None:
        self.visit(node.iter)
        self.visit(node.target)
        before = set(self.names.modifies)
        for child in [*node.body, *node.orelse]:
            self.visit(child)
        # ``for model in (a, b):`` makes ``model`` another name for a and b, and
        # ``for name, model in models.items():`` for the values of ``models``:
        # what the loop changes through them, it changes in what it loops over.
        targets = {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}
        if targets & (self.names.modifies - before):
            if isinstance(node.iter, ast.Tuple | ast.List):
                self.names.modifies |= {e.id for e in node.iter.elts if isinstance(e, ast.Name)}
            elif root := root_name(
                node.iter.func if isinstance(node.iter, ast.Call) else node.iter
            ):
                self.names.modifies.add(root)

    visit_AsyncFor = visit_For

    def visit_withitem(self, node: ast.withitem) -> None:
        self.visit(node.context_expr)
        if node.optional_vars is not None:
            self.visit(node.optional_vars)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        self.visit(node.target)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.bind(alias.asname or alias.name)
            self.names.imports.add((alias.asname or alias.name).split(".")[0])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name == "*":
                self.names.star_import = True
            else:
                self.bind(alias.asname or alias.name)
                self.names.imports.add(alias.asname or alias.name)
                if not node.level and node.module:
                    self.names.imported_from[alias.asname or alias.name] = (
                        f"{node.module}.{alias.name}"
                    )

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.bind(node.name)
        arguments = {a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)}
        inner = NameCollector()
        for child in [*node.body, *node.decorator_list, *node.args.defaults]:
            inner.visit(child)
        # What the body reads but neither binds itself nor takes as an argument.
        for name in inner.names.uses - inner.names.defines - arguments:
            self.use(name)
        self.names.modifies |= inner.names.modifies - inner.names.defines - arguments
        self.names.star_import |= inner.names.star_import
        if inner.names.modifies & arguments:
            self.names.mutators.add(node.name)
        for function, names in inner.names.passed.items():
            self.names.passed.setdefault(function, set()).update(names - arguments)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name):
            names = {
                a.id
                for a in [*node.args, *(k.value for k in node.keywords)]
                if isinstance(a, ast.Name)
            }
            self.names.passed.setdefault(node.func.id, set()).update(names)
            self.names.call_sites.append((node.func.id, *call_arguments(node)))
        self.generic_visit(node)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        arguments = {a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)}
        inner = NameCollector()
        inner.visit(node.body)
        for name in inner.names.uses - arguments:
            self.use(name)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.bind(node.name)
        inner = NameCollector()
        for child in [*node.bases, *node.keywords, *node.body, *node.decorator_list]:
            inner.visit(child)
        for name in inner.names.uses - inner.names.defines:
            self.use(name)
        self.names.modifies |= inner.names.modifies - inner.names.defines

    def visit_comprehension(self, node: ast.comprehension) -> None:
        self.visit(node.iter)
        self.visit(node.target)
        for condition in node.ifs:
            self.visit(condition)

    def visit_comprehension_like(self, node) -> None:
        inner = NameCollector()
        for generator in node.generators:
            inner.visit(generator)
        for part in ("elt", "key", "value"):
            if hasattr(node, part):
                inner.visit(getattr(node, part))
        for name in inner.names.uses - inner.names.defines:
            self.use(name)

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = visit_comprehension_like

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.ctx, ast.Store | ast.Del) and (root := root_name(node)):
            self.names.modifies.add(root)
            self.use(root)
            # The index or attribute chain may read other names: x[i] = ...
            for child in ast.iter_child_nodes(node):
                if not isinstance(child, ast.expr_context):
                    self.visit(child)
            return
        self.generic_visit(node)

    visit_Subscript = visit_Attribute

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        if root := root_name(node.target):
            self.names.modifies.add(root)
            self.use(root)
        if not isinstance(node.target, ast.Name):
            self.generic_visit(node.target)

    def visit_Expr(self, node: ast.Expr) -> None:
        # A call whose result is thrown away is how in-place changes look: a
        # method's object (optimizer.step()), or a function's arguments
        # (load_weights(model, path)); printing and displaying change nothing.
        call = node.value
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute):
            root = root_name(call.func.value)
            if root:
                self.names.modifies.add(root)
                self.names.calls.add(root)
        if isinstance(call, ast.Call) and not (
            isinstance(call.func, ast.Name) and call.func.id in BUILTINS
        ):
            for argument in [*call.args, *(k.value for k in call.keywords)]:
                if isinstance(argument, ast.Name):
                    self.names.modifies.add(argument.id)
        self.generic_visit(node)


def cell_names(source: str) -> CellNames:
    """The names one cell's source binds, reads and may change in place."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return CellNames(opaque=True)
    collector = NameCollector()
    collector.visit(tree)
    names = collector.names
    names.uses -= BUILTINS
    return names


@dataclass
class Slice:
    """A cell's slice: the indices of the cells to run, in order, ending with the cell itself."""

    indices: list[int]
    #: Names the cell needs that no earlier includable cell defines (so the slice cannot work).
    missing: set[str] = field(default_factory=set)

    @property
    def complete(self) -> bool:
        return not self.missing


def slice_of(cells: list[Cell], index: int, names: list[CellNames] | None = None) -> Slice:
    """The earlier cells ``cells[index]`` needs, followed back transitively, and the cell."""
    names = names or [cell_names(cell.source) for cell in cells]
    needed = {index}
    missing: set[str] = set()
    todo = [index]
    while todo:
        current = todo.pop()
        wanted = set(names[current].uses)
        for earlier in range(current - 1, -1, -1):
            if STOPS_PART_WAY in cells[earlier].tags:
                continue
            other = names[earlier]
            binds = other.defines & wanted
            changes = other.modifies & wanted
            relevant = binds or changes or other.star_import or other.opaque
            if relevant and earlier not in needed:
                needed.add(earlier)
                todo.append(earlier)
            # Earlier definitions of a name bound here are still needed if this
            # cell only changed it; once a cell binds it afresh, look no further.
            wanted -= binds - other.uses
        missing |= {n for n in wanted if not any_definer(names, cells, n, current)}
    for setup in (i for i in range(index) if CHAPTER_SETUP in cells[i].tags):
        if setup not in needed:
            needed |= set(slice_of(cells, setup, names).indices)
    return Slice(sorted(needed), missing)


def any_definer(names: list[CellNames], cells: list[Cell], name: str, before: int) -> bool:
    return any(
        name in names[i].defines or names[i].star_import or names[i].opaque
        for i in range(before)
        if STOPS_PART_WAY not in cells[i].tags
    )


class PackageFunctions:
    """Which functions of a package change one of their parameters, read from its source.

    A page imports most of its functions from the book's package, and one
    that trains a model in place (``history = train_torch(model, ...)``)
    changes ``model`` however the call is written. The function's source is
    read, not imported. It changes a parameter that it assigns an attribute or
    an item of, calls a method of as a statement (``model.train()``), or
    passes to a function of the package that changes it in turn (followed
    through re-exports such as ``from .models import port_weights``).
    Its other statement calls are its own business: ``check_int("seed",
    seed)`` validates and ``torch.manual_seed(seed)`` seeds; neither changes
    ``seed``.

    >>> PackageFunctions(None).changed_parameters("json.dumps")
    ()
    """

    def __init__(self, package_root: Path | None) -> None:
        self.root = package_root
        self.package = package_root.name if package_root else None
        self._known: dict[str, tuple[tuple[int | None, str], ...]] = {}

    def changed_parameters(self, qualified: str) -> tuple[tuple[int | None, str], ...]:
        """The parameters ``package.module.function`` changes: (position or None, name) each.

        Empty for a function that changes none, or that is not the package's.
        """
        module, _, name = qualified.rpartition(".")
        if self.root is None or module.split(".")[0] != self.package:
            return ()
        if qualified not in self._known:
            self._known[qualified] = ()  # a cycle decides nothing
            self._known[qualified] = self._analyse(module, name)
        return self._known[qualified]

    def changed_names(self, qualified: str, positional: list, keywords: dict) -> set[str]:
        """The names a call passes to the parameters that ``qualified`` changes."""
        changed = set()
        for position, parameter in self.changed_parameters(qualified):
            if position is not None and position < len(positional) and positional[position]:
                changed.add(positional[position])
            if parameter in keywords:
                changed.add(keywords[parameter])
        return changed

    def _module_tree(self, module: str) -> tuple[ast.Module, str] | None:
        path = module_file(self.root, module)
        if path is None:
            return None
        # A relative import counts from the package: the module itself for an __init__.
        package_of_file = module if path.name == "__init__.py" else module.rpartition(".")[0]
        return ast.parse(path.read_text(encoding="utf-8")), package_of_file

    def _analyse(self, module: str, name: str) -> tuple[tuple[int | None, str], ...]:
        found = self._module_tree(module)
        if found is None:
            return ()
        tree, package_of_file = found
        origins = top_level_origins(tree, module, package_of_file)
        definition = next(
            (
                node
                for node in tree.body
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name
            ),
            None,
        )
        if definition is None:
            return self.changed_parameters(origins[name]) if name in origins else ()

        def changes(call: ast.Call) -> set[str]:
            if not isinstance(call.func, ast.Name) or call.func.id not in origins:
                return set()
            return self.changed_names(origins[call.func.id], *call_arguments(call))

        # A copy (the transformer edits what it visits), read as the page's functions are.
        body = _InPlaceOnly(changes).visit(ast.parse(ast.unparse(definition)))
        collector = NameCollector()
        for statement in body.body[0].body:
            collector.visit(statement)
        positional = [a.arg for a in (*definition.args.posonlyargs, *definition.args.args)]
        keyword_only = [a.arg for a in definition.args.kwonlyargs]
        return tuple(
            (positional.index(p) if p in positional else None, p)
            for p in [*positional, *keyword_only]
            if p in collector.names.modifies
        )


def top_level_origins(tree: ast.Module, module: str, package_of_file: str) -> dict[str, str]:
    """Where each function a module defines or imports by name comes from (``pkg.mod.name``)."""
    origins: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            origins[node.name] = f"{module}.{node.name}"
        elif isinstance(node, ast.ImportFrom):
            origin = absolute_module(node, package_of_file)
            for alias in node.names:
                origins[alias.asname or alias.name] = f"{origin}.{alias.name}"
    return origins


class _InPlaceOnly(ast.NodeTransformer):
    """Keep of a function's statement calls only what changes a parameter (see PackageFunctions)."""

    def __init__(self, changes) -> None:
        self.changes = changes

    def visit_Expr(self, node: ast.Expr) -> ast.AST:
        call = node.value
        if not isinstance(call, ast.Call):
            return node
        if isinstance(call.func, ast.Attribute):
            # The method's object may change, not what is passed to it.
            return ast.Expr(ast.Call(call.func, [], []))
        # A function of the package passes on only what it changes.
        changed = sorted(self.changes(call))
        if not changed:
            return ast.Pass()
        return ast.Expr(ast.Call(call.func, [ast.Name(n, ast.Load()) for n in changed], []))


def all_slices(cells: list[Cell], package: PackageFunctions | None = None) -> list[Slice]:
    """Every cell's slice; ``package`` tells which imported functions change their arguments."""
    names = [cell_names(cell.source) for cell in cells]
    # Calling a module's function as a statement (torch.manual_seed(0)) is not
    # taken for changing an object: a snippet that needs such global state
    # says so itself (the reproduction tests tell when it does not).
    imported = set().union(*(n.imports for n in names)) if names else set()
    mutators = set().union(*(n.mutators for n in names)) if names else set()
    origins = {k: v for n in names for k, v in n.imported_from.items()}
    for cell in names:
        cell.modifies -= (cell.calls & imported) - (cell.modifies - cell.calls)
        for function in mutators & set(cell.passed):
            cell.modifies |= cell.passed[function]
        if package is not None:
            for function, positional, keywords in cell.call_sites:
                if function in origins and function not in mutators:
                    cell.modifies |= package.changed_names(origins[function], positional, keywords)
    return [slice_of(cells, i, names) for i in range(len(cells))]


def slice_source(cells: list[Cell], piece: Slice) -> str:
    """The slice as one snippet: the cells' sources, a blank line between them."""
    return "\n\n".join(cells[i].source.strip("\n") for i in piece.indices) + "\n"
