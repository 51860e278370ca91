"""Prepare the kernel that executes the chapters, before any kernel starts.

A Jupyter kernel inherits the environment of the process that starts it, and
IPython reads its settings from the profile in ``IPYTHONDIR``. So on
``config-inited`` this extension

* writes ``kernel_config_file`` into a private IPython profile under
  ``kernel_home`` (only when its content changed, so the file keeps its
  timestamp), and points ``IPYTHONDIR`` at it;
* sets every variable of ``kernel_environment`` (for example the frameworks'
  log levels, or a fixed ``SOURCE_DATE_EPOCH`` for figure metadata) unless
  the caller already set it.

``execution_fingerprint`` hashes both, so a change to either re-executes the
chapters.
"""

from __future__ import annotations

import os
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config


def profile_path(kernel_home: Path) -> Path:
    return kernel_home / "profile_default" / "ipython_kernel_config.py"


def write_if_changed(path: Path, text: str) -> None:
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def prepare_kernel(app: Sphinx, config: Config) -> None:
    if config.kernel_config_file:
        home = Path(config.kernel_home or Path(app.outdir).parent / ".ipython")
        text = Path(config.kernel_config_file).read_text(encoding="utf-8")
        write_if_changed(profile_path(home), text)
        os.environ["IPYTHONDIR"] = str(home)
    for name, value in config.kernel_environment.items():
        os.environ.setdefault(name, str(value))


def setup(app: Sphinx) -> dict:
    app.add_config_value("kernel_config_file", "", "env", types=[str])
    app.add_config_value("kernel_home", "", "", types=[str])
    app.add_config_value("kernel_environment", {}, "env", types=[dict])
    # Before the other extensions' config-inited handlers (the fingerprint reads these).
    app.connect("config-inited", prepare_kernel, priority=100)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
