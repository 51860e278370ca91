"""Measurements the community chapter takes of the installed frameworks."""

from __future__ import annotations

import pytest
import torch

from companion.ecosystem import (
    distribution_bytes,
    import_seconds,
    install_footprint,
    layer_classes,
    public_names,
    requirements_closure,
)


def test_footprint_of_a_framework_counts_its_requirements():
    footprint = install_footprint("keras")
    assert footprint.own_bytes == distribution_bytes("keras") > 1_000_000
    assert {"keras", "numpy"} <= set(footprint.closure)
    assert footprint.closure_bytes > footprint.own_bytes
    assert footprint.closure_mb == pytest.approx(footprint.closure_bytes / 1e6)


def test_requirements_closure_follows_only_what_is_required():
    closure = requirements_closure("scikit-learn")
    assert {"numpy", "scipy"} <= set(closure)
    assert "tensorflow-cpu" not in requirements_closure("torch")


def test_unknown_and_malformed_distributions_are_reported():
    with pytest.raises(ValueError, match="not installed"):
        distribution_bytes("no-such-distribution-here")
    with pytest.raises(ValueError, match="name must not be empty"):
        install_footprint("")
    with pytest.raises(TypeError, match="name must be a string"):
        install_footprint(3)


def test_import_time_is_measured_in_fresh_processes():
    result = import_seconds("json", repeats=2)
    assert result.repeats == 2
    assert 0 < result.median_s < 5


def test_import_time_reports_a_failing_import():
    with pytest.raises(RuntimeError, match="no_such_module_xyz"):
        import_seconds("no_such_module_xyz", repeats=1)


@pytest.mark.parametrize("bad", ["os; import shutil", "", "1abc"])
def test_import_time_accepts_module_names_only(bad):
    with pytest.raises(ValueError, match="dotted module name"):
        import_seconds(bad)


def test_public_names_and_layer_classes():
    assert "Tensor" in public_names("torch")
    assert not any(name.startswith("_") for name in public_names("torch"))
    layers = layer_classes("torch.nn", torch.nn.Module)
    assert {"Conv2d", "Linear", "MultiheadAttention"} <= set(layers)
    with pytest.raises(TypeError, match="class"):
        layer_classes("torch.nn", "Module")
