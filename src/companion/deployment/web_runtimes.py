"""Where the browser runtimes' files are, which of them a page needs, and their versions.

The browser runtimes come from the npm registry, installed by ``npm ci`` from
the book's ``package.json`` and ``package-lock.json`` into ``node_modules``
at the top of the repository (``nox -s docs`` does it). A page needs only a
few of each package's files:

* **onnxruntime-web**: ``ort.wasm.min.mjs`` (the WebAssembly-only build), the
  Emscripten glue ``ort-wasm-simd-threaded.mjs`` it imports, and the
  ``ort-wasm-simd-threaded.wasm`` the glue fetches, all from one folder.
* **LiteRT.js** (``@litertjs/core``): its ES module, the ``@litertjs/wasm-utils``
  module it imports by bare name (a page maps the name with an import map),
  and a folder of WebAssembly builds, one of which it picks by feature
  detection.

:data:`URL_PREFIXES` says where a page finds each of them.

>>> sorted(URL_PREFIXES)
['/litert/core/', '/litert/wasm-utils/', '/litert/wasm/', '/ort/']
>>> ORT_FILES
('ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm')
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

#: The npm packages the pages load, by the name the book gives their runtime.
PACKAGES = {
    "onnxruntime-web": "onnxruntime-web",
    "litert.js": "@litertjs/core",
}
#: The versions ``package.json`` pins. They are repeated here so that a new
#: version (which changes what the deployment chapter measures) changes this
#: module, and with it the chapter's execution fingerprint; a unit test keeps
#: the two in step, and :func:`node_modules` refuses any other installed version.
VERSIONS = {"onnxruntime-web": "1.30.0", "litert.js": "2.5.3"}

#: The files of onnxruntime-web a page fetches (in this order).
ORT_FILES = (
    "ort.wasm.min.mjs",
    "ort-wasm-simd-threaded.mjs",
    "ort-wasm-simd-threaded.wasm",
)

#: URL prefix -> folder inside node_modules.
URL_PREFIXES = {
    "/ort/": "onnxruntime-web/dist",
    "/litert/core/": "@litertjs/core/dist",
    "/litert/wasm-utils/": "@litertjs/wasm-utils/dist",
    "/litert/wasm/": "@litertjs/core/wasm",
}

#: The environment variable that names another node_modules folder.
NODE_MODULES_VARIABLE = "BOOK_NODE_MODULES"

_SOURCE_MAP = re.compile(rb"^//# sourceMappingURL=.*$\n?", re.MULTILINE)


def _candidates():
    if os.environ.get(NODE_MODULES_VARIABLE):
        yield Path(os.environ[NODE_MODULES_VARIABLE])
        return
    # An editable install: src/companion/deployment/ -> the repository's top.
    yield Path(__file__).resolve().parents[3] / "node_modules"
    for folder in (Path.cwd(), *Path.cwd().parents):
        yield folder / "node_modules"


def node_modules() -> Path:
    """The ``node_modules`` folder that holds the browser runtimes.

    ``$BOOK_NODE_MODULES`` if set, else the one at the top of the book's
    repository (beside ``package.json``), else the nearest one above the
    working directory.
    """
    for folder in _candidates():
        if all(
            (folder / package / "package.json").is_file()
            for package in PACKAGES.values()
        ):
            found = versions(folder)
            if found != VERSIONS:
                raise FileNotFoundError(
                    f"{folder} holds {found}, the book pins {VERSIONS}: run `npm ci` at the "
                    "top of the book's repository"
                )
            return folder
    raise FileNotFoundError(
        "the browser runtimes are not installed: run `npm ci` at the top of the book's "
        f"repository (`nox -s docs` does), or set {NODE_MODULES_VARIABLE} to a node_modules "
        f"folder holding {' and '.join(PACKAGES.values())}"
    )


def versions(folder: Path | None = None) -> dict[str, str]:
    """The installed version of each runtime's npm package, by runtime name."""
    folder = folder or node_modules()
    return {
        runtime: json.loads((folder / package / "package.json").read_text())[
            "version"
        ]
        for runtime, package in PACKAGES.items()
    }


def resolve(url_path: str, folder: Path | None = None) -> Path | None:
    """The file behind ``url_path`` (e.g. ``/ort/ort.wasm.min.mjs``); None if none is served there.

    Only names directly inside a mapped folder are served: no subfolders, no ``..``.
    """
    for prefix, relative in URL_PREFIXES.items():
        if url_path.startswith(prefix):
            name = url_path.removeprefix(prefix)
            if not name or "/" in name or name.startswith("."):
                return None
            path = (folder or node_modules()) / relative / name
            return path if path.is_file() else None
    return None


def without_source_map(data: bytes) -> bytes:
    """A script without its ``//# sourceMappingURL`` line, so no browser asks for a ``.map``.

    >>> without_source_map(b"a();\\n//# sourceMappingURL=a.js.map\\n")
    b'a();\\n'
    """
    return _SOURCE_MAP.sub(b"", data)


def copy_onnxruntime_web(target: Path) -> list[Path]:
    """Copy the onnxruntime-web files a page needs into ``target``; return the copies."""
    source = node_modules() / URL_PREFIXES["/ort/"]
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name in ORT_FILES:
        data = (source / name).read_bytes()
        if name.endswith(".mjs"):
            data = without_source_map(data)
        (target / name).write_bytes(data)
        written.append(target / name)
    return written


__all__ = [
    "NODE_MODULES_VARIABLE",
    "ORT_FILES",
    "PACKAGES",
    "URL_PREFIXES",
    "VERSIONS",
    "copy_onnxruntime_web",
    "node_modules",
    "resolve",
    "versions",
    "without_source_map",
]
