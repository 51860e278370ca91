"""Elementwise math: functions of one and two arrays, and mixed dtypes.

Most functions are spelled the same way in all four libraries, with the
arguments in the same order; they are listed as tables of function names
(``None`` where a library has none) and turned into rows.
"""

from companion.rosetta.rows.labels import MATH, PROMOTION, RAISES
from companion.rosetta.table import Row

GROUP = MATH

#: (operation, argument, NumPy, PyTorch, TensorFlow, keras.ops).
UNARY = [
    ("sine", "x", "np.sin", "torch.sin", "tf.sin", "ops.sin"),
    ("cosine", "x", "np.cos", "torch.cos", "tf.cos", "ops.cos"),
    ("tangent", "x", "np.tan", "torch.tan", "tf.tan", "ops.tan"),
    ("arcsine", "u", "np.arcsin", "torch.asin", "tf.asin", "ops.arcsin"),
    ("arccosine", "u", "np.arccos", "torch.acos", "tf.acos", "ops.arccos"),
    ("arctangent", "x", "np.arctan", "torch.atan", "tf.atan", "ops.arctan"),
    ("hyperbolic sine", "x", "np.sinh", "torch.sinh", "tf.sinh", "ops.sinh"),
    ("hyperbolic cosine", "x", "np.cosh", "torch.cosh", "tf.cosh", "ops.cosh"),
    ("hyperbolic tangent", "x", "np.tanh", "torch.tanh", "tf.tanh", "ops.tanh"),
    ("inverse hyperbolic sine", "x", "np.arcsinh", "torch.asinh", "tf.asinh", "ops.arcsinh"),
    ("inverse hyperbolic cosine", "p + 1", "np.arccosh", "torch.acosh", "tf.acosh", "ops.arccosh"),
    ("inverse hyperbolic tangent", "u", "np.arctanh", "torch.atanh", "tf.atanh", "ops.arctanh"),
    ("exponential", "x", "np.exp", "torch.exp", "tf.exp", "ops.exp"),
    ("exp(x) - 1", "x", "np.expm1", "torch.expm1", "tf.math.expm1", "ops.expm1"),
    ("2 ** x", "x", "np.exp2", "torch.exp2", None, "ops.exp2"),
    ("natural log", "p", "np.log", "torch.log", "tf.math.log", "ops.log"),
    ("log(1 + x)", "p", "np.log1p", "torch.log1p", "tf.math.log1p", "ops.log1p"),
    ("log base 2", "p", "np.log2", "torch.log2", None, "ops.log2"),
    ("log base 10", "p", "np.log10", "torch.log10", None, "ops.log10"),
    ("square root", "p", "np.sqrt", "torch.sqrt", "tf.sqrt", "ops.sqrt"),
    ("reciprocal square root", "p", None, "torch.rsqrt", "tf.math.rsqrt", "ops.rsqrt"),
    ("square", "x", "np.square", "torch.square", "tf.square", "ops.square"),
    ("absolute value", "x", "np.abs", "torch.abs", "tf.abs", "ops.abs"),
    ("negative", "x", "np.negative", "torch.neg", "tf.negative", "ops.negative"),
    ("sign", "x", "np.sign", "torch.sign", "tf.sign", "ops.sign"),
    ("floor", "x * 3", "np.floor", "torch.floor", "tf.floor", "ops.floor"),
    ("ceiling", "x * 3", "np.ceil", "torch.ceil", "tf.math.ceil", "ops.ceil"),
    ("round half to even", "x * 3", "np.round", "torch.round", "tf.round", "ops.round"),
    ("truncate toward zero", "x * 3", "np.trunc", "torch.trunc", None, "ops.trunc"),
    ("reciprocal", "p", "np.reciprocal", "torch.reciprocal", "tf.math.reciprocal", "ops.reciprocal"),
    ("error function", "x", None, "torch.erf", "tf.math.erf", "ops.erf"),
    ("degrees to radians", "x", "np.deg2rad", "torch.deg2rad", None, "ops.deg2rad"),
]  # fmt: skip

#: NumPy code for the functions NumPy itself lacks.
REFERENCES = {
    "reciprocal square root": "1 / np.sqrt(p)",
    "error function": "np.vectorize(__import__('math').erf, otypes=[np.float32])(x)",
}

#: (operation, arguments, NumPy, PyTorch, TensorFlow, keras.ops).
BINARY = [
    ("add", "x, y", "np.add", "torch.add", "tf.add", "ops.add"),
    ("subtract", "x, y", "np.subtract", "torch.sub", "tf.subtract", "ops.subtract"),
    ("multiply", "x, y", "np.multiply", "torch.mul", "tf.multiply", "ops.multiply"),
    ("divide", "x, p", "np.divide", "torch.div", "tf.divide", "ops.divide"),
    ("power", "p, y", "np.power", "torch.pow", "tf.pow", "ops.power"),
    ("maximum", "x, y", "np.maximum", "torch.maximum", "tf.maximum", "ops.maximum"),
    ("minimum", "x, y", "np.minimum", "torch.minimum", "tf.minimum", "ops.minimum"),
    ("arctan2", "x, y", "np.arctan2", "torch.atan2", "tf.atan2", "ops.arctan2"),
    ("hypotenuse", "x, y", "np.hypot", "torch.hypot", None, "ops.hypot"),
    ("log(exp(x) + exp(y))", "x, y", "np.logaddexp", "torch.logaddexp", None, "ops.logaddexp"),
    ("copy sign", "x, y", "np.copysign", "torch.copysign", None, None),
    ("floor division of ints", "i, j", "np.floor_divide", "torch.floor_divide",
     "tf.math.floordiv", "ops.floor_divide"),
    ("remainder with the divisor's sign", "i, j", "np.mod", "torch.remainder",
     "tf.math.floormod", "ops.mod"),
    ("remainder with the dividend's sign", "i, j", "np.fmod", "torch.fmod",
     "tf.truncatemod", None),
]  # fmt: skip


def _from_table(table, references=None) -> list[Row]:
    references = references or {}
    rows = []
    for name, arguments, *functions in table:
        codes = [f"{f}({arguments})" if f else None for f in functions]
        reference = references.get(name)
        note = (
            "NumPy has no such function: compared with NumPy code"
            if reference
            else ""
        )
        rows.append(Row(GROUP, name, *codes, reference=reference, note=note))
    return rows


MIXED = [
    Row(GROUP, "clip", "np.clip(x, -0.5, 0.5)", "torch.clamp(x, -0.5, 0.5)",
        "tf.clip_by_value(x, -0.5, 0.5)", "ops.clip(x, -0.5, 0.5)"),
    Row(GROUP, "int32 + Python float", "i + 1.5", "i + 1.5", "i + 1.5", "ops.add(i, 1.5)",
        expect={"pytorch": PROMOTION, "tensorflow": RAISES, "keras": PROMOTION},
        note="NumPy 2 gives float64, PyTorch its default float32; TensorFlow refuses to cast"),
    Row(GROUP, "int32 / int32", "i / j", "i / j", "i / j", "ops.divide(i, j)",
        expect={"pytorch": PROMOTION, "keras": PROMOTION},
        note="true division: float64 in NumPy and TensorFlow, float32 in PyTorch"),
    Row(GROUP, "float32 + float64", "x + np.ones((3, 4))",
        "x + torch.ones(3, 4, dtype=torch.float64)", "x + tf.ones((3, 4), tf.float64)",
        "ops.add(x, ops.ones((3, 4), 'float64'))", expect={"tensorflow": RAISES},
        note="TensorFlow never promotes between tensors: cast first"),
    Row(GROUP, "int64 + float32", "t.reshape(3, 1) + x", "t.reshape(3, 1) + x",
        "tf.reshape(t, (3, 1)) + x", "ops.add(ops.reshape(t, (3, 1)), x)",
        expect={"pytorch": PROMOTION, "tensorflow": RAISES, "keras": PROMOTION},
        note="NumPy gives float64, PyTorch and keras.ops float32"),
    Row(GROUP, "float32 * Python int", "x * 2", "x * 2", "x * 2", "ops.multiply(x, 2)"),
    Row(GROUP, "integer power", "i ** 2", "i ** 2", "i ** 2", "ops.power(i, 2)"),
    Row(GROUP, "% on negative ints", "i % j", "i % j", "i % j", "ops.mod(i, j)",
        note="all four take the divisor's sign (floor modulo), unlike C"),
    Row(GROUP, "// on negative ints", "i // j", "i // j", "i // j", "ops.floor_divide(i, j)"),
    Row(GROUP, "cast float to int", "(x * 3).astype(np.int32)", "(x * 3).to(torch.int32)",
        "tf.cast(x * 3, tf.int32)", "ops.cast(x * 3, 'int32')",
        note="all four truncate toward zero"),
    Row(GROUP, "NaN to a number", "np.nan_to_num(np.log(x))", "torch.nan_to_num(torch.log(x))",
        "tf.where(tf.math.is_nan(tf.math.log(x)), 0.0, tf.math.log(x))",
        "ops.nan_to_num(ops.log(x))",
        note="NaN becomes 0; nan_to_num would also turn infinities into float32's limits"),
]  # fmt: skip

ROWS = (*_from_table(UNARY, REFERENCES), *_from_table(BINARY), *MIXED)
