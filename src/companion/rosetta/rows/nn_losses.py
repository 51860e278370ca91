"""Losses: cross-entropy, squared error, Huber, KL divergence."""

from companion.rosetta.rows.labels import LOSSES, REDUCTION, SEMANTICS
from companion.rosetta.table import Row

GROUP = LOSSES

ROWS = (
    Row(
        GROUP,
        "cross-entropy from logits (mean)",
        None,
        "F.cross_entropy(x, t)",
        "tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=t, logits=x))",
        "ops.mean(ops.sparse_categorical_crossentropy(t, x, from_logits=True))",
        note="argument order: PyTorch (input, target), TensorFlow keywords, Keras (target, output)",
        reference="ref.cross_entropy(x, t)",
    ),
    Row(
        GROUP,
        "cross-entropy of logits, default flags",
        None,
        "torch.nn.CrossEntropyLoss()(x, t)",
        "tf.keras.losses.SparseCategoricalCrossentropy()(t, x)",
        "ops.mean(ops.sparse_categorical_crossentropy(t, x))",
        expect={"tensorflow": SEMANTICS, "keras": SEMANTICS},
        note="Keras losses default to from_logits=False: logits are taken for probabilities",
        reference="ref.cross_entropy(x, t)",
    ),
    Row(
        GROUP,
        "binary cross-entropy from logits",
        None,
        "F.binary_cross_entropy_with_logits(x, lab)",
        "tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=lab, logits=x))",
        "ops.mean(ops.binary_crossentropy(lab, x, from_logits=True))",
        reference="ref.binary_cross_entropy_with_logits(x, lab)",
    ),
    Row(
        GROUP,
        "mean squared error",
        "np.mean((x - y) ** 2)",
        "F.mse_loss(x, y)",
        "tf.reduce_mean(tf.square(x - y))",
        "ops.mean(ops.square(x - y))",
    ),
    Row(
        GROUP,
        "mean squared error, loss objects",
        "np.mean((x - y) ** 2)",
        "torch.nn.MSELoss()(x, y)",
        "tf.keras.losses.MeanSquaredError()(y, x)",
        "keras.losses.MeanSquaredError()(y, x)",
    ),
    Row(
        GROUP,
        "summed squared error",
        "np.sum((x - y) ** 2)",
        "F.mse_loss(x, y, reduction='sum')",
        "tf.keras.losses.MeanSquaredError(reduction='sum')(y, x)",
        "keras.losses.MeanSquaredError(reduction='sum')(y, x)",
        expect={"tensorflow": REDUCTION, "keras": REDUCTION},
        note="Keras's 'sum' sums the per-sample means (over the last axis): 4 times smaller here",
    ),
    Row(
        GROUP,
        "Huber loss, delta 1",
        None,
        "F.huber_loss(x, y)",
        "tf.keras.losses.Huber()(y, x)",
        None,
        reference="ref.huber(x, y)",
    ),
    Row(
        GROUP,
        "KL divergence, batch mean",
        "np.sum(ref.softmax(x) * (ref.log_softmax(x) - ref.log_softmax(y))) / 3",
        "F.kl_div(F.log_softmax(y, -1), F.softmax(x, -1), reduction='batchmean')",
        "tf.keras.losses.KLDivergence()(tf.nn.softmax(x), tf.nn.softmax(y))",
        None,
        note="F.kl_div takes (log q, p): the prediction's log-probabilities first",
    ),
    Row(
        GROUP,
        "KL divergence, PyTorch's default reduction",
        "np.sum(ref.softmax(x) * (ref.log_softmax(x) - ref.log_softmax(y))) / 3",
        "F.kl_div(F.log_softmax(y, -1), F.softmax(x, -1))",
        "tf.keras.losses.KLDivergence()(tf.nn.softmax(x), tf.nn.softmax(y))",
        None,
        expect={"pytorch": REDUCTION},
        note="reduction='mean' divides by every element, not the batch (and warns)",
    ),
)
