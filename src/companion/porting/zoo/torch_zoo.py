"""The PyTorch half of the zoo: random modules of every supported layer.

Sequential models are listed as ``(name, family, layers, input shape)``;
models whose ``forward`` is traced by ``torch.fx`` (residual additions,
views, permutes, attention, recurrent states) are small classes below.
"""

from __future__ import annotations

from companion.porting.zoo import ZooModel, random_normal, random_variances


def randomize(module, rng):
    """Random parameters and running statistics, in eval mode."""
    import torch

    with torch.no_grad():
        for parameter in module.parameters():
            parameter.copy_(
                torch.from_numpy(random_normal(rng, parameter.shape, 0.5))
            )
        for name, buffer in module.named_buffers():
            if name.endswith("running_var"):
                buffer.copy_(
                    torch.from_numpy(random_variances(rng, buffer.shape))
                )
            elif name.endswith("running_mean"):
                buffer.copy_(
                    torch.from_numpy(random_normal(rng, buffer.shape))
                )
    return module.eval()


def _factory(make, shape, tokens=None):
    def factory(rng):
        import torch

        torch.manual_seed(int(rng.integers(1 << 30)))
        module = randomize(make(), rng)
        if tokens:
            return module, rng.integers(0, tokens, size=shape)
        return module, random_normal(rng, shape)

    return factory


def _sequential(layers):
    def make():
        from torch import nn

        return nn.Sequential(*layers(nn))

    return make


IMAGE = (2, 3, 8, 8)
ROW = (3, 7)

#: (name, family, layers given torch.nn, input shape).
SEQUENTIAL = [
    ("Linear", "Linear / Dense", lambda nn: [nn.Linear(7, 5)], ROW),
    ("Linear, no bias", "Linear / Dense", lambda nn: [nn.Linear(7, 5, bias=False)], ROW),
    ("Linear on sequences", "Linear / Dense", lambda nn: [nn.Linear(7, 5)], (3, 4, 7)),
    ("Conv2d", "convolution", lambda nn: [nn.Conv2d(3, 6, 3)], IMAGE),
    ("Conv2d padding=1", "convolution", lambda nn: [nn.Conv2d(3, 6, 3, padding=1)], IMAGE),
    ("Conv2d padding='same', even kernel", "convolution",
     lambda nn: [nn.Conv2d(3, 6, 4, padding="same")], IMAGE),
    ("Conv2d stride 2 padding=1, even input", "convolution",
     lambda nn: [nn.Conv2d(3, 6, 3, stride=2, padding=1)], IMAGE),
    ("Conv2d stride 2 padding=1, odd input", "convolution",
     lambda nn: [nn.Conv2d(3, 6, 3, stride=2, padding=1)], (2, 3, 9, 9)),
    ("Conv2d dilation 2", "convolution",
     lambda nn: [nn.Conv2d(3, 6, 3, dilation=2, padding=2)], IMAGE),
    ("Conv2d groups 3", "convolution",
     lambda nn: [nn.Conv2d(3, 6, 3, groups=3, padding=1)], IMAGE),
    ("Conv2d depthwise", "convolution", lambda nn: [nn.Conv2d(4, 4, 3, groups=4)], (2, 4, 8, 8)),
    ("Conv2d padding (1, 2), stride (2, 1)", "convolution",
     lambda nn: [nn.Conv2d(3, 6, (3, 5), stride=(2, 1), padding=(1, 2))], IMAGE),
    ("Conv1d", "convolution", lambda nn: [nn.Conv1d(3, 5, 3, padding=1)], (2, 3, 10)),
    ("Conv1d stride 2 padding 2", "convolution",
     lambda nn: [nn.Conv1d(3, 5, 5, stride=2, padding=2)], (2, 3, 10)),
    ("Conv1d dilation 3", "convolution", lambda nn: [nn.Conv1d(3, 5, 3, dilation=3)], (2, 3, 12)),
    ("ConvTranspose2d", "transposed convolution", lambda nn: [nn.ConvTranspose2d(3, 4, 3)], IMAGE),
    ("ConvTranspose2d stride 2 padding 1 output_padding 1", "transposed convolution",
     lambda nn: [nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1)], IMAGE),
    ("ConvTranspose1d stride 2", "transposed convolution",
     lambda nn: [nn.ConvTranspose1d(3, 4, 4, stride=2, padding=1)], (2, 3, 7)),
    ("MaxPool2d", "pooling", lambda nn: [nn.MaxPool2d(2)], IMAGE),
    ("MaxPool2d 3 stride 2 padding 1, odd input", "pooling",
     lambda nn: [nn.MaxPool2d(3, stride=2, padding=1)], (2, 3, 9, 9)),
    ("AvgPool2d", "pooling", lambda nn: [nn.AvgPool2d(3, stride=2)], IMAGE),
    ("AvgPool2d padding 1, padding counted", "pooling",
     lambda nn: [nn.AvgPool2d(3, stride=1, padding=1)], IMAGE),
    ("MaxPool1d", "pooling", lambda nn: [nn.MaxPool1d(2)], (2, 3, 10)),
    ("AvgPool1d", "pooling", lambda nn: [nn.AvgPool1d(3, stride=2)], (2, 3, 11)),
    ("AdaptiveAvgPool2d(1)", "pooling", lambda nn: [nn.AdaptiveAvgPool2d(1), nn.Flatten()], IMAGE),
    ("AdaptiveMaxPool2d(1)", "pooling", lambda nn: [nn.AdaptiveMaxPool2d((1, 1))], IMAGE),
    ("AdaptiveAvgPool1d(1)", "pooling",
     lambda nn: [nn.AdaptiveAvgPool1d(1), nn.Flatten()], (2, 3, 10)),
    ("BatchNorm2d", "BatchNorm", lambda nn: [nn.BatchNorm2d(3)], IMAGE),
    ("BatchNorm2d eps 1e-3 momentum 0.01", "BatchNorm",
     lambda nn: [nn.BatchNorm2d(3, eps=1e-3, momentum=0.01)], IMAGE),
    ("BatchNorm2d affine=False", "BatchNorm", lambda nn: [nn.BatchNorm2d(3, affine=False)], IMAGE),
    ("BatchNorm1d on features", "BatchNorm", lambda nn: [nn.BatchNorm1d(7)], (4, 7)),
    ("BatchNorm1d on (N, C, L)", "BatchNorm", lambda nn: [nn.BatchNorm1d(3)], (2, 3, 10)),
    ("BatchNorm1d after Flatten", "BatchNorm",
     lambda nn: [nn.Conv2d(3, 2, 3), nn.Flatten(), nn.BatchNorm1d(72), nn.Linear(72, 3)], IMAGE),
    ("LayerNorm", "LayerNorm", lambda nn: [nn.LayerNorm(7)], (3, 4, 7)),
    ("LayerNorm no bias, eps 1e-6", "LayerNorm",
     lambda nn: [nn.LayerNorm(7, eps=1e-6, bias=False)], ROW),
    ("LayerNorm over (C, H, W)", "LayerNorm",
     lambda nn: [nn.Conv2d(3, 4, 3), nn.LayerNorm([4, 6, 6])], IMAGE),
    ("Dropout", "Dropout", lambda nn: [nn.Linear(7, 5), nn.Dropout(0.3)], ROW),
    ("Flatten + Linear (flatten order)", "Flatten, reshape, padding",
     lambda nn: [nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(144, 5)], IMAGE),
    ("Flatten + ReLU + Dropout + Linear", "Flatten, reshape, padding",
     lambda nn: [nn.Conv2d(3, 4, 3), nn.Flatten(), nn.ReLU(), nn.Dropout(), nn.Linear(144, 5)],
     IMAGE),
    ("Flatten as output", "Flatten, reshape, padding",
     lambda nn: [nn.Conv2d(3, 2, 3), nn.Flatten()], IMAGE),
    ("Unflatten", "Flatten, reshape, padding",
     lambda nn: [nn.Linear(7, 12), nn.Unflatten(1, (3, 4))], ROW),
    ("ZeroPad2d", "Flatten, reshape, padding", lambda nn: [nn.ZeroPad2d((1, 2, 0, 1))], IMAGE),
    *[
        (f"{name}", "activations", make, ROW)
        for name, make in [
            ("ReLU", lambda nn: [nn.ReLU()]),
            ("ReLU6", lambda nn: [nn.ReLU6()]),
            ("GELU exact", lambda nn: [nn.GELU()]),
            ("GELU tanh", lambda nn: [nn.GELU(approximate="tanh")]),
            ("SiLU", lambda nn: [nn.SiLU()]),
            ("Sigmoid", lambda nn: [nn.Sigmoid()]),
            ("Tanh", lambda nn: [nn.Tanh()]),
            ("Softmax", lambda nn: [nn.Softmax(dim=-1)]),
            ("LogSoftmax", lambda nn: [nn.LogSoftmax(dim=1)]),
            ("LeakyReLU", lambda nn: [nn.LeakyReLU()]),
            ("LeakyReLU(0.2)", lambda nn: [nn.LeakyReLU(0.2)]),
            ("ELU(0.7)", lambda nn: [nn.ELU(alpha=0.7)]),
            ("Softplus", lambda nn: [nn.Softplus()]),
            ("Mish", lambda nn: [nn.Mish()]),
            ("SELU", lambda nn: [nn.SELU()]),
            ("Hardsigmoid", lambda nn: [nn.Hardsigmoid()]),
            ("Hardswish", lambda nn: [nn.Hardswish()]),
        ]
    ],
    ("Softmax over channels", "activations",
     lambda nn: [nn.Conv2d(3, 4, 1), nn.Softmax(dim=1)], IMAGE),
    ("Sequential CNN", "graphs (residual, concatenation, mean)",
     lambda nn: [
         nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
         nn.Conv2d(8, 8, 3, stride=2, padding=1), nn.GELU(), nn.Flatten(), nn.Linear(32, 10),
     ], IMAGE),
]  # fmt: skip


def _by_name(*classes: type) -> dict[str, type]:
    """The model classes keyed by their names.

    >>> class Tiny: ...
    >>> _by_name(Tiny)["Tiny"] is Tiny
    True
    >>> _by_name("Tiny")
    Traceback (most recent call last):
        ...
    TypeError: expected a class, got str
    """
    for cls in classes:
        if not isinstance(cls, type):
            raise TypeError(f"expected a class, got {type(cls).__name__}")
    return {cls.__name__: cls for cls in classes}


def _graph_classes() -> dict:
    """Traced models with residual additions, views and permutes."""
    import torch
    from torch import nn

    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(4, 4, 3, padding=1)
            self.bn = nn.BatchNorm2d(4)
            self.conv2 = nn.Conv2d(4, 4, 3, padding="same")
            self.head = nn.Linear(8, 3)

        def forward(self, x):
            y = torch.relu(self.bn(self.conv1(x)))
            y = self.conv2(y) + x
            pooled = torch.cat([y.mean(dim=(2, 3)), y.amax(dim=(2, 3))], dim=1)
            return self.head(pooled)

    class FlattenView(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 5, 3, stride=2, padding=1)
            self.fc = nn.Linear(5 * 4 * 4, 4)

        def forward(self, x):
            y = self.conv(x)
            return self.fc(y.view(y.size(0), -1))

    class TransformerBlock(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(20, 16)
            self.attn = nn.MultiheadAttention(16, 2, batch_first=True)
            self.norm1 = nn.LayerNorm(16)
            self.ff = nn.Sequential(
                nn.Linear(16, 32), nn.GELU(), nn.Linear(32, 16)
            )
            self.norm2 = nn.LayerNorm(16)

        def forward(self, tokens):
            x = self.embed(tokens)
            x = self.norm1(x + self.attn(x, x, x, need_weights=False)[0])
            x = self.norm2(x + self.ff(x))
            return x.mean(dim=1)

    class Permuted(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(6, 4, 3, padding=1)
            self.norm = nn.LayerNorm(4)

        def forward(self, x):  # (N, T, F) sequences, convolved over time
            y = self.conv(x.transpose(1, 2))
            return self.norm(y.permute(0, 2, 1))

    return _by_name(Residual, FlattenView, TransformerBlock, Permuted)


def _sequence_classes() -> dict:
    """Traced models around recurrent layers and attention."""
    from torch import nn

    class Recurrent(nn.Module):
        def __init__(self, cell, bidirectional):
            super().__init__()
            self.rnn = cell(
                6, 5, batch_first=True, bidirectional=bidirectional
            )
            self.fc = nn.Linear(10 if bidirectional else 5, 3)

        def forward(self, x):
            out, _ = self.rnn(x)
            return self.fc(out[:, -1])

    class RecurrentStates(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.LSTM(6, 5, batch_first=True, bidirectional=True)

        def forward(self, x):
            out, (h, c) = self.rnn(x)
            return out, h[-1], c[0]

    class SelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = nn.MultiheadAttention(16, 4, batch_first=True)

        def forward(self, x):
            out, _ = self.attn(x, x, x)
            return out

    class CrossAttentionWeights(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = nn.MultiheadAttention(8, 2, batch_first=True)

        def forward(self, x):
            memory = x[:, :3]
            return self.attn(x, memory, memory)

    return _by_name(
        Recurrent, RecurrentStates, SelfAttention, CrossAttentionWeights
    )


def _classes() -> dict:
    """The traced models (defined on first use, so that importing needs no torch)."""
    return {**_graph_classes(), **_sequence_classes()}


def _traced(class_name, *args):
    def make():
        return _classes()[class_name](*args)

    return make


def _recurrent(cell: str, bidirectional: bool):
    def make():
        from torch import nn

        return _classes()["Recurrent"](getattr(nn, cell), bidirectional)

    return make


def models() -> list[ZooModel]:
    """Every PyTorch zoo model, sequential ones first."""
    zoo = [
        ZooModel(name, family, _factory(_sequential(layers), shape))
        for name, family, layers, shape in SEQUENTIAL
    ]
    embedding = _sequential(lambda nn: [nn.Embedding(11, 4)])
    graphs = "graphs (residual, concatenation, mean)"
    zoo += [
        ZooModel("Embedding", "Embedding", _factory(embedding, (3, 5), tokens=11)),
        ZooModel("LSTM", "LSTM", _factory(_recurrent("LSTM", False), (3, 5, 6))),
        ZooModel("LSTM bidirectional", "LSTM", _factory(_recurrent("LSTM", True), (3, 5, 6))),
        ZooModel("LSTM states (h_n, c_n)", "LSTM",
                 _factory(_traced("RecurrentStates"), (3, 5, 6))),
        ZooModel("GRU", "GRU", _factory(_recurrent("GRU", False), (3, 5, 6))),
        ZooModel("GRU bidirectional", "GRU", _factory(_recurrent("GRU", True), (3, 5, 6))),
        ZooModel("MultiheadAttention, self", "attention",
                 _factory(_traced("SelfAttention"), (2, 5, 16))),
        ZooModel("MultiheadAttention, cross, weights", "attention",
                 _factory(_traced("CrossAttentionWeights"), (2, 5, 8))),
        ZooModel("residual + cat + mean", graphs, _factory(_traced("Residual"), (2, 4, 8, 8))),
        ZooModel("view(N, -1)", graphs, _factory(_traced("FlattenView"), IMAGE)),
        ZooModel("transpose / permute", graphs, _factory(_traced("Permuted"), (2, 7, 6))),
        ZooModel("transformer block", graphs,
                 _factory(_traced("TransformerBlock"), (2, 6), tokens=20)),
    ]  # fmt: skip
    return zoo
