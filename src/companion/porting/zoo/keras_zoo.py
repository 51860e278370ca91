"""The Keras half of the zoo: random models of every supported layer.

Sequential models are listed as ``(name, family, layers, input shape)``;
functional graphs (residual additions, concatenation, reshape and permute,
attention, recurrent states) are built by the small functions below.
"""

from __future__ import annotations

from companion.porting.zoo import ZooModel, random_normal, random_variances


def randomize(model, rng):
    """Random weights and moving variances (the Keras zoo's models)."""
    for weight in model.weights:
        shape = tuple(weight.shape)
        if "moving_variance" in weight.path:
            weight.assign(random_variances(rng, shape))
        elif weight.dtype.startswith("float"):
            weight.assign(random_normal(rng, shape, 0.5))
    return model


def _random_model(make, shape, tokens=None):
    """``make(keras, inputs)`` -> a model on an input of ``shape``, randomized; and an example."""

    def factory(rng):
        import keras

        keras.utils.set_random_seed(int(rng.integers(1 << 30)))
        dtype = "int32" if tokens else "float32"
        inputs = keras.Input(shape=shape[1:], dtype=dtype)
        model = randomize(make(keras, inputs), rng)
        if tokens:
            return model, rng.integers(0, tokens, size=shape)
        return model, random_normal(rng, shape)

    return factory


def _factory(build, shape, tokens=None):
    """``build(inputs)`` -> outputs of a functional model on an input of ``shape``."""
    return _random_model(
        lambda keras, inputs: keras.Model(inputs, build(inputs)), shape, tokens
    )


def _sequential(layers, shape, tokens=None):
    """``layers(keras.layers)`` -> the layers of a Sequential model on an input of ``shape``."""
    return _random_model(
        lambda keras, inputs: keras.Sequential(
            [inputs, *layers(keras.layers)]
        ),
        shape,
        tokens,
    )


IMAGE = (2, 8, 8, 3)
ROW = (3, 7)
SEQUENCE = (3, 6, 4)

#: (name, family, layers given keras.layers, input shape).
SEQUENTIAL = [
    ("Dense", "Linear / Dense", lambda k: [k.Dense(5)], ROW),
    ("Dense relu, no bias", "Linear / Dense",
     lambda k: [k.Dense(5, activation="relu", use_bias=False)], ROW),
    ("Dense on sequences", "Linear / Dense", lambda k: [k.Dense(5)], (3, 4, 7)),
    ("Conv2D", "convolution", lambda k: [k.Conv2D(6, 3)], IMAGE),
    ("Conv2D same", "convolution", lambda k: [k.Conv2D(6, 3, padding="same")], IMAGE),
    ("Conv2D same, even kernel", "convolution", lambda k: [k.Conv2D(6, 4, padding="same")], IMAGE),
    ("Conv2D same stride 2, even input (asymmetric)", "convolution",
     lambda k: [k.Conv2D(6, 3, strides=2, padding="same")], IMAGE),
    ("Conv2D same stride 2, odd input", "convolution",
     lambda k: [k.Conv2D(6, 3, strides=2, padding="same")], (2, 9, 9, 3)),
    ("Conv2D dilation 2", "convolution",
     lambda k: [k.Conv2D(6, 3, dilation_rate=2, padding="same")], IMAGE),
    ("Conv2D groups 3", "convolution", lambda k: [k.Conv2D(6, 3, groups=3)], IMAGE),
    ("Conv1D same", "convolution", lambda k: [k.Conv1D(5, 3, padding="same")], (2, 10, 3)),
    ("Conv1D causal", "convolution",
     lambda k: [k.Conv1D(5, 3, padding="causal", dilation_rate=2)], (2, 10, 3)),
    ("Conv1D stride 2 same", "convolution",
     lambda k: [k.Conv1D(5, 4, strides=2, padding="same")], (2, 10, 3)),
    ("Conv2DTranspose", "transposed convolution", lambda k: [k.Conv2DTranspose(4, 3)], IMAGE),
    ("Conv2DTranspose stride 2 same", "transposed convolution",
     lambda k: [k.Conv2DTranspose(4, 3, strides=2, padding="same")], IMAGE),
    ("Conv2DTranspose stride 2 same, kernel 4", "transposed convolution",
     lambda k: [k.Conv2DTranspose(4, 4, strides=2, padding="same")], IMAGE),
    ("MaxPooling2D", "pooling", lambda k: [k.MaxPooling2D(2)], IMAGE),
    ("MaxPooling2D same stride 2, odd input", "pooling",
     lambda k: [k.MaxPooling2D(3, strides=2, padding="same")], (2, 9, 9, 3)),
    ("MaxPooling2D same, asymmetric", "pooling",
     lambda k: [k.MaxPooling2D(2, strides=1, padding="same")], IMAGE),
    ("AveragePooling2D", "pooling", lambda k: [k.AveragePooling2D(3, strides=2)], IMAGE),
    ("AveragePooling2D same, symmetric", "pooling",
     lambda k: [k.AveragePooling2D(3, strides=1, padding="same")], IMAGE),
    ("MaxPooling1D", "pooling", lambda k: [k.MaxPooling1D(2)], (2, 10, 3)),
    ("AveragePooling1D", "pooling", lambda k: [k.AveragePooling1D(2)], (2, 10, 3)),
    ("GlobalAveragePooling2D", "pooling", lambda k: [k.GlobalAveragePooling2D()], IMAGE),
    ("GlobalMaxPooling2D keepdims", "pooling",
     lambda k: [k.GlobalMaxPooling2D(keepdims=True)], IMAGE),
    ("GlobalAveragePooling1D", "pooling", lambda k: [k.GlobalAveragePooling1D()], (2, 10, 3)),
    ("BatchNormalization, images", "BatchNorm", lambda k: [k.BatchNormalization()], IMAGE),
    ("BatchNormalization, features", "BatchNorm", lambda k: [k.BatchNormalization()], (4, 7)),
    ("BatchNormalization, sequences", "BatchNorm",
     lambda k: [k.BatchNormalization()], (2, 10, 3)),
    ("LayerNormalization", "LayerNorm", lambda k: [k.LayerNormalization()], (3, 4, 7)),
    ("LayerNormalization, images", "LayerNorm", lambda k: [k.LayerNormalization()], IMAGE),
    ("Dropout", "Dropout", lambda k: [k.Dense(5), k.Dropout(0.3)], ROW),
    ("Flatten + Dense (flatten order)", "Flatten, reshape, padding",
     lambda k: [k.Conv2D(4, 3), k.ReLU(), k.Flatten(), k.Dense(5)], IMAGE),
    ("Flatten as output", "Flatten, reshape, padding",
     lambda k: [k.Conv2D(2, 3), k.Flatten()], IMAGE),
    ("ZeroPadding2D", "Flatten, reshape, padding",
     lambda k: [k.ZeroPadding2D(((1, 2), (0, 1)))], IMAGE),
    *[
        (f"Activation {name}", "activations", (lambda k, n=name: [k.Activation(n)]), ROW)
        for name in (
            "relu", "gelu", "silu", "sigmoid", "tanh", "elu", "softplus",
            "leaky_relu", "selu", "hard_sigmoid", "mish",
        )
    ],
    ("ReLU(max_value=6)", "activations", lambda k: [k.ReLU(max_value=6.0)], ROW),
    ("LeakyReLU", "activations", lambda k: [k.LeakyReLU()], ROW),
    ("ELU(alpha=0.5)", "activations", lambda k: [k.ELU(alpha=0.5)], ROW),
    ("Softmax", "activations", lambda k: [k.Softmax()], ROW),
    ("Softmax over channels", "activations",
     lambda k: [k.Conv2D(4, 1), k.Softmax(axis=-1)], IMAGE),
    ("LSTM", "LSTM", lambda k: [k.LSTM(5)], SEQUENCE),
    ("LSTM sequences", "LSTM", lambda k: [k.LSTM(5, return_sequences=True)], SEQUENCE),
    ("LSTM bidirectional", "LSTM", lambda k: [k.Bidirectional(k.LSTM(5))], SEQUENCE),
    ("GRU", "GRU", lambda k: [k.GRU(5)], SEQUENCE),
    ("GRU bidirectional sequences", "GRU",
     lambda k: [k.Bidirectional(k.GRU(5, return_sequences=True))], SEQUENCE),
    ("Sequential CNN", "graphs (residual, concatenation, mean)",
     lambda k: [
         k.Conv2D(8, 3, padding="same"), k.BatchNormalization(), k.ReLU(), k.MaxPooling2D(2),
         k.Conv2D(8, 3, strides=2, padding="same", activation="gelu"), k.Flatten(), k.Dense(10),
     ], IMAGE),
]  # fmt: skip


def _residual(x):
    from keras import layers

    y = layers.Conv2D(4, 3, padding="same", use_bias=False)(x)
    y = layers.ReLU()(layers.BatchNormalization()(y))
    y = layers.Add()([y, x])
    pooled = layers.Concatenate()(
        [layers.GlobalAveragePooling2D()(y), layers.GlobalMaxPooling2D()(y)]
    )
    return layers.Dense(3, activation="softmax")(pooled)


def _reshape_permute(x):
    from keras import layers

    y = layers.Reshape((3, 4))(layers.Dense(12)(x))
    return layers.Flatten()(layers.Permute((2, 1))(y))


def _lstm_states(x):
    from keras import layers

    lstm = layers.LSTM(5, return_sequences=True, return_state=True)
    sequence, h, c = lstm(x)
    return [sequence, h, c]


def _attention(x):
    from keras import layers

    return layers.MultiHeadAttention(num_heads=4, key_dim=4)(x, x)


def _attention_scores(x):
    from keras import layers

    memory = layers.Dense(8)(x)
    out, scores = layers.MultiHeadAttention(num_heads=2, key_dim=4)(
        x, memory, return_attention_scores=True
    )
    return [out, scores]


def _transformer(tokens):
    from keras import layers

    x = layers.Embedding(20, 16)(tokens)
    attended = layers.MultiHeadAttention(2, 8)(x, x)
    x = layers.LayerNormalization(epsilon=1e-5)(x + attended)
    y = layers.Dense(32, activation="gelu")(x)
    x = layers.LayerNormalization()(x + layers.Dense(16)(y))
    return layers.GlobalAveragePooling1D()(x)


def _two_branches(x):
    from keras import layers

    a = layers.Conv2D(4, 3, strides=2, padding="same", activation="relu")(x)
    b = layers.Conv2D(4, 1)(layers.AveragePooling2D(2)(x))
    y = layers.Concatenate(axis=-1)([a, b])
    return layers.Dense(5)(layers.Flatten()(y))


def models() -> list[ZooModel]:
    """Every Keras zoo model, sequential ones first."""
    zoo = [
        ZooModel(name, family, _sequential(layers, shape))
        for name, family, layers, shape in SEQUENTIAL
    ]
    graphs = "graphs (residual, concatenation, mean)"
    embedding = _sequential(lambda k: [k.Embedding(11, 4)], (3, 5), tokens=11)
    zoo += [
        ZooModel("Embedding", "Embedding", embedding),
        ZooModel("LSTM states", "LSTM", _factory(_lstm_states, SEQUENCE)),
        ZooModel("MultiHeadAttention, self", "attention", _factory(_attention, (2, 5, 16))),
        ZooModel("MultiHeadAttention, cross, scores", "attention",
                 _factory(_attention_scores, (2, 5, 8))),
        ZooModel("residual + concatenate", graphs, _factory(_residual, (2, 8, 8, 4))),
        ZooModel("reshape + permute", graphs, _factory(_reshape_permute, ROW)),
        ZooModel("two branches", graphs, _factory(_two_branches, IMAGE)),
        ZooModel("transformer block", graphs, _factory(_transformer, (2, 6), tokens=20)),
    ]  # fmt: skip
    return zoo
