"""The early-exit model: per-input paths, the same in both frameworks, clear errors."""

import numpy as np
import pytest
import torch

from companion.conditional import (
    EarlyExitConfig,
    build_tf_early_exit,
    build_torch_early_exit,
    check_batch,
    torch_early_exit_weights,
)

CONFIG = EarlyExitConfig(features=4, hidden=16, classes=3, blocks=3, threshold=0.6)


@pytest.fixture(scope="module")
def inputs():
    scales = np.geomspace(0.5, 50, 6)[:, None]
    return (np.random.default_rng(0).standard_normal((6, 4)) * scales).astype(np.float32)


@pytest.fixture(scope="module")
def models():
    torch_model = build_torch_early_exit(CONFIG, seed=4)
    tf_model = build_tf_early_exit(torch_early_exit_weights(torch_model), threshold=0.6)
    return torch_model, tf_model


def test_inputs_take_different_paths(models, inputs):
    with torch.no_grad():
        _, depths = models[0](torch.from_numpy(inputs))
    assert len(set(depths.tolist())) > 1, "the example should exercise several exits"


def test_exit_depth_follows_the_confidence_rule(models, inputs):
    model = models[0]
    with torch.no_grad():
        for x in torch.from_numpy(inputs):
            _, depth = model.forward_one(x)
            hidden = torch.relu(model.stem(x))
            for k, (block, head) in enumerate(zip(model.blocks, model.exits, strict=True), 1):
                hidden = torch.relu(block(hidden))
                confident = torch.softmax(head(hidden), -1).max() >= CONFIG.threshold
                if k < depth:
                    assert not confident
                elif k == depth:
                    assert confident or depth == CONFIG.blocks


def test_tensorflow_matches_pytorch_eagerly_and_in_a_graph(models, inputs):
    torch_model, tf_model = models
    with torch.no_grad():
        logits, depths = torch_model(torch.from_numpy(inputs))
    for graph in (False, True):
        tf_logits, tf_depths = tf_model(inputs, graph=graph)
        assert tf_depths.numpy().tolist() == depths.tolist()
        np.testing.assert_allclose(tf_logits.numpy(), logits.numpy(), rtol=0, atol=1e-5)
    assert tf_model.one_graph.experimental_get_tracing_count() == 1


def test_the_graph_holds_the_loop_as_one_while_op(models):
    graph = models[1].one_graph.get_concrete_function().graph
    assert {"While", "StatelessWhile"} & {op.type for op in graph.get_operations()}


def test_threshold_one_runs_every_block(inputs):
    model = build_torch_early_exit(EarlyExitConfig(4, 16, 3, 3, threshold=1.0), seed=4)
    with torch.no_grad():
        _, depths = model(torch.from_numpy(inputs[:3]))
    assert depths.tolist() == [3, 3, 3]


@pytest.mark.parametrize(
    ("batch", "error", "message"),
    [
        (np.zeros(4, np.float32), ValueError, "2-D"),
        (np.zeros((0, 4), np.float32), ValueError, "empty"),
        (np.zeros((2, 5), np.float32), ValueError, "expects 4"),
        ([[0.0] * 4], TypeError, "array or tensor"),
    ],
)
def test_bad_batches_get_clear_errors(batch, error, message):
    with pytest.raises(error, match=message):
        check_batch(batch, 4)


def test_models_validate_their_input(models):
    torch_model, tf_model = models
    with pytest.raises(ValueError, match="expects 4"):
        torch_model(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="2-D"):
        tf_model(np.zeros(4, np.float32))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"threshold": 0.0}, ValueError, "threshold"),
        ({"threshold": 1.5}, ValueError, "threshold"),
        ({"threshold": "high"}, TypeError, "threshold"),
        ({"blocks": 0}, ValueError, "blocks"),
        ({"hidden": 2.0}, TypeError, "hidden"),
    ],
)
def test_bad_configs_are_refused(kwargs, error, message):
    with pytest.raises(error, match=message):
        EarlyExitConfig(**kwargs)


def test_bad_weights_are_refused(models):
    weights = torch_early_exit_weights(models[0])
    with pytest.raises(ValueError, match="keys"):
        build_tf_early_exit({"stem_kernel": weights["stem_kernel"]})
    with pytest.raises(ValueError, match="block_biases"):
        build_tf_early_exit(dict(weights, block_biases=np.zeros((2, 16))))
    with pytest.raises(TypeError, match="build_torch_early_exit"):
        torch_early_exit_weights(torch.nn.Linear(2, 2))
