"""Training-time conventions: BatchNorm's running statistics, losses, AdamW, clipping.

>>> from companion.porting.pitfalls.training import gradient_clipping
>>> clipped = gradient_clipping()
>>> clipped.details["per-variable norms after Keras clipnorm=1"]
[1.0, 1.0]
"""

from __future__ import annotations

import inspect

import numpy as np

from companion.porting.pitfalls import Measured, error_line
from companion.porting.tolerance import relative_difference
from companion.validation import check_int


def _batches(steps: int, batch: int, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    return [
        (
            rng.normal(2.0, 3.0, size=(batch, 6)).astype(np.float32),
            rng.normal(size=(batch, 4)).astype(np.float32),
        )
        for _ in range(steps)
    ]


def _torch_batchnorm_run(data, seed: int):
    """Linear(6, 4) -> BatchNorm1d(4) trained with SGD; running means per step."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(6, 4), nn.BatchNorm1d(4))
    start = [p.detach().numpy().copy() for p in model[0].parameters()]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    means, seen = [], []
    for x, y in data:
        with torch.no_grad():  # what the BatchNorm layer sees at this step
            seen.append(model[0](torch.from_numpy(x)).numpy())
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(
            model(torch.from_numpy(x)), torch.from_numpy(y)
        )
        loss.backward()
        optimizer.step()
        means.append(model[1].running_mean.numpy().copy())
    return start, means, model[1].running_var.numpy().copy(), seen


def _keras_batchnorm_run(data, start, momentum: float):
    """The same model in Keras, from the same weights, ``momentum`` as given."""
    import keras

    model = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(4),
            keras.layers.BatchNormalization(momentum=momentum, epsilon=1e-5),
        ]
    )
    weight, bias = start
    model.layers[0].kernel.assign(weight.T)
    model.layers[0].bias.assign(bias)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    norm, means = model.layers[1], []
    for x, y in data:
        model.train_on_batch(x, y)
        means.append(np.asarray(norm.moving_mean).copy())
    return means, np.asarray(norm.moving_variance).copy()


def batchnorm_training(
    steps: int = 20, batch: int = 16, seed: int = 0
) -> dict:
    """Train Linear -> BatchNorm in both frameworks from the same weights on the same batches.

    Keras gets PyTorch's momentum copied as a number (0.1, the naive port)
    and mapped (``1 - 0.1 = 0.9``). Returns the running means after every
    step, and the final running variances with the two update rules
    replayed in NumPy: PyTorch averages the *unbiased* batch variance
    (``n / (n - 1)`` times the biased one), Keras the biased one.
    """
    check_int("steps", steps, minimum=1)
    check_int("batch", batch, minimum=2)
    data = _batches(steps, batch, seed)
    start, torch_means, torch_var, seen = _torch_batchnorm_run(data, seed)
    runs = {
        "Keras, momentum 0.1 (copied)": _keras_batchnorm_run(data, start, 0.1),
        "Keras, momentum 0.9 (1 - 0.1)": _keras_batchnorm_run(
            data, start, 0.9
        ),
    }
    unbiased, biased = np.ones(4), np.ones(4)
    for features in seen:
        variance = features.var(axis=0)
        unbiased = 0.9 * unbiased + 0.1 * variance * batch / (batch - 1)
        biased = 0.9 * biased + 0.1 * variance
    result = {
        "steps": steps,
        "batch": batch,
        "means": {"PyTorch, momentum 0.1": np.array(torch_means)},
        "mean difference": {},
        "variance difference": {},
        "unbiased rule replayed vs PyTorch": relative_difference(
            torch_var, unbiased
        ),
    }
    for name, (means, variance) in runs.items():
        result["means"][name] = np.array(means)
        result["mean difference"][name] = relative_difference(
            torch_means[-1], means[-1]
        )
        result["variance difference"][name] = relative_difference(
            torch_var, variance
        )
    mapped_variance = runs["Keras, momentum 0.9 (1 - 0.1)"][1]
    result["biased rule replayed vs Keras"] = relative_difference(
        mapped_variance, biased
    )
    return result


def _keras_cross_entropy(labels, logits, **settings):
    import keras

    loss = keras.losses.SparseCategoricalCrossentropy(**settings)
    return float(loss(labels, logits))


def loss_conventions(seed: int = 0) -> dict[str, Measured]:
    """Cross-entropy and squared error: argument order, ``from_logits``, reduction."""
    import keras
    import torch

    rng = np.random.default_rng(seed)
    logits = (3 * rng.normal(size=(8, 5))).astype(np.float32)
    labels = rng.integers(0, 5, size=8)
    expected = float(
        torch.nn.CrossEntropyLoss()(
            torch.from_numpy(logits), torch.from_numpy(labels)
        )
    )
    swapped, swapped_error = None, None
    try:  # PyTorch's order, (input, target), given to Keras's (y_true, y_pred)
        value = _keras_cross_entropy(logits, labels, from_logits=True)
        swapped = relative_difference(expected, value)
    except Exception as error:  # the error is the finding
        swapped_error = error_line(error)
    fixed = _keras_cross_entropy(labels, logits, from_logits=True)
    predictions = rng.normal(size=(8, 4)).astype(np.float32)
    targets = rng.normal(size=(8, 4)).astype(np.float32)
    summed = float(
        torch.nn.MSELoss(reduction="sum")(
            torch.from_numpy(predictions), torch.from_numpy(targets)
        )
    )
    keras_sum = float(
        keras.losses.MeanSquaredError(reduction="sum")(targets, predictions)
    )
    per_element = float(np.sum((predictions - targets) ** 2))
    return {
        "arguments swapped": Measured(
            "cross-entropy, (logits, labels) given to Keras",
            naive=swapped,
            naive_error=swapped_error,
            fixed=relative_difference(expected, fixed),
        ),
        "from_logits": Measured(
            "cross-entropy of logits, Keras's default from_logits=False",
            naive=relative_difference(
                expected, _keras_cross_entropy(labels, logits)
            ),
            fixed=relative_difference(expected, fixed),
            details={"PyTorch": expected, "Keras, from_logits=True": fixed},
        ),
        "reduction": Measured(
            "squared error, reduction='sum' in both",
            naive=relative_difference(summed, keras_sum),
            fixed=relative_difference(summed, per_element),
            details={"PyTorch sum": summed, "Keras 'sum'": keras_sum},
        ),
    }


def _signature(function) -> dict:
    return {
        name: p.default
        for name, p in inspect.signature(function).parameters.items()
        if p.default is not inspect.Parameter.empty
    }


def optimizer_defaults() -> dict:
    """Epsilon and weight decay of Adam and AdamW, from the constructors' signatures."""
    import keras
    import torch

    rows = {}
    for name, torch_type, keras_type in (
        ("Adam", torch.optim.Adam, keras.optimizers.Adam),
        ("AdamW", torch.optim.AdamW, keras.optimizers.AdamW),
    ):
        torch_defaults = _signature(torch_type.__init__)
        keras_defaults = _signature(keras_type.__init__)
        rows[name] = {
            "PyTorch eps": torch_defaults["eps"],
            "Keras epsilon": keras_defaults["epsilon"],
            "PyTorch weight_decay": torch_defaults["weight_decay"],
            "Keras weight_decay": keras_defaults["weight_decay"],
        }
    return rows


def _regression(seed: int):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(32, 8)).astype(np.float32)
    y = rng.normal(size=(32, 1)).astype(np.float32)
    w = rng.normal(size=(8, 1)).astype(np.float32)
    return x, y, w


def _torch_adamw(x, y, w, steps, **settings):
    import torch

    weight = torch.tensor(w, requires_grad=True)
    optimizer = torch.optim.AdamW([weight], lr=0.01, **settings)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = (
            (torch.from_numpy(x) @ weight - torch.from_numpy(y)) ** 2
        ).mean()
        loss.backward()
        optimizer.step()
    return weight.detach().numpy()


def _keras_adamw(x, y, w, steps, **settings):
    import keras
    import tensorflow as tf

    weight = keras.Variable(w)
    optimizer = keras.optimizers.AdamW(learning_rate=0.01, **settings)
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((tf.matmul(x, weight) - y) ** 2)
        optimizer.apply_gradients([(tape.gradient(loss, weight), weight)])
    return np.asarray(weight)


def adamw(steps: int = 50, seed: int = 0) -> Measured:
    """``AdamW`` with each framework's defaults, from the same weights, on a small regression.

    The fix sets Keras's ``weight_decay`` and ``epsilon`` to PyTorch's. The
    two still place epsilon differently (PyTorch adds it to the
    bias-corrected root, Keras before the correction); the details hold the
    gap with an epsilon of 1e-12 in both, which shows whether that matters
    (with gradients far above epsilon it does not: what is left is
    round-off, carried from step to step).
    """
    check_int("steps", steps, minimum=1)
    x, y, w = _regression(seed)
    expected = _torch_adamw(x, y, w, steps)
    naive = _keras_adamw(x, y, w, steps)
    fixed = _keras_adamw(x, y, w, steps, weight_decay=0.01, epsilon=1e-8)
    tiny = relative_difference(
        _torch_adamw(x, y, w, steps, eps=1e-12),
        _keras_adamw(x, y, w, steps, weight_decay=0.01, epsilon=1e-12),
    )
    return Measured(
        f"AdamW with default settings, {steps} steps",
        naive=relative_difference(expected, naive),
        fixed=relative_difference(expected, fixed),
        details={
            "how far PyTorch's weights moved (relative)": relative_difference(
                w, expected
            ),
            "fixed, with epsilon 1e-12 in both": tiny,
            "fixed after 1 step": relative_difference(
                _torch_adamw(x, y, w, 1),
                _keras_adamw(x, y, w, 1, weight_decay=0.01, epsilon=1e-8),
            ),
        },
    )


def gradient_clipping() -> Measured:
    """Two gradients of norm 3 and 4 (5 together) clipped to 1, then one SGD step.

    ``clip_grad_norm_`` scales all gradients by one factor (global);
    Keras's ``clipnorm`` clips each variable on its own, ``global_clipnorm``
    all together.
    """
    import keras
    import torch

    grads = [
        np.array([3.0, 0.0], np.float32),
        np.array([0.0, 4.0], np.float32),
    ]
    params = [torch.zeros(2, requires_grad=True) for _ in grads]
    for param, grad in zip(params, grads, strict=True):
        param.grad = torch.from_numpy(grad.copy())
    total = float(torch.nn.utils.clip_grad_norm_(params, 1.0))
    torch_step = np.concatenate([p.grad.numpy() for p in params])

    def keras_step(**clip):
        variables = [keras.Variable(np.zeros(2, np.float32)) for _ in grads]
        optimizer = keras.optimizers.SGD(learning_rate=1.0, **clip)
        optimizer.apply_gradients(zip(grads, variables, strict=True))
        return [-np.asarray(v) for v in variables]

    naive, fixed = keras_step(clipnorm=1.0), keras_step(global_clipnorm=1.0)
    return Measured(
        "clip_grad_norm_ ported as clipnorm",
        naive=relative_difference(torch_step, np.concatenate(naive)),
        fixed=relative_difference(torch_step, np.concatenate(fixed)),
        details={
            "norms before clipping": [3.0, 4.0],
            "global norm returned by clip_grad_norm_": total,
            "per-variable norms after clip_grad_norm_(1)": [
                round(float(np.linalg.norm(g)), 6)
                for g in np.split(torch_step, 2)
            ],
            "per-variable norms after Keras clipnorm=1": [
                round(float(np.linalg.norm(s)), 6) for s in naive
            ],
            "per-variable norms after Keras global_clipnorm=1": [
                round(float(np.linalg.norm(s)), 6) for s in fixed
            ],
        },
    )
