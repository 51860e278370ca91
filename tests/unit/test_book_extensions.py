"""Unit tests of the pieces inside the book's Sphinx extensions (docs/_ext)."""

from __future__ import annotations

from pathlib import Path

import pytest
from book_html import DOCS
from book_sphinx import execution_fingerprint as fp
from book_sphinx import scheduling, stream_merging, timing_outputs
from book_sphinx.book_common import is_text_notebook
from book_sphinx.claims import model as claims
from docutils import nodes
from docutils.utils import new_document
from myst_nb.core import render
from nbformat.v4 import new_output


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def package(tmp_path) -> Path:
    root = tmp_path / "src" / "companion"
    write(root / "__init__.py", '"""Package."""\n')
    write(root / "a.py", "from . import b\nfrom .sub import c\n")
    write(root / "b.py", "import numpy\n")
    write(root / "sub" / "__init__.py", "")
    write(root / "sub" / "c.py", "from ..b import thing\nfrom . import d\n")
    write(root / "sub" / "d.py", "RUNNER = 'companion.worker'\n")
    write(root / "worker.py", "")
    write(root / "unused.py", "")
    return root


def names(files, root):
    return [fp.display_name(f, root) for f in files]


def test_closure_follows_absolute_relative_and_string_imports(package):
    closure = names(fp.dependency_closure(package, {"companion.a"}), package)
    assert closure == [
        "companion/__init__.py",
        "companion/a.py",
        "companion/b.py",
        "companion/sub/__init__.py",
        "companion/sub/c.py",
        "companion/sub/d.py",
        "companion/worker.py",
    ]


def test_closure_of_a_leaf_module_is_small(package):
    assert names(fp.dependency_closure(package, {"companion.b"}), package) == [
        "companion/__init__.py",
        "companion/b.py",
    ]


def test_unknown_modules_are_ignored(package):
    assert fp.dependency_closure(package, {"companion.nope"}) == [package / "__init__.py"]


def test_fingerprint_changes_with_content_and_environment(package):
    files = fp.dependency_closure(package, {"companion.b"})
    first = fp.fingerprint(files, package, "torch==1")
    assert fp.fingerprint(files, package, "torch==2") != first
    (package / "b.py").write_text("import numpy  # edited\n")
    assert fp.fingerprint(files, package, "torch==1") != first


def test_import_pattern_finds_the_packages_imports_in_cells():
    text = (
        "```{code-cell}\nimport companion.x\nfrom companion.y import z\nimport companionship\n```"
    )
    assert fp.import_pattern("companion").findall(text) == ["companion.x", "companion.y"]


def test_only_text_notebooks_get_a_fingerprint():
    assert is_text_notebook("---\njupytext:\n  x: 1\nkernelspec:\n  name: python3\n---\n# T")
    assert not is_text_notebook("# Just prose\n")
    assert not is_text_notebook("---\ntitle: front matter only\n---\n# T")


def test_the_distribution_closure_follows_requirements_and_extras():
    closure = fp.distribution_closure(["companion[deploy]"])
    assert closure["torch"].startswith("2.13.0")
    assert "keras" in closure
    assert "numpy" in closure  # a requirement of a requirement
    assert "onnxruntime" in closure  # from the deploy extra
    assert "pytest" not in closure  # a test-only tool
    assert "sphinx" not in closure  # a docs-only tool
    assert "onnxruntime" not in fp.distribution_closure(["companion"])


def test_a_root_that_is_not_installed_is_a_configuration_error():
    from sphinx.errors import ConfigError

    with pytest.raises(ConfigError, match="not installed"):
        fp.distribution_closure(["no-such-distribution-here"])


def test_jobs_marked_alone_run_while_no_other_job_does():
    import time

    def sleep(seconds):
        return lambda: time.sleep(seconds) or seconds

    jobs = [
        scheduling.Job("a", sleep(0.2)),
        scheduling.Job("b", sleep(0.2)),
        scheduling.Job("solo", sleep(0.1), alone=True),
    ]
    outcomes = {o.name: o for o in scheduling.run_jobs(jobs, workers=2)}
    assert outcomes["solo"].alongside == []
    assert outcomes["a"].alongside == ["b"]
    assert outcomes["b"].alongside == ["a"]
    assert outcomes["solo"].finished <= min(outcomes["a"].started, outcomes["b"].started)
    with pytest.raises(ValueError, match="workers must be at least 1"):
        scheduling.run_jobs(jobs, workers=0)


CLAIM = "  - id: G1\n    statement: Something.\n    kind: [demo]\n"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (CLAIM + CLAIM, "unique id"),
        (CLAIM.replace("G1", "Q1"), "group letter"),
        (CLAIM.replace("[demo]", "[guess]"), "kind must be"),
        (CLAIM + "    verdict: maybe\n", "verdict must be"),
        (CLAIM.replace("    statement: Something.\n", ""), "statement is required"),
    ],
)
def test_claims_file_validation(tmp_path, body, message):
    path = write(tmp_path / "claims.yaml", "groups:\n  G: Graphs\nclaims:\n" + body)
    with pytest.raises(ValueError, match=message):
        claims.load_claims(path)


def test_claims_file_defaults(tmp_path):
    path = write(tmp_path / "claims.yaml", "groups:\n  G: Graphs\nclaims:\n" + CLAIM)
    claim = claims.load_claims(path).claims["G1"]
    assert claim.verdict == "not yet assessed"
    assert claim.group == "G"
    assert claim.needs_evidence


def test_the_books_claims_file_is_valid():
    data = claims.load_claims(DOCS / "claims.yaml")
    assert len(data.claims) >= 34


def stdout_chunks(*texts: str) -> list:
    return [new_output("stream", name="stdout", text=text) for text in texts]


@pytest.mark.parametrize(
    "chunks",
    [
        ("print sees a tensor of shape (5,)\n", "done\n\n"),
        ("print sees a tensor of shape", " (5,)\n", "done\n", "\n"),
        ("print sees a tensor", " of shape (5,)\ndo", "ne\n\n"),
    ],
)
def test_merged_streams_do_not_depend_on_chunk_boundaries(chunks):
    merged = stream_merging.merge_streams(stdout_chunks(*chunks))
    assert [o.text for o in merged] == ["print sees a tensor of shape (5,)\ndone\n"]


def test_merging_keeps_other_outputs_and_puts_stdout_first():
    outputs = [
        new_output("stream", name="stderr", text="warning\n"),
        new_output("stream", name="stdout", text="a"),
        new_output("execute_result", data={"text/plain": "1"}, execution_count=1),
        new_output("stream", name="stdout", text="b\n"),
    ]
    merged = stream_merging.merge_streams(outputs)
    assert [(o.output_type, o.get("name"), o.get("text")) for o in merged] == [
        ("stream", "stdout", "ab\n"),
        ("stream", "stderr", "warning\n"),
        ("execute_result", None, None),
    ]


def test_myst_nb_renders_with_the_exact_merge():
    stream_merging.setup(None)
    assert render.coalesce_streams is stream_merging.merge_streams


def code_cell(*classes: str) -> nodes.container:
    cell = nodes.container(classes=["cell", *classes], nb_element="cell_code")
    cell += nodes.container(classes=["cell_input"], nb_element="cell_code_source")
    cell += nodes.container(classes=["cell_output"], nb_element="cell_code_output")
    return cell


def test_only_timing_outputs_are_kept_out_of_search():
    document = new_document("page")
    document += [code_cell("tag_timing"), code_cell("tag_pytorch")]
    timing_outputs.hide_from_search(None, document)
    marked = [
        (cell["classes"][1], part["nb_element"])
        for cell in document.children
        for part in cell.children
        if "no-search" in part["classes"]
    ]
    assert marked == [("tag_timing", "cell_code_output")]


def test_the_extensions_use_no_api_sphinx_9_deprecates():
    """``env.app`` is deprecated (the tests ignore that warning for sphinx-sitemap's sake)."""
    offenders = [
        path.name
        for path in (DOCS / "_ext").rglob("*.py")
        if "env.app" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []


def test_the_extensions_import_no_framework_and_no_companion():
    import ast

    forbidden = {"torch", "tensorflow", "keras", "companion"}
    found = {}
    for path in (DOCS / "_ext").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            hits = {name.split(".")[0] for name in names} & forbidden
            if hits:
                found.setdefault(path.name, set()).update(hits)
    assert found == {}


def test_the_configuration_only_imports_and_assigns():
    """docs/conf.py acts on nothing when Sphinx (or the fixture book) imports it.

    What must act (the kernel's profile, its environment, the commit in the
    footer) is done by the extensions on ``config-inited``; the extensions are
    an installed package, so not even ``sys.path`` changes.
    """
    import ast

    allowed = (ast.Import, ast.ImportFrom, ast.Assign, ast.AnnAssign)
    tree = ast.parse((DOCS / "conf.py").read_text(encoding="utf-8"))
    docstring = tree.body[0]
    assert isinstance(docstring, ast.Expr)
    assert isinstance(docstring.value, ast.Constant)
    acting = [
        f"line {node.lineno}: {ast.unparse(node).splitlines()[0]}"
        for node in tree.body[1:]
        if not isinstance(node, allowed)
    ]
    assert acting == []
    calls = [
        ast.unparse(node.func)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and ast.unparse(node.func).startswith("sys.")
    ]
    assert calls == []


def test_the_environment_description_holds_no_path_of_the_checkout(tmp_path):
    from types import SimpleNamespace

    config = SimpleNamespace(
        fingerprint_distributions=["numpy"],
        kernel_environment={"CACHE": str(tmp_path / "docs" / "_build" / "cache"), "LEVEL": "2"},
    )
    description = fp.environment_description(config, tmp_path)
    assert str(tmp_path) not in description
    assert "env CACHE=<checkout>/docs/_build/cache" in description
    assert "env LEVEL=2" in description
    assert description.startswith("python==")
