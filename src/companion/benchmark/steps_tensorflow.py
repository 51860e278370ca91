"""One TensorFlow step or batch, ready to time, in each TensorFlow and Keras mode.

:func:`tf_step` is what the performance chapter shows; its source is
printed there as it stands.
"""

from __future__ import annotations

import numpy as np

from companion.benchmark.settings import (
    ADAM_EPSILON,
    FIT_STEPS_PER_EPOCH,
    LEARNING_RATE,
)
from companion.cnn import build_keras_cnn
from companion.transformer import TransformerConfig, build_keras_transformer


def _build_keras_model(model: str, config: TransformerConfig):
    """A fresh model built from seed 0: the digits CNN or the transformer."""
    if model == "cnn":
        return build_keras_cnn(seed=0)
    return build_keras_transformer(config, seed=0)


def _check_keras_backend() -> None:
    import keras

    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            "the TensorFlow modes need Keras on its TensorFlow backend; "
            f"KERAS_BACKEND is {keras.backend.backend()!r}"
        )


def tf_step(model: str, task: str, mode: str, x, y, config: TransformerConfig):
    """A zero-argument callable for one step or batch in TensorFlow (Keras 3 model).

    ``train`` in the ``tf-*`` modes is a ``GradientTape`` step with a Keras
    Adam optimizer, run eagerly, in ``tf.function``, or in
    ``tf.function(jit_compile=True)``; the whole step (forward, loss,
    gradients, update) is inside the function. ``keras`` uses ``fit`` on an
    epoch of :data:`FIT_STEPS_PER_EPOCH` copies of the batch, and ``predict``;
    ``keras-on-batch`` uses ``train_on_batch`` and ``predict_on_batch``. Both
    compile the model with Keras's default ``jit_compile="auto"``, which
    turns XLA on only when TensorFlow sees a GPU.
    """
    import keras
    import tensorflow as tf

    _check_keras_backend()
    network = _build_keras_model(model, config)
    if model == "cnn":
        from companion.digits import to_channels_last

        x = to_channels_last(x)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = keras.optimizers.Adam(
        learning_rate=LEARNING_RATE, epsilon=ADAM_EPSILON
    )

    if mode == "keras-on-batch":
        if task == "predict":
            return lambda: network.predict_on_batch(x)
        network.compile(optimizer=optimizer, loss=loss_fn)
        return lambda: network.train_on_batch(x, y)
    if mode == "keras":
        if task == "predict":
            return lambda: network.predict(x, batch_size=len(x), verbose=0)
        network.compile(optimizer=optimizer, loss=loss_fn)
        epoch_x = np.concatenate([x] * FIT_STEPS_PER_EPOCH)
        epoch_y = np.concatenate([y] * FIT_STEPS_PER_EPOCH)

        def fit_epoch():
            return network.fit(
                epoch_x,
                epoch_y,
                batch_size=len(x),
                epochs=1,
                shuffle=False,
                verbose=0,
            )

        return fit_epoch

    inputs = tf.constant(x)
    labels = tf.constant(y)

    if task == "predict":

        def predict():
            return network(inputs, training=False)

        function = predict
    else:
        optimizer.build(network.trainable_variables)

        def train_step():
            with tf.GradientTape() as tape:
                loss = loss_fn(labels, network(inputs, training=True))
            gradients = tape.gradient(loss, network.trainable_variables)
            optimizer.apply_gradients(
                zip(gradients, network.trainable_variables, strict=True)
            )
            return loss

        function = train_step
    if mode == "tf-function":
        return tf.function(function)
    if mode == "tf-function-xla":
        return tf.function(function, jit_compile=True)
    return function
