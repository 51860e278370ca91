"""What the book was built with: package versions, machine, thread settings.

Everything here is cheap unless asked otherwise: versions come from package
metadata, so nothing imports torch or TensorFlow just to print a number.
``python -m companion`` prints :func:`report`.

>>> versions = package_versions(["numpy"])
>>> sorted(versions)
['numpy']
>>> package_versions(["no-such-package-here"])
{}
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
from importlib import metadata
from pathlib import Path

from companion.quiet import quiet_tensorflow_logs

#: Packages the book's outputs depend on, in the order reports list them.
KEY_PACKAGES = (
    "torch",
    "tensorflow",
    "keras",
    "numpy",
    "onnx",
    "onnxruntime",
    "onnxscript",
    "ai-edge-litert",
    "safetensors",
    "scikit-learn",
    "matplotlib",
    "sphinx",
    "myst-nb",
)

# TensorFlow is published under several distribution names.
DISTRIBUTION_ALIASES = {
    "tensorflow": ("tensorflow", "tensorflow-cpu", "tensorflow-macos")
}

#: Optional runtimes a chapter may use, by import name.
OPTIONAL_RUNTIMES = {
    "onnx": "onnx",
    "onnxruntime": "onnxruntime",
    "onnxscript": "onnxscript",
    "LiteRT interpreter": "ai_edge_litert.interpreter",
    "safetensors": "safetensors",
}


def package_versions(
    names: tuple[str, ...] | list[str] = KEY_PACKAGES,
) -> dict[str, str]:
    """Installed versions of ``names``, read from metadata; missing packages are left out.

    >>> "numpy" in package_versions()
    True
    """
    if isinstance(names, str):
        raise TypeError(
            "names must be a list or tuple of distribution names, not a str"
        )
    versions = {}
    for name in names:
        for dist in DISTRIBUTION_ALIASES.get(name, (name,)):
            try:
                versions[name] = metadata.version(dist)
                break
            except metadata.PackageNotFoundError:
                continue
    return versions


def cpu_model() -> str:
    """The CPU's model name, or the platform's processor string where /proc is absent."""
    try:
        with Path("/proc/cpuinfo").open(encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_summary() -> dict[str, str | int]:
    """Python version, operating system, CPU model and logical CPU count.

    >>> summary = machine_summary()
    >>> sorted(summary)
    ['cpu', 'logical_cpus', 'python', 'system']
    """
    return {
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.machine()}",
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count() or 1,
    }


def runtime_status() -> dict[str, str]:
    """Try to import each optional runtime; map its name to ``"ok"`` or the error."""
    status = {}
    for label, module in OPTIONAL_RUNTIMES.items():
        try:
            importlib.import_module(module)
        except Exception as error:  # any failure to import is what we report
            status[label] = f"not importable ({type(error).__name__}: {error})"
        else:
            status[label] = "ok"
    return status


def thread_settings() -> dict[str, int]:
    """Thread pools as the frameworks see them (imports torch and TensorFlow)."""
    import tensorflow as tf
    import torch

    return {
        "torch intra-op threads": torch.get_num_threads(),
        "torch inter-op threads": torch.get_num_interop_threads(),
        # 0 means "let TensorFlow choose", which is one thread per core.
        "tensorflow intra-op threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "tensorflow inter-op threads": tf.config.threading.get_inter_op_parallelism_threads(),
    }


def collect(*, import_frameworks: bool = True) -> dict:
    """Everything :func:`report` prints, as a dictionary."""
    data = {
        "machine": machine_summary(),
        "packages": package_versions(),
        "runtimes": runtime_status(),
    }
    if import_frameworks:
        data["threads"] = thread_settings()
    return data


def report(*, import_frameworks: bool = True) -> str:
    """A plain-text environment report, as printed by ``python -m companion``."""
    data = collect(import_frameworks=import_frameworks)
    lines = ["Machine"]
    lines += [f"  {key:<28}{value}" for key, value in data["machine"].items()]
    lines.append("Packages")
    lines += [
        f"  {name:<28}{version}" for name, version in data["packages"].items()
    ]
    missing = [name for name in KEY_PACKAGES if name not in data["packages"]]
    lines += [f"  {name:<28}not installed" for name in missing]
    lines.append("Optional runtimes")
    lines += [
        f"  {name:<28}{state}" for name, state in data["runtimes"].items()
    ]
    if "threads" in data:
        lines.append("Threads")
        lines += [
            f"  {name:<28}{count}" for name, count in data["threads"].items()
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m companion",
        description="Print the versions, machine and thread settings the book's outputs depend on.",
    )
    parser.add_argument(
        "--json", action="store_true", help="print JSON instead of text"
    )
    parser.add_argument(
        "--no-import",
        action="store_true",
        help="do not import torch or TensorFlow (faster; omits thread settings)",
    )
    args = parser.parse_args(argv)
    quiet_tensorflow_logs()
    if args.json:
        print(
            json.dumps(collect(import_frameworks=not args.no_import), indent=2)
        )
    else:
        print(report(import_frameworks=not args.no_import))
    return 0


if __name__ == "__main__":
    sys.exit(main())
