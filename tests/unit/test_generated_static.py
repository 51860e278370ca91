"""book_sphinx.generated_static: a command's folder, made before reading, copied into the site."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest
from book_sphinx import generated_static
from sphinx.errors import ExtensionError

MAKE = "import sys, pathlib; (pathlib.Path(sys.argv[1]) / 'made.txt').write_text('yes')"


def fake_app(tmp_path, command):
    config = SimpleNamespace(
        generated_static=[{"command": command, "target": "_static/demo/site"}],
        generated_static_environment={"EXTRA": "1"},
        generated_static_dir="",
    )
    outdir = tmp_path / "html"
    outdir.mkdir()
    return SimpleNamespace(
        config=config, outdir=str(outdir), builder=SimpleNamespace(format="html")
    )


def test_the_command_fills_its_folder_and_the_build_copies_it(tmp_path):
    app = fake_app(tmp_path, [sys.executable, "-c", MAKE])
    generated_static.run_commands(app)
    generated_static.copy_outputs(app, None)
    assert (tmp_path / "html" / "_static" / "demo" / "site" / "made.txt").read_text() == "yes"


def test_a_failing_command_stops_the_build_with_its_output(tmp_path):
    app = fake_app(tmp_path, [sys.executable, "-c", "raise SystemExit('no models')"])
    with pytest.raises(ExtensionError, match="no models"):
        generated_static.run_commands(app)


def test_nothing_is_copied_after_a_failed_build(tmp_path):
    app = fake_app(tmp_path, [sys.executable, "-c", MAKE])
    generated_static.run_commands(app)
    generated_static.copy_outputs(app, RuntimeError("failed"))
    assert not (tmp_path / "html" / "_static").exists()


def test_an_entry_without_a_target_is_an_error(tmp_path):
    app = fake_app(tmp_path, ["true"])
    app.config.generated_static = [{"command": ["true"]}]
    with pytest.raises(ExtensionError, match="'command' and a 'target'"):
        generated_static.run_commands(app)


def test_a_second_output_folder_reuses_the_build_directory_s_folder(tmp_path):
    app = fake_app(tmp_path, [sys.executable, "-c", MAKE])
    app.config.generated_static_dir = str(tmp_path / "build" / "generated")
    generated_static.run_commands(app)
    made = tmp_path / "build" / "generated" / "_static--demo--site" / "made.txt"
    assert made.read_text() == "yes"
