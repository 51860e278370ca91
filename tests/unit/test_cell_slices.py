"""The slicer behind "copy with setup": which earlier cells a cell needs."""

from __future__ import annotations

import pytest
from book_sphinx.cell_slices import (
    Cell,
    PackageFunctions,
    all_slices,
    cell_names,
    slice_of,
    slice_source,
)


def indices(*sources: str, tags: dict[int, tuple[str, ...]] | None = None) -> list[list[int]]:
    cells = [Cell(source, (tags or {}).get(i, ())) for i, source in enumerate(sources)]
    return [piece.indices for piece in all_slices(cells)]


def test_a_cell_needs_what_it_reads_followed_back():
    assert indices("import numpy as np", "x = np.ones(3)", "y = 2", "print(x.sum())")[3] == [
        0,
        1,
        3,
    ]


def test_a_name_redefined_later_takes_the_definition_before_the_cell():
    slices = indices("x = 1", "print(x)", "x = 2", "print(x)")
    assert slices[1] == [0, 1]
    assert slices[3] == [2, 3]  # the first definition is not needed any more


def test_a_name_rebound_from_itself_needs_its_earlier_value():
    assert indices("x = 1", "x = x + 1", "print(x)")[2] == [0, 1, 2]


def test_a_name_read_only_inside_a_function_body_is_needed():
    slices = indices("scale = 3", "def triple(v):\n    return scale * v", "print(triple(2))")
    assert slices[2] == [0, 1, 2]
    assert cell_names("def f(v):\n    w = v\n    return w").uses == set()


def test_a_star_import_is_needed_by_every_later_cell():
    assert indices("from math import *", "r = 2", "print(pi * r)")[2] == [0, 1, 2]


@pytest.mark.parametrize(
    "mutation",
    [
        "model.training = False",
        "weights[0] = 9",
        "model.eval()",
        "weights += [4]",
        "del weights[0]",
        'load_weights(model, "w.bin")',
        "fill(values=weights)",
    ],
)
def test_a_cell_that_may_change_an_object_in_place_is_kept(mutation):
    slices = indices("model = weights = make()", mutation, "print(model, weights)")
    assert slices[2] == [0, 1, 2]


def test_a_method_whose_result_is_used_is_not_taken_for_a_change():
    assert indices("x = make()", "y = x.copy()", "print(x)")[2] == [0, 2]


def test_printing_a_name_is_not_taken_for_a_change():
    assert indices("x = make()", "print(x)", "print(x.sum())")[2] == [0, 2]


def test_a_cell_that_raises_on_purpose_is_in_no_other_slice():
    slices = indices("x = 1", "y = 1 / 0", "print(x)", tags={1: ("raises-exception",)})
    assert slices[1] == [1]
    assert slices[2] == [0, 2]
    cells = [Cell("y = 1"), Cell("z = 1 / 0", ("raises-exception",)), Cell("print(z)")]
    assert slice_of(cells, 2).missing == {"z"}
    assert not slice_of(cells, 2).complete


def test_the_chapter_setup_cell_starts_every_slice():
    slices = indices("seed_everything(0)", "x = 1", "print(x)", tags={0: ("chapter-setup",)})
    assert slices[2] == [0, 1, 2]


def test_builtins_and_comprehension_variables_need_nothing():
    assert cell_names("print([i * 2 for i in range(3)])").uses == set()
    assert cell_names("total = sum(v for v in values)").uses == {"values"}


def test_magics_are_skipped_and_unparsable_cells_are_needed_by_all():
    assert cell_names("%timeit f()").uses == set()
    assert cell_names("def broken(:").opaque
    assert indices("def broken(:", "print(1)")[1] == [0, 1]


def test_the_snippet_joins_the_cells_in_order():
    cells = [Cell("a = 1\n"), Cell("b = 2"), Cell("print(a)")]
    assert slice_source(cells, slice_of(cells, 2)) == "a = 1\n\nprint(a)\n"


def test_a_module_function_called_as_a_statement_ties_no_later_cell_to_it():
    slices = indices("import torch", "torch.manual_seed(0)", "print(torch.ones(2))")
    assert slices[2] == [0, 2]


def test_an_assignment_into_a_module_attribute_is_kept():
    slices = indices("import os", 'os.environ["FLAG"] = "1"', 'del os.environ["FLAG"]')
    assert slices[2] == [0, 1, 2]


def test_a_loop_over_named_objects_changes_each_of_them():
    slices = indices(
        "a = make()\nb = make()", "for model in (a, b):\n    model.compile()", "print(a)"
    )
    assert slices[2] == [0, 1, 2]


def test_a_loop_over_a_dicts_values_changes_the_dict():
    slices = indices(
        "models = {'a': make()}",
        "for name, model in models.items():\n    model.compile()",
        "print(models)",
    )
    assert slices[2] == [0, 1, 2]


def test_a_page_function_that_changes_its_parameter_changes_what_it_is_given():
    fit = "def fit(model, epochs):\n    model.compile()\n    return model.train(epochs)"
    slices = indices("model = make()", fit, "history = fit(model, epochs=2)", "print(model)")
    assert slices[3] == [0, 1, 2, 3]
    # A function that only reads its parameter changes nothing.
    show = "def show(model):\n    return str(model)"
    assert indices("model = make()", show, "text = show(model)", "print(model)")[3] == [0, 3]


@pytest.fixture
def package(tmp_path):
    """A package ``lib`` whose functions train in place, validate, or re-export."""
    root = tmp_path / "lib"
    root.mkdir()
    (root / "__init__.py").write_text("from .training import train\n")
    (root / "checks.py").write_text("def check(name, value):\n    return value\n")
    (root / "training.py").write_text(
        "from lib.checks import check\n\n\n"
        "def _step(model):\n    model.step()\n\n\n"
        "def train(model, data, *, epochs=1):\n"
        "    check('epochs', epochs)\n"
        "    data.shape\n"
        "    for _ in range(epochs):\n"
        "        _step(model)\n"
        "    return [0.0]\n\n\n"
        "def score(model, data):\n"
        "    check('data', data)\n"
        "    return 1.0\n"
    )
    return PackageFunctions(root)


def test_a_package_function_changes_only_the_parameters_its_body_changes(package):
    assert package.changed_parameters("lib.training.train") == ((0, "model"),)
    assert package.changed_parameters("lib.training.score") == ()
    # followed through the package's re-export, and not for other packages
    assert package.changed_parameters("lib.train") == ((0, "model"),)
    assert package.changed_parameters("numpy.mean") == ()


def test_an_assigned_call_to_a_package_function_that_trains_in_place_is_kept(package):
    sources = (
        "model, data = object(), object()",
        "from lib import train\nfrom lib.training import score",
        "history = train(model, data)",
        "print(score(model, data))",
        "print(data)",
    )
    cells = [Cell(source) for source in sources]
    slices = [piece.indices for piece in all_slices(cells, package)]
    assert slices[3] == [0, 1, 2, 3]  # the model was trained in place
    assert slices[4] == [0, 4]  # the data was only read
    # by keyword too; without the package the call is taken for a read
    cells[2] = Cell("history = train(data=data, model=model)")
    assert all_slices(cells, package)[3].indices == [0, 1, 2, 3]
    assert all_slices(cells)[3].indices == [0, 1, 3]
