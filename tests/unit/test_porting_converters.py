"""torch_to_keras and keras_to_torch on random models of every supported layer, both ways.

TEST_RTOL is the tests' float32 tolerance, the converters' default: every
pair of models must agree to 1e-5 of the output's scale, on the example
and on a fresh batch of another size. The largest difference measured per
layer family and direction is written to
test-artifacts/porting-tolerances.json (each test worker merges its share).
"""

import fcntl
import json

import numpy as np
import pytest

from companion.porting import (
    DEFAULT_RTOL,
    keras_to_torch_conversion,
    relative_difference,
    torch_to_keras_conversion,
)
from companion.porting.layout import to_keras_array, to_torch_array
from companion.porting.zoo import FAMILIES, keras_models, one_per_family, torch_models

pytestmark = pytest.mark.filterwarnings(
    # PyTorch's note that padding="same" with an even kernel pads a copy.
    "ignore:Using padding='same' with even kernel:UserWarning"
)

TEST_RTOL = DEFAULT_RTOL
TORCH_ZOO = {model.name: model for model in torch_models()}
KERAS_ZOO = {model.name: model for model in keras_models()}
#: direction -> family -> [largest relative difference, models converted], this worker's share.
MEASURED: dict = {"torch_to_keras": {}, "keras_to_torch": {}}


def note(direction: str, family: str, difference: float) -> None:
    largest, count = MEASURED[direction].get(family, (0.0, 0))
    MEASURED[direction][family] = (max(largest, difference), count + 1)


@pytest.fixture(scope="module", autouse=True)
def tolerance_record():
    """After the tests, merge this worker's measurements into the shared record."""
    yield
    from book_html import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "porting-tolerances.json"
    with path.open("a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        text = handle.read()
        record = json.loads(text) if text else {"tolerance": TEST_RTOL}
        for direction, families in MEASURED.items():
            merged = record.setdefault(direction, {})
            for family, (largest, count) in families.items():
                old = merged.get(family, {"largest": 0.0, "models": 0})
                merged[family] = {
                    "largest": max(old["largest"], largest),
                    "models": old["models"] + count,
                }
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(record, indent=1))


def fresh_input(example, rng):
    """Another batch (of 5) shaped like ``example``."""
    if np.issubdtype(example.dtype, np.integer):
        return rng.integers(0, example.max() + 1, size=(5, *example.shape[1:]))
    return rng.normal(size=(5, *example.shape[1:])).astype(np.float32)


def run_torch(module, x):
    import torch

    with torch.no_grad():
        out = module(torch.from_numpy(x))
    return [o.numpy() for o in (out if isinstance(out, tuple | list) else [out])]


def run_keras(model, x):
    from companion.porting.conversion import flatten_outputs

    return [np.asarray(o) for o in flatten_outputs(model(x, training=False))]


#: direction -> (converter, runs the source model, runs the converted one, input to its layout)
DIRECTIONS = {
    "torch_to_keras": (torch_to_keras_conversion, run_torch, run_keras, to_keras_array),
    "keras_to_torch": (keras_to_torch_conversion, run_keras, run_torch, to_torch_array),
}


def check_conversion(direction: str, zoo_model, seed: int) -> None:
    """Convert ``zoo_model`` along ``direction``; both models agree on the example and beyond."""
    convert, run_source, run_converted, to_converted_layout = DIRECTIONS[direction]
    rng = np.random.default_rng(seed)
    source, example = zoo_model.factory(rng)
    conversion = convert(source, example)
    note(direction, zoo_model.family, conversion.relative_difference)
    assert conversion.relative_difference <= TEST_RTOL
    # A new batch of another size agrees too: nothing depends on the example.
    x = fresh_input(example, rng)
    got = run_converted(conversion.model, to_converted_layout(x, conversion.input_layouts[0]))
    for expected, output, layout in zip(
        run_source(source, x), got, conversion.output_layouts, strict=True
    ):
        # An output layout maps PyTorch's array to Keras's: compare in Keras's layout.
        if direction == "torch_to_keras":
            difference = relative_difference(to_keras_array(expected, layout), output)
        else:
            difference = relative_difference(expected, to_keras_array(output, layout))
        assert difference <= TEST_RTOL


@pytest.mark.parametrize("name", list(TORCH_ZOO))
def test_torch_to_keras(name):
    check_conversion("torch_to_keras", TORCH_ZOO[name], seed=1)


@pytest.mark.parametrize("name", list(KERAS_ZOO))
def test_keras_to_torch(name):
    check_conversion("keras_to_torch", KERAS_ZOO[name], seed=2)


def check_round_trip(direction: str, zoo_model, seed: int) -> None:
    """Convert ``zoo_model`` along ``direction`` and back: the result computes the original."""
    convert, run_source, _, to_there = DIRECTIONS[direction]
    back_direction = "keras_to_torch" if direction == "torch_to_keras" else "torch_to_keras"
    convert_back, _, run_back, to_back = DIRECTIONS[back_direction]
    source, example = zoo_model.build(seed)
    there = convert(source, example)
    there_example = to_there(example, there.input_layouts[0])
    back = convert_back(there.model, there_example)
    got = run_back(back.model, to_back(there_example, back.input_layouts[0]))
    for expected, output, first, second in zip(
        run_source(source, example), got, there.output_layouts, back.output_layouts, strict=True
    ):
        if direction == "torch_to_keras":
            difference = relative_difference(
                to_keras_array(expected, first), to_keras_array(output, second)
            )
        else:
            # Both legs map a PyTorch tensor to a Keras one: undo the second, apply the first.
            restored = to_keras_array(to_torch_array(output, second), first)
            difference = relative_difference(expected, restored)
        assert difference <= TEST_RTOL


@pytest.mark.parametrize("zoo_model", one_per_family(torch_models()), ids=lambda m: m.family)
def test_torch_round_trip(zoo_model):
    """PyTorch -> Keras -> PyTorch computes the original function."""
    check_round_trip("torch_to_keras", zoo_model, seed=3)


@pytest.mark.parametrize("zoo_model", one_per_family(keras_models()), ids=lambda m: m.family)
def test_keras_round_trip(zoo_model):
    """Keras -> PyTorch -> Keras computes the original function."""
    check_round_trip("keras_to_torch", zoo_model, seed=4)


def test_every_family_is_covered_in_both_directions():
    for zoo in (TORCH_ZOO, KERAS_ZOO):
        assert {model.family for model in zoo.values()} == set(FAMILIES)


@pytest.mark.parametrize("kind", ["residual_cnn", "gru_classifier"])
def test_the_chapter_models_train_and_convert_both_ways(kind, digits_split):
    from companion.digits import to_channels_last
    from companion.porting import demo_models as demo

    images = digits_split.x_train[:96]
    labels = digits_split.y_train[:96]
    torch_inputs = images if kind == "residual_cnn" else demo.as_sequences(images)
    keras_inputs = to_channels_last(images) if kind == "residual_cnn" else torch_inputs
    module = demo.train_torch(getattr(demo, f"torch_{kind}")(0), torch_inputs, labels, epochs=1)
    model = demo.train_keras(getattr(demo, f"keras_{kind}")(0), keras_inputs, labels, epochs=1)
    there = torch_to_keras_conversion(module, torch_inputs[:32])
    back = keras_to_torch_conversion(model, keras_inputs[:32])
    assert max(there.relative_difference, back.relative_difference) <= TEST_RTOL
    torch_predictions = demo.torch_logits(module, torch_inputs).argmax(1)
    keras_predictions = demo.keras_logits(there.model, keras_inputs).argmax(1)
    assert (torch_predictions == keras_predictions).all()
