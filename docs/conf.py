"""Sphinx configuration for the executable PyTorch-versus-TensorFlow book.

Build with ``nox -s docs``, which runs ``sphinx-build -W --keep-going -n -T``
(the arguments are defined once, in ``_ext/book_sphinx/book_common.py``): every warning
is an error, and every chapter is executed, several at a time, or taken from
the execution cache when nothing it depends on changed.

This file only assigns settings. What must act (write the kernel's profile,
set its environment, read the commit for the footer) is done by the
extensions in ``_ext/`` when Sphinx starts, on ``config-inited``.
"""

import os
import sys
from pathlib import Path
from urllib.parse import urlparse

from companion.quiet import QUIET_ENVIRONMENT

DOCS = Path(__file__).parent.resolve()
ROOT = DOCS.parent
# The execution cache, kernel profile and compiler cache live here; `nox -s next`
# points BOOK_BUILD_DIR elsewhere so that its build shares nothing with this one.
BUILD = Path(os.environ.get("BOOK_BUILD_DIR") or DOCS / "_build").resolve()

# --- Project -----------------------------------------------------------------
project = "PyTorch and TensorFlow, side by side"
author = "The book's authors"
copyright = "2026, the book's authors"
release = version = "2026.11"

extensions = [
    "myst_nb",
    "sphinx_design",
    "sphinx_copybutton",
    "book_sphinx.copy_with_setup",
    "book_sphinx.framework_tabs",
    "book_sphinx.kernel_setup",
    "book_sphinx.execution_fingerprint",
    "book_sphinx.execution_scheduler",
    "book_sphinx.execution_report",
    "book_sphinx.provenance",
    "book_sphinx.claims",
    "book_sphinx.mathml",
    "book_sphinx.stream_merging",
    "book_sphinx.timing_outputs",
    "book_sphinx.reader_affordances",
    "book_sphinx.page_files",
    "book_sphinx.accessible_outputs",
    "book_sphinx.css_trim",
    "book_sphinx.generated_static",
    "sphinx_sitemap",
    "book_sphinx.sitemap_pages",
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
nb_execution_cache_path = str(BUILD / ".jupyter_cache")
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

# --- Executing the chapters ------------------------------------------------------
# Chapters execute before Sphinx reads them, one per CPU at a time; a chapter
# with `book: {execute_alone: true}` in its front matter runs while no other
# does (see _ext/book_sphinx/execution_scheduler.py). `nox -s docs -- <page>` sets
# execution_only to build one chapter.
execution_workers = 0  # one per CPU

# The kernel's IPython profile and environment (see _ext/book_sphinx/kernel_setup.py).
kernel_config_file = str(DOCS / "_kernel" / "kernel_config.py")
kernel_home = str(BUILD / ".ipython")
kernel_environment = {
    # TensorFlow's C++ log lines, at the one level every companion script and
    # process uses; oneDNN stays on (see the chapter on performance).
    **QUIET_ENVIRONMENT,
    # Fixed timestamps in figures (matplotlib writes the date into SVG metadata).
    "SOURCE_DATE_EPOCH": "1767225600",
    "PYTHONHASHSEED": "0",
    # torch.compile's generated code is cached where the build controls it.
    "TORCHINDUCTOR_CACHE_DIR": str(BUILD / ".inductor-cache"),
}

# What a chapter's cached outputs depend on besides its code (see
# _ext/book_sphinx/execution_fingerprint.py): the companion modules it imports, the
# kernel settings, and the distributions the kernel can import. Test-only
# and docs-only tools are not in this closure, so every session shares the cache.
fingerprint_package_dir = str(ROOT / "src" / "companion")
fingerprint_extra_files = [kernel_config_file]
fingerprint_distributions = ["companion[deploy]", "ipykernel"]

# The book's package, read (not imported) by the "copy with setup" slicer to
# see which of its functions change an argument in place (train_torch(model, ...)).
copy_with_setup_package_dir = fingerprint_package_dir

# Files a page loads that the build makes rather than the repository holds (see
# _ext/book_sphinx/generated_static.py): the draw-a-digit page's two models, trained and
# exported as the deployment chapter does, and onnxruntime-web's files from
# node_modules (`npm ci`, run by `nox -s docs`).
generated_static = [
    {
        "command": [sys.executable, "-m", "companion.deployment.demo_site"],
        "target": "_static/demo/site",
    },
]
generated_static_environment = dict(QUIET_ENVIRONMENT)
generated_static_dir = str(BUILD / "generated")  # shared by every rendering of this build

framework_tabs = {"pytorch": "PyTorch", "tensorflow": "TensorFlow"}
claims_file = "claims.yaml"
claims_ledger_docname = "appendix/ledger"

# The versions every executed page and the footer name (see _ext/book_sphinx/provenance.py).
provenance_packages = {"torch": "PyTorch", "tensorflow": "TensorFlow", "keras": "Keras"}
provenance_distribution_aliases = {
    "tensorflow": ["tensorflow", "tensorflow-cpu", "tensorflow-macos"],
}
provenance_stamp_patterns = ["chapters/*", "appendix/*"]

# --- HTML ----------------------------------------------------------------------
# Where the book is published. Read the Docs sets READTHEDOCS_CANONICAL_URL and
# the GitHub Pages workflow sets BOOK_BASE_URL; a local build points at the
# preview server of `nox -s serve`. Used for sitemap.xml, canonical links,
# social preview metadata and the 404 page's absolute links.
html_baseurl = (
    os.environ.get("BOOK_BASE_URL")
    or os.environ.get("READTHEDOCS_CANONICAL_URL")
    or "http://127.0.0.1:8000/"
).rstrip("/") + "/"

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
# A page's own script and style, loaded by that page only (see _ext/book_sphinx/page_files.py).
page_static_files = {"appendix/rosetta": ["rosetta.css", "rosetta.js"]}
# _templates/layout.html leaves out FontAwesome's 1.5 MB script and, off the
# search page, the search index; icons.css draws the icons the pages show.
# (Absolute, so the fixture book of tests/machinery, which reuses this file, finds them.)
templates_path = [str(DOCS / "_templates")]
html_css_files = ["book.css", "reader.css", "icons.css"]
html_favicon = str(DOCS / "_static" / "favicon.svg")
# One search field: the header's (on every width). The theme's sidebar repeats
# it and adds the book's title, which the sidebar's first link already is.
html_sidebars = {"**": ["sbt-sidebar-nav.html"]}
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
}

# Copy only the code: strip prompts from doctest and shell blocks, and never
# put a copy button on a cell's output.
copybutton_selector = "div:not(.cell_output) > div.highlight pre"
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True
copybutton_only_copy_prompt_lines = True
copybutton_remove_prompts = True
# The tests read these settings back from the built _static/copybutton.js
# and check that what the button copies runs (tests/reproduce/).
