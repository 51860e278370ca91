import json
import sys

import pytest

from companion import environment
from companion.processes import check_run, run_python


def test_package_versions_reads_metadata_without_importing_frameworks():
    before = set(sys.modules)
    versions = environment.package_versions(["torch", "tensorflow", "keras"])
    assert versions["torch"].startswith("2.13.0")
    assert versions["tensorflow"] == "2.21.0"
    assert versions["keras"].startswith("3.")
    newly_imported = set(sys.modules) - before
    assert "torch" not in newly_imported
    assert "tensorflow" not in newly_imported


def test_package_versions_rejects_a_bare_string():
    with pytest.raises(TypeError, match="list or tuple"):
        environment.package_versions("torch")


def test_machine_summary_has_a_cpu_and_a_count():
    summary = environment.machine_summary()
    assert summary["logical_cpus"] >= 1
    assert summary["cpu"]


def test_runtime_status_reports_each_runtime():
    status = environment.runtime_status()
    assert set(status) == set(environment.OPTIONAL_RUNTIMES)
    assert status["onnxruntime"] == "ok"


def test_python_dash_m_companion_prints_a_report():
    result = check_run(run_python(["-m", "companion", "--no-import"]), "the report")
    assert "Packages" in result.stdout
    assert "torch" in result.stdout
    assert "Threads" not in result.stdout  # --no-import skips the framework import


def test_json_report_includes_threads():
    result = check_run(run_python(["-m", "companion", "--json"]), "the JSON report")
    data = json.loads(result.stdout)
    assert data["threads"]["torch intra-op threads"] >= 1
    assert data["packages"]["tensorflow"] == "2.21.0"


def test_bad_flag_exits_non_zero_with_usage():
    result = run_python(["-m", "companion", "--bogus"])
    assert result.returncode == 2
    assert "unrecognized arguments: --bogus" in result.stderr
