"""The rows the developer-experience chapter shows: everyday array tasks, three ways."""

from __future__ import annotations

from companion.tensor_api.snippets import Row, RowResult, run_row

ROWS: tuple[Row, ...] = (
    # Creation
    Row(
        "creation",
        "integer range, 2 x 3",
        "np.arange(6).reshape(2, 3)",
        tensorflow=(
            "tf.arange(6).reshape(2, 3)",
            "tf.reshape(tf.range(6), (2, 3))",
        ),
    ),
    Row(
        "creation",
        "from a list of floats",
        "np.array([1.0, 2.0])",
        pytorch=("torch.array([1.0, 2.0])", "torch.tensor([1.0, 2.0])"),
        tensorflow=("tf.constant([1.0, 2.0])",),
    ),
    Row("creation", "zeros", "np.zeros((2, 3))"),
    # Indexing and slicing
    Row("indexing", "one element", "a[1, 2]"),
    Row("indexing", "one column", "a[:, 1]"),
    Row(
        "indexing",
        "reverse the columns",
        "a[:, ::-1]",
        pytorch=("a[:, ::-1]", "a.flip(1)"),
    ),
    Row("indexing", "boolean mask", "a[a > 2]"),
    Row(
        "indexing",
        "pick columns by a list",
        "a[:, [0, 2]]",
        tensorflow=("a[:, [0, 2]]", "tf.gather(a, [0, 2], axis=1)"),
    ),
    # Broadcasting
    Row("broadcasting", "add a row to each row", "a + a[0]"),
    Row(
        "broadcasting",
        "centre each row",
        "a - a.mean(axis=1, keepdims=True)",
        tensorflow=(
            "a - a.mean(axis=1, keepdims=True)",
            "a - tf.reduce_mean(a, axis=1, keepdims=True)",
        ),
    ),
    # Reshaping and transposing
    Row(
        "reshaping",
        "reshape",
        "a.reshape(3, 2)",
        tensorflow=("a.reshape(3, 2)", "tf.reshape(a, (3, 2))"),
    ),
    Row(
        "reshaping", "transpose", "a.T", tensorflow=("a.T", "tf.transpose(a)")
    ),
    Row("reshaping", "new axis", "a[:, None, :].shape"),
    # In-place updates
    Row(
        "in-place",
        "set one element",
        "a[0, 0] = 100\na",
        tensorflow=(
            "a[0, 0] = 100\na",
            "v = tf.Variable(a)\nv[0, 0].assign(100)\nv",
        ),
    ),
    Row(
        "in-place",
        "a += 1 seen through an alias",
        "b = a\na += 1\nb",
        tensorflow=(
            "b = a\na += 1\nb",
            "b = v = tf.Variable(a)\nv.assign_add(tf.ones_like(a))\nb",
        ),
    ),
    # dtype promotion
    Row("dtypes", "int32 + Python float", "np.ones(2, dtype=np.int32) + 1.5"),
    Row("dtypes", "int32 / Python int", "np.ones(2, dtype=np.int32) / 2"),
    Row(
        "dtypes",
        "int64 + float32",
        "np.ones(2, dtype=np.int64) + np.ones(2, dtype=np.float32)",
    ),
    Row(
        "dtypes",
        "float32 + float64",
        "np.ones(2, dtype=np.float32) + np.ones(2, dtype=np.float64)",
    ),
    # Conversion to and from NumPy
    Row(
        "conversion",
        "wrap a NumPy array, then write to the array",
        "src = np.zeros(3, np.float32)\nt = np.asarray(src)\nsrc[0] = 1\nt",
        pytorch=(
            "src = np.zeros(3, np.float32)\nt = torch.from_numpy(src)\nsrc[0] = 1\nt",
        ),
        tensorflow=(
            "src = np.zeros(3, np.float32)\nt = tf.convert_to_tensor(src)\nsrc[0] = 1\nt",
        ),
    ),
    Row(
        "conversion",
        "copy a NumPy array, then write to the array",
        "src = np.zeros(3, np.float32)\nt = np.array(src)\nsrc[0] = 1\nt",
        pytorch=(
            "src = np.zeros(3, np.float32)\nt = torch.tensor(src)\nsrc[0] = 1\nt",
        ),
        tensorflow=(
            "src = np.zeros(3, np.float32)\nt = tf.constant(src)\nsrc[0] = 1\nt",
        ),
    ),
    Row(
        "conversion",
        "to NumPy, then write to the result",
        None,
        pytorch=("t = torch.zeros(3)\nn = t.numpy()\nn[0] = 1\nt",),
        tensorflow=("t = tf.zeros(3)\nn = t.numpy()\nn[0] = 1\nt",),
    ),
    # Devices
    Row("devices", "where the data lives", "a.device"),
    Row(
        "devices",
        "a GPU is visible",
        None,
        pytorch=("torch.cuda.is_available()",),
        tensorflow=("len(tf.config.list_physical_devices('GPU')) > 0",),
    ),
    Row(
        "devices",
        "place on the CPU explicitly",
        "a.to_device('cpu').device",
        pytorch=("a.to('cpu').device",),
        tensorflow=("with tf.device('/CPU:0'):\n    b = a + 0\nb.device",),
    ),
)

TOPICS = tuple(dict.fromkeys(row.topic for row in ROWS))


def run_rows(
    rows=ROWS, topics: tuple[str, ...] | None = None
) -> list[RowResult]:
    """Run ``rows`` (those of ``topics`` only, if given)."""
    if topics is not None:
        if isinstance(topics, str):
            raise TypeError(
                f"topics must be a tuple of names, e.g. ({topics!r},)"
            )
        known = {row.topic for row in rows}
        unknown = sorted(set(topics) - known)
        if unknown:
            raise ValueError(
                f"unknown topic(s) {unknown}; known: {sorted(known)}"
            )
        rows = [row for row in rows if row.topic in topics]
    return [run_row(row) for row in rows]
