"""bfloat16 and float16 on the CPU in both frameworks, on tiny settings."""

import pytest

from companion.cnn import build_torch_cnn
from companion.cnn_arrays import torch_arrays
from companion.digits import load_digits_split
from companion.distributed.plan import TrainingPlan
from companion.mixed_precision import hardware, loss_scaling, training


@pytest.fixture(scope="module")
def setup():
    return load_digits_split(seed=0), torch_arrays(build_torch_cnn(seed=0))


def test_cpu_report_reads_the_flags():
    report = hardware.cpu_report(flags_text="model name : x\nflags : f16c avx2\n")
    assert report["f16c"]
    assert report["avx2"]
    assert not report["avx512_bf16"]
    assert hardware.cpu_report(flags_text="")["avx2"] is False


@pytest.mark.parametrize("framework", ["pytorch", "tensorflow"])
def test_matmul_timings_cover_every_dtype(framework):
    timings = hardware.matmul_seconds(framework, size=8, repeats=1)
    assert list(timings) == list(hardware.DTYPES)
    with pytest.raises(ValueError, match="framework must be one of"):
        hardware.matmul_seconds("jax")


def test_bf16_keeps_float32_weights_in_both(setup):
    _, weights = setup
    torch_rows = training.torch_dtypes(weights)
    assert torch_rows[0] == ("0", "Conv2d", "float32", "bfloat16")
    assert torch_rows[-2][-1] == "float32"  # the loss
    assert torch_rows[-1][-1] == "float32"  # the gradients
    keras_rows = training.keras_dtypes(weights)
    assert {row[2:] for row in keras_rows} == {("bfloat16", "float32", "bfloat16")}


@pytest.mark.parametrize("trainer", [training.train_torch, training.train_keras])
def test_training_runs_in_both_precisions(setup, trainer):
    split, weights = setup
    plan = TrainingPlan(steps=3, global_batch=16)
    for precision in training.PRECISIONS:
        run = trainer(plan, split, weights, precision)
        assert len(run.step_seconds) == 3
        assert 0 <= run.test_accuracy <= 1
    with pytest.raises(ValueError, match="precision must be one of"):
        trainer(plan, split, weights, "float16")


def test_wide_mlp_steps_are_timed():
    result = training.wide_mlp_step_seconds("pytorch", "bfloat16", width=16, batch=4, steps=4)
    assert result.repeats == 2


def test_float16_underflows_and_loss_scaling_fixes_it(setup):
    split, weights = setup
    for checks in (
        loss_scaling.torch_gradients(weights, split.x_train, split.y_train),
        loss_scaling.keras_gradients(weights, split.x_train, split.y_train),
    ):
        fp32, fp16, scaled, bf16 = checks
        assert fp32.relative_error == 0
        assert fp16.zero_fraction == 1.0
        assert fp16.weights_changed == 0
        assert scaled.zero_fraction < 0.5
        assert scaled.relative_error < 0.1
        # bfloat16 keeps float32's range: about as many zeros (0.3319 against
        # 0.3316 on an AMD EPYC with AVX2, equal on the machines before it).
        assert bf16.zero_fraction == pytest.approx(fp32.zero_fraction, abs=0.01)
    assert loss_scaling.keras_compile_optimizer(weights) == "LossScaleOptimizer"


def test_keras_policy_is_restored_after_an_error():
    import keras

    with pytest.raises(RuntimeError), training.keras_policy("mixed_float16"):
        raise RuntimeError
    assert keras.mixed_precision.global_policy().name == "float32"
