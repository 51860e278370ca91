"""companion.deployment.installability: pip's dry run, read without the machine's noise."""

from __future__ import annotations

import subprocess

import pytest

from companion.deployment import installability
from companion.deployment.installability import InstallCheck, check_install, conflict_lines

STDOUT = """Collecting xdsl==0.28.0
The conflict is caused by:
    xdsl 0.28.0 depends on typing-extensions<4.13 and >=4.7
    The user requested (constraint) typing-extensions==4.16.0

To fix this you could try to:
"""
STDERR = """WARNING: Location 'file:///somewhere/xdsl/' is ignored: it is neither a file nor
ERROR: Cannot install xdsl==0.28.0 because these package versions have conflicting dependencies.
ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/
"""


def fake_pip(monkeypatch, returncode, stdout="", stderr=""):
    calls = []

    def run(arguments, **_options):
        calls.append(arguments)
        return subprocess.CompletedProcess(arguments, returncode, stdout, stderr)

    monkeypatch.setattr(installability, "run_python", run)
    return calls


def test_a_refusal_keeps_pips_reason_and_drops_its_warnings(monkeypatch):
    calls = fake_pip(monkeypatch, 1, STDOUT, STDERR)
    check = check_install(["xdsl==0.28.0"])
    assert not check.installs
    assert check.conflict == (
        "ERROR: Cannot install xdsl==0.28.0 because these package versions have "
        "conflicting dependencies.",
        "The conflict is caused by:",
        "    xdsl 0.28.0 depends on typing-extensions<4.13 and >=4.7",
        "    The user requested (constraint) typing-extensions==4.16.0",
    )
    assert check.error.startswith("pip: Cannot install xdsl==0.28.0")
    assert "--dry-run" in calls[0]
    assert "xdsl==0.28.0" in calls[0]
    assert check.report().splitlines()[0].startswith("pip install --dry-run xdsl==0.28.0")


def test_a_request_that_resolves_installs(monkeypatch):
    fake_pip(monkeypatch, 0, "Would install xdsl-0.28.0\n")
    check = check_install(["xdsl==0.28.0"])
    assert check.installs
    assert check.error is None
    assert check.conflict == ()
    assert "resolves" in check.report()


def test_other_pip_errors_keep_their_first_error_line():
    lines = ["ERROR: Could not find a version that satisfies the requirement nope==1", "x"]
    assert conflict_lines(lines) == (lines[0],)


def test_the_installed_versions_are_pinned_and_the_book_left_out():
    pins = installability.installed_constraints().splitlines()
    assert any(line.lower().startswith("numpy==") for line in pins)
    assert not any(line.lower().startswith("companion==") for line in pins)


@pytest.mark.parametrize(("requirements", "error"), [("xdsl", TypeError), ([], ValueError)])
def test_check_install_checks_its_argument(requirements, error):
    with pytest.raises(error):
        check_install(requirements)


def test_checks_run_side_by_side_in_order(monkeypatch):
    fake_pip(monkeypatch, 0)
    first, second = installability.check_installs(["a==1"], ["b==2"])
    assert isinstance(first, InstallCheck)
    assert (first.requirements, second.requirements) == (("a==1",), ("b==2",))
