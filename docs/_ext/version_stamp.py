"""Show, under the title of each executed page, the versions and machine its outputs came from.

The versions are read from the installed distributions when the page is
built. The execution fingerprint (see ``execution_fingerprint``) guarantees
that cached outputs were produced with these same installed packages: a
different set of packages re-executes every page.
"""

from __future__ import annotations

from fnmatch import fnmatch

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform

from companion.environment import machine_summary, package_versions

STAMPED_PACKAGES = {"torch": "PyTorch", "tensorflow": "TensorFlow", "keras": "Keras"}


def stamp_text() -> str:
    versions = package_versions()
    named = ", ".join(
        f"{label} {versions.get(name, 'not installed')}" for name, label in STAMPED_PACKAGES.items()
    )
    machine = machine_summary()
    return (
        f"Outputs on this page were computed when the book was built, with {named} "
        f"(Python {machine['python']}) on {machine['cpu']}, "
        f"{machine['logical_cpus']} logical CPUs, {machine['system']}."
    )


class VersionStampTransform(SphinxTransform):
    default_priority = 890

    def apply(self, **kwargs) -> None:
        if not any(fnmatch(self.env.docname, p) for p in self.config.version_stamp_patterns):
            return
        if "kernelspec" not in self.env.metadata.get(self.env.docname, {}):
            return  # not an executed page: no outputs to stamp
        section = self.document.next_node(nodes.section)
        if section is None:
            return
        title = section.next_node(nodes.title)
        stamp = nodes.container(classes=["version-stamp"])
        stamp += nodes.paragraph(text=stamp_text())
        section.insert(section.index(title) + 1, stamp)


def setup(app: Sphinx) -> dict:
    app.add_config_value("version_stamp_patterns", ["chapters/*", "appendix/*"], "env")
    app.add_transform(VersionStampTransform)
    # conf.py sets this to a hash of docs/_ext, so editing an extension re-reads every page.
    app.add_config_value("book_extensions_hash", "", "env", types=[str])
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
