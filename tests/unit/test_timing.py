"""Timing with warm-up apart, repeats, median and spread."""

import pytest

from companion.timing import summarize, time_callable


def test_timing_reports_warmup_separately():
    calls = []
    result = time_callable(lambda: calls.append(1), warmup=3, repeats=4, number=5)
    assert len(calls) == 3 + 4 * 5
    assert result.repeats == 4
    assert result.q1_s <= result.median_s <= result.q3_s
    assert "x 5 calls" in result.format("us")


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [({"repeats": 0}, ValueError), ({"number": 1.0}, TypeError), ({"warmup": -1}, ValueError)],
)
def test_timing_validation(kwargs, error):
    with pytest.raises(error):
        time_callable(lambda: None, **kwargs)


def test_timing_rejects_non_callables():
    with pytest.raises(TypeError, match="callable"):
        time_callable(42)


def test_summarize_checks_its_input():
    assert summarize([0.5]).iqr_s == 0
    with pytest.raises(ValueError, match="at least one"):
        summarize([])
    with pytest.raises(ValueError, match="number"):
        summarize([0.1], number=0)
