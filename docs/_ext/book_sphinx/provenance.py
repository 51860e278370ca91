"""Say on every page what produced its outputs: versions, machine, build and company.

* **Version stamp.** Under the title of each executed page matching
  ``provenance_stamp_patterns``: the versions of ``provenance_packages``,
  read from the installed distributions, the machine, and whether the page
  was executed alone or alongside another page (its timings then include
  that load; see ``execution_scheduler``). A page left out of a partial
  build says so instead. The execution fingerprint guarantees that cached
  outputs were produced with these same packages.
* **Footer.** The build date (UTC, day only), the commit, and the same
  versions, in every page's footer (the theme's ``extra_footer``).
"""

from __future__ import annotations

import datetime
import subprocess
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.config import Config

from book_sphinx.book_common import (
    PRIORITY_VERSION_STAMP,
    machine_summary,
    package_versions,
)
from book_sphinx.page_transforms import ExecutedPageTransform, insert_under_title


def headline_versions(config: Config) -> dict[str, str]:
    """``{label: version}`` of the packages the stamp and footer name."""
    names = list(config.provenance_packages)
    versions = package_versions(names, config.provenance_distribution_aliases)
    return {
        label: versions.get(name, "not installed")
        for name, label in config.provenance_packages.items()
    }


def versions_sentence(config: Config) -> str:
    return ", ".join(f"{label} {version}" for label, version in headline_versions(config).items())


def doc_link(docname: str) -> addnodes.pending_xref:
    """A link to ``docname`` that Sphinx fills with the page's title."""
    link = addnodes.pending_xref(
        "", refdomain="std", reftype="doc", reftarget=f"/{docname}", refexplicit=False
    )
    link += nodes.inline(docname, docname)
    return link


def stamp(config: Config, execution: dict) -> nodes.container:
    box = nodes.container(classes=["version-stamp"])
    if execution.get("failed"):
        box += nodes.paragraph(
            text=f"This page failed to execute in this build ({execution['failed']}), "
            "so it shows no outputs."
        )
        return box
    if execution.get("left_out"):
        box += nodes.paragraph(
            text="This page was left out of this build of selected chapters: it was not "
            "executed, so it shows no outputs. A full build executes it."
        )
        return box
    para = nodes.paragraph(
        text=f"Outputs on this page were computed when the book was built, with "
        f"{versions_sentence(config)} ({machine_summary()})."
    )
    alongside = execution.get("alongside") or []
    if execution.get("alone"):
        para += nodes.Text(" The page was executed alone on that machine.")
    elif alongside:
        para += nodes.Text(" It was executed while ")
        for index, docname in enumerate(alongside):
            if index:
                para += nodes.Text(", ")
            para += doc_link(docname)
        para += nodes.Text(" ran on another core; timings include that load.")
    box += para
    return box


class VersionStampTransform(ExecutedPageTransform):
    default_priority = PRIORITY_VERSION_STAMP
    patterns_option = "provenance_stamp_patterns"

    def apply_to_page(self, docname: str) -> None:
        execution = getattr(self.env, "book_execution", {}).get(docname, {})
        insert_under_title(self.document, stamp(self.config, execution))


def git_commit(directory: Path) -> str:
    """The checked-out commit, or "" outside a git checkout (an unpacked archive)."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=directory,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return ""
    return result.stdout.strip()


def footer(config: Config, confdir: Path) -> str:
    # The date is the one part of a page that differs between two builds of the
    # same commit on different days; the rendering check masks it.
    date = datetime.datetime.now(datetime.UTC).date().isoformat()
    commit = git_commit(confdir)
    return (
        f'Built on <span class="build-date">{date}</span>'
        + (f" from commit <code>{commit}</code>" if commit else "")
        + f" with {versions_sentence(config)}. Every output was produced by the code above "
        "it when the book was built."
    )


def add_footer(app: Sphinx, config: Config) -> None:
    if config.provenance_footer:
        options = dict(config.html_theme_options)
        options["extra_footer"] = footer(config, Path(app.confdir))
        config.html_theme_options = options


def setup(app: Sphinx) -> dict:
    app.add_config_value("provenance_packages", {}, "env", types=[dict])
    app.add_config_value("provenance_distribution_aliases", {}, "env", types=[dict])
    app.add_config_value("provenance_stamp_patterns", ["*"], "env", types=[list])
    app.add_config_value("provenance_footer", True, "html", types=[bool])
    app.add_transform(VersionStampTransform)
    app.connect("config-inited", add_footer)
    return {"version": "2.0", "parallel_read_safe": True, "parallel_write_safe": True}
