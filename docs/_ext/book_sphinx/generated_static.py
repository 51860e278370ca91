"""Static files that a command makes at build time, copied into the built site.

Some pages load files that are not sources: the draw-a-digit page loads
models the build trains and exports, and a runtime from ``node_modules``.
They are not committed. Each entry of ``generated_static`` names a command
and a target folder inside the site::

    generated_static = [
        {"command": [sys.executable, "-m", "some.module"], "target": "_static/demo/site"},
    ]

When the builder starts, every command runs once with one more argument, a
folder of its own under ``generated_static_dir`` (by default ``generated``
next to the output folder),
and is expected to keep that folder up to date (and to return quickly when it
already is: this extension does no caching of its own). A command that fails
stops the build with its last lines of output. When an HTML build finishes,
each folder is copied to its target in the output. The extension knows
nothing about what the commands make.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)


def _folder(app, target: str) -> Path:
    # One folder per build directory, not per output: a second rendering into
    # another output folder reuses what the first made instead of making it anew.
    base = Path(app.config.generated_static_dir or Path(app.outdir).parent / "generated")
    return base / target.strip("/").replace("/", "--")


def _entries(app) -> list[dict]:
    entries = app.config.generated_static
    for entry in entries:
        if not isinstance(entry, dict) or {"command", "target"} - set(entry):
            raise ExtensionError(
                f"generated_static entries need a 'command' and a 'target', got {entry!r}"
            )
    return entries


def run_commands(app) -> None:
    for entry in _entries(app):
        folder = _folder(app, entry["target"])
        folder.mkdir(parents=True, exist_ok=True)
        command = [*map(str, entry["command"]), str(folder)]
        environment = {**os.environ, **app.config.generated_static_environment}
        done = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-5:])
            raise ExtensionError(f"{' '.join(command)} failed (exit {done.returncode}):\n{tail}")
        logger.info(done.stdout.strip() or f"{entry['target']}: made")


def copy_outputs(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    for entry in _entries(app):
        target = Path(app.outdir) / entry["target"]
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(_folder(app, entry["target"]), target)


def setup(app):
    # No page's doctree depends on these (the folders are copied after writing),
    # so a change, such as another interpreter in ``command``, re-reads nothing.
    app.add_config_value("generated_static", [], "", types=frozenset({list}))
    app.add_config_value("generated_static_environment", {}, "", types=frozenset({dict}))
    app.add_config_value("generated_static_dir", "", "", types=frozenset({str}))
    app.connect("builder-inited", run_commands)
    app.connect("build-finished", copy_outputs)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
