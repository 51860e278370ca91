"""Sphinx configuration for the executable PyTorch-versus-TensorFlow book.

Build with ``nox -s docs``, which runs ``sphinx-build -W --keep-going -n``:
every warning is an error, and every chapter is executed (or taken from the
execution cache when nothing it depends on changed).
"""

import datetime
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

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
    "stream_merging",
    "timing_outputs",
    "reader_affordances",
    "sphinx_sitemap",
    "sphinxext.opengraph",
    "notfound.extension",
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
# The build date (UTC, day only) and commit shown in every page's footer. The
# date is the one part of a page that differs between two builds of the same
# commit on different days; tests/test_determinism.py masks it.
build_date = datetime.datetime.now(datetime.UTC).date().isoformat()


def _git_commit() -> str:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return ""  # not a git checkout (e.g. an unpacked archive): leave the commit out
    return result.stdout.strip()


build_commit = _git_commit()

# Where the book is published. Read the Docs sets READTHEDOCS_CANONICAL_URL and
# the GitHub Pages workflow sets BOOK_BASE_URL; a local build points at the
# preview server of `nox -s serve`. Used for sitemap.xml, canonical links,
# social preview metadata and the 404 page's absolute links.
html_baseurl = (
    os.environ.get("BOOK_BASE_URL")
    or os.environ.get("READTHEDOCS_CANONICAL_URL")
    or "http://127.0.0.1:8000/"
)
if not html_baseurl.endswith("/"):
    html_baseurl += "/"

# sitemap.xml: one URL per page, no language or version segment in the path.
sitemap_url_scheme = "{link}"
sitemap_excludes = ["search.html", "genindex.html", "404.html"]

# Social preview (Open Graph) metadata: title, description and one fixed image,
# not per-page generated cards (which would take a matplotlib run per page).
ogp_site_url = html_baseurl
ogp_site_name = project
ogp_image = "_static/social-preview.png"
ogp_image_alt = "A chapter of the book: PyTorch and TensorFlow code in synced tabs"
ogp_description_length = 200
ogp_social_cards = {"enable": False}
ogp_enable_meta_description = True

# A 404 page with absolute links, so it renders at any missing URL.
notfound_urls_prefix = urlparse(html_baseurl).path or "/"
notfound_context = {
    "title": "Page not found",
    "body": (
        "<h1>Page not found</h1>"
        "<p>There is no page at this address in this version of the book. "
        "Chapters are renamed now and then; start again from the "
        f'<a href="{urlparse(html_baseurl).path or "/"}index.html">front page</a> '
        "or use the search box.</p>"
    ),
}

html_theme = "sphinx_book_theme"
html_title = project
html_static_path = ["_static"]
html_css_files = ["book.css", "reader.css"]
html_math_renderer = "mathml"
html_last_updated_fmt = None
html_copy_source = True
html_show_sourcelink = True
# Without a default, pydata-sphinx-theme logs a console error on a reader's
# first visit ("Got invalid theme mode"); follow the system's setting instead.
html_context = {"default_mode": "auto"}
html_theme_options = {
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "navigation_with_keys": False,
    "extra_footer": (
        f'Built on <span class="build-date">{build_date}</span>'
        + (f" from commit <code>{build_commit}</code>" if build_commit else "")
        + " with "
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
# tests/test_copy_button.py reads these settings back from the built
# _static/copybutton.js and checks that what the button copies runs.
