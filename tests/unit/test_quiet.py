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
