"""The benchmark module: real (tiny) measurements, comparisons, plots, and argument checks."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from companion import benchmark
from companion.benchmark import (
    BenchmarkReport,
    BenchmarkResult,
    break_even_calls,
    classify_speedup,
    compare,
    compare_results,
    measure,
    measure_group,
    runner,
    settings,
)
from companion.processes import check_run, last_line, run_python
from companion.timing import summarize

TINY = {"repeats": 2, "number": 1, "warmup": 1, "device": "cpu"}


def fake(mode: str, samples: list[float], model="cnn", task="train", first=0.5):
    """A result with known per-call samples, for testing the arithmetic only."""
    info = benchmark.MODES[mode]
    return BenchmarkResult(
        model,
        task,
        mode,
        info.label,
        info.framework,
        "cpu",
        64,
        first_call_s=first,
        steady=summarize(samples),
    )


# --- real measurements on tiny settings ------------------------------------------------


def test_a_group_is_measured_interleaved_with_warmup_and_first_call_apart():
    results = measure_group(
        "cnn", "train", ["torch-eager", "tf-function", "keras"], batch_size=8, **TINY
    )
    assert [r.mode for r in results] == ["torch-eager", "tf-function", "keras"]
    for result in results:
        assert result.ok, result.error
        assert result.steady.repeats == 2
        assert result.first_call_s > 0
        assert result.batch_size == 8
    keras_fit = results[2]
    assert keras_fit.steps_per_call == benchmark.FIT_STEPS_PER_EPOCH
    assert any("per step" in note for note in keras_fit.notes)
    # Tracing makes tf.function's first call far slower than its steady calls.
    assert results[1].first_call_s > 3 * results[1].steady.median_s


def test_automatic_number_of_calls_fills_a_round(monkeypatch):
    # Rounds as long as a call allows, capped: a round then holds exactly the cap.
    monkeypatch.setattr(settings, "ROUND_SECONDS", 100.0)
    monkeypatch.setattr(settings, "MAX_CALLS_PER_ROUND", 3)
    result = measure("cnn", "predict", "torch-eager", repeats=2, warmup=1, batch_size=4)
    assert result.ok
    assert result.steady.number == 3
    monkeypatch.setattr(settings, "ROUND_SECONDS", 1e-9)
    result = measure("cnn", "predict", "torch-eager", repeats=2, warmup=1, batch_size=4)
    assert result.steady.number == 1  # at least one call, however short the round


def test_torchscript_records_its_deprecation_warning():
    result = measure("cnn", "predict", "torchscript", batch_size=4, **TINY)
    assert result.ok
    assert any("DeprecationWarning" in note and "torch.jit.trace" in note for note in result.notes)


def test_a_mode_that_fails_is_recorded_not_raised(monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("no compiler here\nsecond line")

    monkeypatch.setattr(runner, "torch_step", broken)
    result = measure("cnn", "train", "torch-eager", **TINY)
    assert not result.ok
    assert result.error == "RuntimeError: no compiler here"
    assert result.one_off_s is None


def test_the_same_batch_is_used_for_every_mode():
    x1, y1 = benchmark.benchmark_batch("cnn", "train", 64)
    x2, y2 = benchmark.benchmark_batch("cnn", "train", 64)
    assert np.array_equal(x1, x2)
    assert np.array_equal(y1, y2)
    x3, _ = benchmark.benchmark_batch("transformer", "predict", 5)
    assert x3.shape == (5, 32, 64)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"model": "resnet"}, ValueError),
        ({"task": "evaluate"}, ValueError),
        ({"modes": "torch-eager"}, TypeError),
        ({"modes": []}, ValueError),
        ({"modes": ["jax"]}, ValueError),
        ({"repeats": 0}, ValueError),
        ({"number": 2.5}, TypeError),
        ({"warmup": 0}, ValueError),
        ({"device": "tpu"}, ValueError),
        ({"batch_size": -1}, ValueError),
    ],
)
def test_measure_group_validates_its_arguments(kwargs, error):
    arguments = {"model": "cnn", "task": "train", "modes": ["torch-eager"], **kwargs}
    with pytest.raises(error):
        measure_group(arguments.pop("model"), arguments.pop("task"), **arguments)


def test_run_benchmark_rejects_unknown_batch_size_keys():
    with pytest.raises(ValueError, match="batch_sizes"):
        benchmark.run_benchmark(["cnn"], batch_sizes={("cnn", "fit"): 3})


def test_devices_never_require_a_gpu():
    assert benchmark.resolve_devices("cpu") == {"pytorch": "cpu", "tensorflow": "/CPU:0"}
    auto = benchmark.resolve_devices("auto")
    assert auto["pytorch"] in {"cpu", "cuda", "mps"}
    if not torch.cuda.is_available():
        assert auto["pytorch"] in {"cpu", "mps"}
        with pytest.raises(ValueError, match="cuda"):
            benchmark.resolve_devices("cuda")


def test_threads_are_pinned_in_a_fresh_process():
    code = (
        "import json; from companion.benchmark import pin_benchmark_threads; "
        "print(json.dumps(pin_benchmark_threads(1)))"
    )
    done = check_run(run_python(["-c", code]), "pinning threads")
    counts = json.loads(last_line(done.stdout))
    assert len(counts) == 4
    assert set(counts.values()) == {1}


# --- comparisons and their arithmetic ---------------------------------------------------


def test_classify_speedup():
    assert classify_speedup(1.1, 1.5) == "faster"
    assert classify_speedup(0.5, 0.9) == "slower"
    assert classify_speedup(0.9, 1.2) == "within noise"


def test_speedups_and_noise_verdicts():
    eager = fake("torch-eager", [0.010, 0.011, 0.012, 0.010, 0.011])
    fast = fake("tf-function", [0.002, 0.002, 0.003, 0.002, 0.002])
    close = fake("tf-eager", [0.0105, 0.0112, 0.0098, 0.0110, 0.0101])
    report = BenchmarkReport({}, {"modes": ["torch-eager", "tf-function", "tf-eager"]})
    report.results += [eager, fast, close]
    verdicts = {c.mode: (round(c.speedup, 2), c.verdict) for c in compare(report)}
    assert verdicts["torch-eager"] == (1.0, "baseline")
    assert verdicts["tf-function"] == (5.5, "faster")
    assert verdicts["tf-eager"][1] == "within noise"
    best = benchmark.best_against_best(report)
    assert len(best) == 1
    best_torch, versus = best[0]
    assert best_torch.mode == "torch-eager"
    assert versus.mode == "tf-function"
    assert versus.verdict == "faster"
    means = benchmark.geometric_mean_speedups(report)
    assert means["tf-function"] == pytest.approx(5.5)


def test_break_even_is_none_when_compiling_does_not_help():
    eager = fake("torch-eager", [0.003], first=0.01)
    slower = fake("torch-compile", [0.004], first=20.0)
    faster = fake("torch-compile", [0.002], first=10.002)
    assert break_even_calls(eager, slower) is None
    assert break_even_calls(eager, faster) == pytest.approx(10_000)
    assert faster.one_off_s == pytest.approx(10.0)


def test_compare_results_needs_two_successes():
    failed = BenchmarkResult("cnn", "train", "tf-eager", "", "tensorflow", "cpu", 64, error="x")
    with pytest.raises(ValueError, match="succeeded"):
        compare_results(fake("torch-eager", [0.1]), failed)


def test_per_step_times_divide_by_steps():
    timing = summarize([0.10, 0.12, 0.11])
    per_step = benchmark.per_step(timing, 10)
    assert per_step.median_s == pytest.approx(0.011)
    assert per_step.samples_s == pytest.approx((0.010, 0.012, 0.011))


# --- report output ----------------------------------------------------------------------


@pytest.fixture
def synthetic_report():
    modes = ["torch-eager", "torch-compile", "tf-eager", "tf-function"]
    report = BenchmarkReport({"machine": {}}, {"modes": modes})
    rng = np.random.default_rng(0)
    for model in ("cnn", "transformer"):
        for task in ("train", "predict"):
            for i, mode in enumerate(modes):
                samples = list(0.001 * (i + 1) * (1 + 0.05 * rng.random(5)))
                report.results.append(fake(mode, samples, model=model, task=task))
    report.results.append(
        BenchmarkResult(
            "cnn", "train", "tf-function-xla", "x", "tensorflow", "cpu", 64, error="Boom: no"
        )
    )
    return report


def test_table_json_and_plots(synthetic_report, tmp_path):
    table = benchmark.format_table(synthetic_report)
    assert "failed: Boom: no" in table
    assert table.count("baseline") == 4
    data = json.loads(synthetic_report.write_json(tmp_path / "r.json").read_text())
    assert len(data["results"]) == 17
    assert data["results"][0]["steady"]["median_s"] > 0
    assert {c["verdict"] for c in data["comparisons"]} <= {
        "baseline",
        "faster",
        "slower",
        "within noise",
    }
    figure = benchmark.plot_speedups(synthetic_report)
    assert len(figure.axes) == 4
    assert figure.axes[0].get_title(loc="left") == "cnn, training step"
    costs = benchmark.plot_one_off_costs(synthetic_report)
    assert len(costs.axes[0].get_legend().get_texts()) == 4
