"""Data-parallel runs in both frameworks' engines, and recovery from a killed worker, tiny."""

import json
import os
import signal
import sys

import numpy as np
import pytest

from companion.distributed import launch
from companion.distributed.plan import TrainingPlan, shard
from companion.distributed.recovery import RecoveryJob, sanitized
from companion.distributed.runs import (
    data_parallel_lines,
    launch_lines,
    raise_fit_failure,
    run_data_parallel,
    single_process,
    weight_difference,
)
from companion.processes import ProcessError

TINY = TrainingPlan(steps=4, global_batch=16)


def test_plan_batches_repeat_and_shards_split_them():
    first, again = TINY.global_batches(100), TINY.global_batches(100)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert [len(b) for b in first] == [16] * 4
    halves = np.concatenate([shard(first[0], r, 2) for r in range(2)])
    assert np.array_equal(halves, first[0])
    assert TINY.arguments()[:2] == ["--steps", "4"]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"steps": 0}, ValueError),
        ({"global_batch": 2.5}, TypeError),
        ({"learning_rate": -1.0}, ValueError),
        ({"seed": "0"}, TypeError),
    ],
)
def test_plan_validation(kwargs, error):
    with pytest.raises(error):
        TrainingPlan(**kwargs)


def test_shard_validation():
    with pytest.raises(ValueError, match="does not split evenly"):
        shard(np.arange(6), 0, 4)
    with pytest.raises(ValueError, match="rank must be at most 1"):
        shard(np.arange(6), 2, 2)


def test_launch_helpers():
    ports = launch.free_ports(3)
    assert len(set(ports)) == 3
    config = json.loads(launch.tf_config(ports, 2))
    assert config["task"] == {"type": "worker", "index": 2}
    with pytest.raises(ValueError, match="index must be at most 2"):
        launch.tf_config(ports, 3)
    command = launch.torchrun_command("m", ["--x"], processes=2, max_restarts=1)
    assert command[1:3] == ["-m", "torch.distributed.run"]
    assert "--max-restarts=1" in command
    assert command[-3:] == ["-m", "m", "--x"]
    environment = launch.worker_environment({"A": "1"})
    assert environment["GLOO_SOCKET_IFNAME"] == "lo"
    assert environment["TORCH_DISABLE_SHARE_RDZV_TCP_STORE"] == "1"
    assert environment["A"] == "1"


def test_a_process_past_its_deadline_is_killed(tmp_path):
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    with launch.ProcessSet(tmp_path, timeout=1.0) as job:
        job.start("sleeper", sleeper, launch.worker_environment())
        finished = job.wait()
    assert finished["sleeper"].timed_out
    assert finished["sleeper"].seconds < 10
    with pytest.raises(ProcessError, match="killed at the deadline"):
        launch.check_finished(finished, "the sleeper")


def test_waiting_for_an_event_fails_when_every_process_ended(tmp_path):
    quick = [sys.executable, "-c", "raise SystemExit('nothing to do')"]
    with launch.ProcessSet(tmp_path, timeout=30) as job:
        job.start("quick", quick, launch.worker_environment())
        with pytest.raises(ProcessError, match="every process ended before"):
            job.wait_until(lambda: None, what="an event")
    launch.log_event(tmp_path, "me", "hello", step=3)
    assert launch.read_events(tmp_path)[0]["step"] == 3


def test_error_lines_and_sanitized_messages():
    text = "[rank0]: Traceback\n[rank0]: RuntimeError: Read error [127.0.0.1]:41234\n"
    assert launch.error_lines(text) == "RuntimeError: Read error [127.0.0.1]:41234"
    assert sanitized("pid: 4312 at 127.0.0.1:5000") == "pid: <pid> at 127.0.0.1:<port>"


def test_marked_lines_and_launch_commands():
    torch_lines = data_parallel_lines("pytorch")
    assert "net = DistributedDataParallel(model)" in torch_lines
    tf_lines = data_parallel_lines("tensorflow")
    assert "with strategy.scope():" in tf_lines
    assert all("#" not in line for line in torch_lines + tf_lines)
    assert launch_lines("pytorch", 4) == ["torchrun --standalone --nproc-per-node=4 train.py"]
    assert len(launch_lines("tensorflow", 3)) == 3


def test_run_arguments_are_checked():
    with pytest.raises(ValueError, match="framework must be one of"):
        run_data_parallel("jax", TINY)
    with pytest.raises(ValueError, match="split evenly over 3"):
        run_data_parallel("pytorch", TINY, 3)
    with pytest.raises(TypeError, match="plan must be a TrainingPlan"):
        run_data_parallel("pytorch", {"steps": 2})


def test_ddp_with_two_processes_matches_one_process():
    one = single_process("pytorch", TINY)
    two = run_data_parallel(
        "pytorch", TINY, 2, options=["--bucket-cap-mb", 0.004, "--fsdp-steps", 2]
    )
    assert weight_difference(one, two) < 1e-6
    assert two.report["ranks_max_abs_difference"] == 0.0
    assert set(map(tuple, two.report["allreduce_bytes_per_step"].values())) == {(14632,)}
    assert two.report["buckets"]["bytes_per_step"]["1"] == [9640, 4608, 384]
    fsdp = two.report["fsdp2"]
    assert fsdp["parameter_type"] == "DTensor"
    assert fsdp["max_abs_difference_to_one_process"] < 1e-6
    assert len(two.step_seconds) == TINY.steps


def test_mwms_with_two_workers_matches_one_process_and_fit_fails():
    one = single_process("tensorflow", TINY)
    two = run_data_parallel("tensorflow", TINY, 2, options=["--count-collectives", "--try-fit"])
    assert weight_difference(one, two) < 1e-6
    assert two.report["collectives_per_step"] == {"CollectiveReduceV2": 1}
    # keras-team/keras#20585: when this starts failing, fit works under the strategy.
    with pytest.raises(ValueError, match="PerReplica"):
        raise_fit_failure(two)


def test_torchrun_restarts_a_killed_rank_from_its_checkpoint():
    plan = TrainingPlan(steps=8, global_batch=16)
    with RecoveryJob("pytorch", plan, pause_at=5, checkpoint_every=2, timeout=90) as job:
        victim = job.start().wait_for_pause()
        assert (victim.who, victim.step) == ("rank 1", 5)
        os.kill(victim.pid, signal.SIGKILL)
        outcome = job.finish()
    assert outcome.exit_codes == {"torchrun": 0}
    assert outcome.run.report["resumed_from_step"] == 4
    assert outcome.run.report["attempt"] == 1
    assert weight_difference(outcome.run, single_process("pytorch", plan)) < 1e-6


def test_recovery_job_validation():
    with pytest.raises(ValueError, match="pause_at must be at most 3"):
        RecoveryJob("pytorch", TINY, pause_at=4)
