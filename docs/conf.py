"""Sphinx configuration for the executable PyTorch-versus-TensorFlow book.

Build with ``nox -s docs``, which runs ``sphinx-build -W --keep-going -n``:
every warning is an error, and every chapter is executed (or taken from the
execution cache when nothing it depends on changed).
"""

import os
import sys
from pathlib import Path

DOCS = Path(__file__).parent.resolve()
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))

from companion.environment import package_versions

# --- The kernel that executes the chapters -----------------------------------
# The kernel inherits this process's environment. Set it before any kernel starts.
KERNEL_HOME = DOCS / "_build" / ".ipython"
_kernel_config = KERNEL_HOME / "profile_default" / "ipython_kernel_config.py"
_kernel_config.parent.mkdir(parents=True, exist_ok=True)
_wanted = (DOCS / "_ext" / "kernel_config.py").read_text(encoding="utf-8")
if not _kernel_config.exists() or _kernel_config.read_text(encoding="utf-8") != _wanted:
    _kernel_config.write_text(_wanted, encoding="utf-8")
os.environ["IPYTHONDIR"] = str(KERNEL_HOME)
# TensorFlow's C++ INFO and WARNING lines; oneDNN stays on (see chapter on performance).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Fixed timestamps in figures (matplotlib writes the date into SVG metadata).
os.environ.setdefault("SOURCE_DATE_EPOCH", "1767225600")
os.environ.setdefault("PYTHONHASHSEED", "0")
# torch.compile's generated code is cached where the build controls it.
os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(DOCS / "_build" / ".inductor-cache"))

# Editing a local extension changes how every page is read: re-read them all
# (outputs come from the execution cache, so nothing is re-executed).
import hashlib

book_extensions_hash = hashlib.sha256(
    b"".join(path.read_bytes() for path in sorted((DOCS / "_ext").glob("*.py")))
).hexdigest()[:16]

# --- Project -----------------------------------------------------------------
_versions = package_versions(["torch", "tensorflow", "keras"])
project = "PyTorch and TensorFlow, side by side"
author = "The book's authors"
copyright = "2026, the book's authors"
release = version = "2026.11"

extensions = [
    "myst_nb",
    "sphinx_design",
    "sphinx_copybutton",
    "framework_tabs",
    "claims",
    "execution_fingerprint",
    "version_stamp",
    "mathml",
    "execution_report",
]

root_doc = "index"
exclude_patterns = ["_build", "README.md", "**/.ipynb_checkpoints"]
nitpicky = True
suppress_warnings: list[str] = []

# --- MyST and MyST-NB ----------------------------------------------------------
myst_enable_extensions = ["colon_fence", "dollarmath", "amsmath", "deflist", "attrs_inline"]
myst_heading_anchors = 3

nb_execution_mode = "cache"
nb_execution_cache_path = str(DOCS / "_build" / ".jupyter_cache")
# A failing cell is a warning (so an error under -W) rather than an exception:
# the build goes on and reports every failing chapter at once, and the
# execution_report extension names the cell and re-executes failed chapters.
nb_execution_raise_on_error = False
nb_execution_show_tb = True
nb_execution_timeout = 180  # seconds per cell; a chapter may raise it in its front matter
nb_execution_in_temp = True  # files a chapter writes land in a scratch directory
nb_execution_excludepatterns: list[str] = []  # every chapter runs: keep this empty
nb_merge_streams = True
nb_output_stderr = "show"

fingerprint_package_dir = str(ROOT / "src" / "companion")
fingerprint_extra_files = [str(DOCS / "_ext" / "kernel_config.py")]

framework_tabs = {"pytorch": "PyTorch", "tensorflow": "TensorFlow"}
claims_file = "claims.yaml"
claims_ledger_docname = "appendix/ledger"
version_stamp_patterns = ["chapters/*", "appendix/*"]

# --- HTML ----------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_title = project
html_static_path = ["_static"]
html_css_files = ["book.css"]
html_math_renderer = "mathml"
html_last_updated_fmt = None
html_copy_source = True
html_show_sourcelink = True
html_theme_options = {
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "navigation_with_keys": False,
    "extra_footer": (
        "Built with "
        + ", ".join(f"{name} {ver}" for name, ver in _versions.items())
        + ". Every output was produced by the code above it when the book was built."
    ),
}

# Copy only the code: strip prompts from doctest and shell blocks, and never
# put a copy button on a cell's output.
copybutton_selector = "div:not(.cell_output) > div.highlight pre"
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True
copybutton_only_copy_prompt_lines = True
copybutton_remove_prompts = True
