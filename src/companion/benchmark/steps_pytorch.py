"""One PyTorch training step or inference batch, ready to time, in each PyTorch mode.

:func:`torch_step` is what the performance chapter shows; its source is
printed there as it stands.
"""

from __future__ import annotations

from companion.benchmark.modes import COMPILE_MODES as _COMPILE_MODES
from companion.benchmark.settings import ADAM_EPSILON, LEARNING_RATE
from companion.cnn import build_torch_cnn
from companion.transformer import TransformerConfig, build_torch_transformer


def _build_torch_model(model: str, config: TransformerConfig):
    """A fresh model built from seed 0: the digits CNN or the transformer."""
    if model == "cnn":
        return build_torch_cnn(seed=0)
    return build_torch_transformer(config, seed=0)


def torch_step(
    model: str,
    task: str,
    mode: str,
    x,
    y,
    device: str,
    config: TransformerConfig,
):
    """A zero-argument callable running one training step or one inference batch in PyTorch.

    ``train``: zero the gradients, cross-entropy of the logits, backward, one
    Adam step. Under ``torch.compile`` the forward pass and the loss are
    compiled (AOTAutograd compiles the backward with them); the optimizer step
    runs eagerly. Under TorchScript the model is traced once.
    """
    import torch
    from torch.nn import functional

    network = _build_torch_model(model, config).to(device)
    inputs = torch.from_numpy(x).to(device)
    labels = torch.from_numpy(y).to(device)
    if task == "predict":
        network.eval()
    forward = network
    if mode == "torchscript":
        with torch.no_grad():
            forward = torch.jit.trace(network, inputs)

    if task == "predict":
        if mode in _COMPILE_MODES:
            forward = torch.compile(network, mode=_COMPILE_MODES[mode])

        def predict():
            with torch.no_grad():
                return forward(inputs)

        return predict

    def loss_of(inputs, labels):
        return functional.cross_entropy(forward(inputs), labels)

    if mode in _COMPILE_MODES:
        loss_of = torch.compile(loss_of, mode=_COMPILE_MODES[mode])
    optimizer = torch.optim.Adam(
        network.parameters(), lr=LEARNING_RATE, eps=ADAM_EPSILON
    )

    def train_step():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_of(inputs, labels)
        loss.backward()
        optimizer.step()
        return loss

    return train_step
