"""The executed NumPy / PyTorch / TensorFlow comparison behind the developer-experience chapter."""

import pytest

from companion.processes import run_python
from companion.tensor_api import (
    LIBRARIES,
    ROWS,
    Row,
    count_agreements,
    numpy_spelling_report,
    numpy_spelling_report_in_subprocess,
    render_html,
    run_row,
    run_rows,
    run_snippet,
    short_error,
    translate,
)


def row_named(task: str) -> Row:
    return next(row for row in ROWS if row.task == task)


def test_default_dtypes_differ_and_are_reported():
    result = run_row(row_named("from a list of floats"))
    assert result.outcome("numpy").key[1] == "float64"
    assert result.outcome("pytorch").key[1] == "float32"
    assert result.outcome("tensorflow").key[1] == "float32"
    assert result.agreement == "dtype"
    assert result.attempts["pytorch"][0].error == "AttributeError"  # torch.array


def test_transpose_needs_tf_transpose():
    result = run_row(row_named("transpose"))
    first, second = result.attempts["tensorflow"]
    assert first.error == "AttributeError"
    assert second.error is None
    assert result.agreement == "spelling"
    assert result.numpy_spelling_works("pytorch") is True
    assert result.numpy_spelling_works("tensorflow") is False


def test_negative_step_raises_in_pytorch_only():
    result = run_row(row_named("reverse the columns"))
    assert result.attempts["pytorch"][0].text.startswith("ValueError")
    assert result.numpy_spelling_works("tensorflow") is True


def test_plus_equals_on_a_tf_tensor_silently_leaves_the_alias_alone():
    result = run_row(row_named("a += 1 seen through an alias"))
    numpy_values = result.outcome("numpy").key[3]
    tf_first = result.attempts["tensorflow"][0]
    assert tf_first.error is None
    assert tf_first.key[3] != numpy_values  # b kept the old values
    assert result.outcome("tensorflow").key[3] == numpy_values  # tf.Variable route


def test_tensorflow_refuses_mixed_dtypes():
    result = run_row(row_named("float32 + float64"))
    assert result.attempts["tensorflow"][0].error == "InvalidArgumentError"
    assert result.attempts["pytorch"][0].key[1] == "float64"
    assert result.agreement == "raises"


def test_memory_sharing_is_measured_not_assumed():
    wrap = run_row(row_named("wrap a NumPy array, then write to the array"))
    assert wrap.outcome("numpy").key[3] == [1.0, 0.0, 0.0]
    assert wrap.outcome("pytorch").key[3] == [1.0, 0.0, 0.0]  # torch.from_numpy shares
    copy = run_row(row_named("copy a NumPy array, then write to the array"))
    assert all(copy.outcome(fw).key[3] == [0.0, 0.0, 0.0] for fw in LIBRARIES)


def test_every_row_runs_and_the_summary_adds_up():
    results = run_rows()
    counts = count_agreements(results)
    assert counts["rows"] == len(ROWS)
    assert 0 < counts["all agree"] < counts["rows"]
    assert counts["NumPy spelling works in PyTorch"] > counts["NumPy spelling works in TensorFlow"]
    for result in results:
        for framework in LIBRARIES:
            assert len(result.attempts[framework]) == len(result.row.attempts(framework))


def test_html_escapes_code_and_marks_rows():
    results = run_rows(topics=("reshaping", "indexing"))
    page = render_html(results, caption="a <caption>")
    assert "&lt;caption&gt;" in page
    assert "a[a &gt; 2]" in page
    assert 'class="task spelling"' in page
    assert page.count("<tr class=") == len(results)


def test_snippets_and_rows_are_validated():
    with pytest.raises(ValueError, match="expression"):
        run_snippet("b = a", "numpy")
    with pytest.raises(ValueError, match="framework must be one of"):
        run_snippet("a", "jax")
    with pytest.raises(TypeError, match="tuple of code strings"):
        Row("t", "task", "a", pytorch="a")
    with pytest.raises(ValueError, match="needs its own"):
        Row("t", "task", None)
    with pytest.raises(ValueError, match="unknown topic"):
        run_rows(topics=("nonsense",))
    with pytest.raises(TypeError, match="tuple of names"):
        run_rows(topics="indexing")
    with pytest.raises(TypeError, match="RowResult"):
        render_html(["<tr>"])
    with pytest.raises(ValueError, match="spelling must be one of"):
        numpy_spelling_report("jax")


def test_the_rows_file_is_checked_and_errors_name_the_row():
    from companion.tensor_api.rows import read_rows

    row = '[[row]]\ntopic = "indexing"\ntask = "one column"\n'
    assert read_rows(row + 'numpy = "a[:, 1]"') == (Row("indexing", "one column", "a[:, 1]"),)
    with pytest.raises(ValueError, match=r"rows\.toml, row 1 \('one column'\): a key must be"):
        read_rows(row + 'torch = ["a[:, 1]"]')
    with pytest.raises(TypeError, match=r"row 1 \('one column'\): pytorch must be a tuple"):
        read_rows(row + 'numpy = "a"\npytorch = "a[:, 1]"')
    with pytest.raises(ValueError, match=r"row 1 \('one column'\): .*needs its own"):
        read_rows(row)
    with pytest.raises(ValueError, match=r"row 1 \(None\): a row needs a task"):
        read_rows('[[row]]\ntopic = "indexing"\nnumpy = "a"')
    with pytest.raises(ValueError, match=r"x\.toml must hold \[\[row\]\] tables only"):
        read_rows('topic = "indexing"', "x.toml")


def test_translate_and_short_error():
    assert translate("np.ones(2, dtype=np.int32)", "pytorch") == "torch.ones(2, dtype=torch.int32)"
    message = short_error(TypeError("'tensorflow.python.framework.ops.EagerTensor' object x"))
    assert message == "TypeError: EagerTensor object x"
    assert len(short_error(ValueError("x" * 500))) <= 120


def test_numpy_behaviour_cli_refuses_a_pytorch_spelling():
    done = run_python(["-m", "companion.tensor_api", "--spelling", "pytorch", "--numpy-behavior"])
    assert done.returncode == 2
    assert "applies to TensorFlow spellings only" in done.stderr


def test_numpy_behaviour_changes_tensorflow_only_in_its_own_process():
    behaving = numpy_spelling_report_in_subprocess("tensorflow", numpy_behavior=True)
    assert behaving["transpose"] is True  # a.T works once NumPy behaviour is on
    assert behaving["set one element"] is False  # tensors stay immutable
    # ...and this process is untouched.
    assert numpy_spelling_report("tensorflow")["transpose"] is False
