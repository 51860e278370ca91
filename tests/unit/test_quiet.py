import os

import pytest

from companion.quiet import quiet_tensorflow_logs


def test_sets_the_cpp_log_level(monkeypatch):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    quiet_tensorflow_logs(3)
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3"


@pytest.mark.parametrize(("level", "error"), [(4, ValueError), (-1, ValueError), ("2", TypeError)])
def test_rejects_bad_levels(level, error, monkeypatch):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    with pytest.raises(error, match="level must be"):
        quiet_tensorflow_logs(level)


class CapturingStream:
    """What ipykernel's OutStream holds when it captures file descriptor 2."""

    def __init__(self, fd: int, original: int):
        import threading

        self._original_stdstream_fd = fd
        self._original_stdstream_copy = original
        self._should_watch = True
        self.watch_fd_thread = threading.Thread(target=lambda: None)
        self.watch_fd_thread.start()
        self.flushed = False

    def flush(self):
        self.flushed = True


def test_a_kernels_capture_of_native_stderr_is_released(monkeypatch, tmp_path):
    import sys

    from companion.quiet import release_native_stderr

    pipe_read, pipe_write = os.pipe()  # stands for the kernel's pipe on descriptor 2
    target = os.open(tmp_path / "terminal", os.O_WRONLY | os.O_CREAT)  # the kernel's stderr
    stream = CapturingStream(pipe_write, target)
    monkeypatch.setattr(sys, "stderr", stream)
    try:
        assert release_native_stderr() is True
        assert stream.flushed
        assert not stream._should_watch
        os.write(pipe_write, b"native line\n")  # now lands where the terminal is
        assert (tmp_path / "terminal").read_bytes() == b"native line\n"
        assert release_native_stderr() is False  # once released, nothing more to do
    finally:
        for fd in (pipe_read, pipe_write, target):
            os.close(fd)


def test_outside_a_kernel_nothing_is_released():
    from companion.quiet import release_native_stderr

    assert release_native_stderr() is False


def test_the_python_logger_is_quietened_unless_asked_not_to(monkeypatch):
    import logging

    import tensorflow  # noqa: F401  (the Python logger can only be set once it has loaded)

    logger = logging.getLogger("tensorflow")
    monkeypatch.setattr(logger, "level", logging.INFO)
    quiet_tensorflow_logs(3, python_logger=False)
    assert logger.level == logging.INFO
    quiet_tensorflow_logs(3)
    assert logger.level == logging.ERROR
    with pytest.raises(TypeError, match="python_logger must be a bool"):
        quiet_tensorflow_logs(3, python_logger="no")


def test_a_chapters_first_cell_leaves_tensorflows_warnings_as_a_fresh_kernel_shows_them():
    # Imported first or not, TensorFlow's Python logger keeps its level: a snippet run
    # where TensorFlow loaded before the chapter's first cell prints the page's lines.
    from companion.processes import run_python

    code = (
        "import logging, tensorflow; logger = logging.getLogger('tensorflow'); "
        "logger.setLevel(logging.INFO); "
        "from companion.reproducibility import prepare_chapter; prepare_chapter(); "
        "print(logging.getLevelName(logger.level))"
    )
    assert run_python(["-c", code]).stdout.strip() == "INFO"
