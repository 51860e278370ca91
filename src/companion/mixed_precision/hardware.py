"""What this CPU offers for low precision, and what a plain matrix product gains from it.

:func:`cpu_report` reads the instruction-set flags Linux lists in
``/proc/cpuinfo`` (bfloat16 and float16 arithmetic, AMX tiles) and what
PyTorch detects. :func:`matmul_seconds` times a square matrix product in
float32, bfloat16 and float16 in either framework: where the CPU has
bfloat16 dot-product instructions (``avx512_bf16``, ``amx_bf16``) the
bfloat16 product can beat float32; without float16 arithmetic
(``avx512_fp16``, ``amx_fp16``) float16 is emulated and slow.

>>> sorted(FLAGS)[:3]
['amx_bf16', 'amx_fp16', 'amx_tile']
>>> report = cpu_report(flags_text="flags : avx2 avx512f avx512_bf16")
>>> report["avx512_bf16"], report["amx_bf16"]
(True, False)
"""

from __future__ import annotations

from pathlib import Path

from companion.frameworks import FRAMEWORKS, PYTORCH
from companion.timing import TimingResult, time_callable
from companion.validation import check_choice, check_int

#: The CPU flags that matter for low-precision arithmetic, and what each means.
FLAGS = {
    "avx2": "256-bit vectors",
    "avx512f": "512-bit vectors",
    "avx512_bf16": "bfloat16 dot products (AVX-512)",
    "avx512_fp16": "float16 arithmetic (AVX-512)",
    "amx_tile": "AMX matrix tiles",
    "amx_bf16": "bfloat16 matrix products on AMX tiles",
    "amx_fp16": "float16 matrix products on AMX tiles",
    "f16c": "float16 <-> float32 conversion only",
}
DTYPES = ("float32", "bfloat16", "float16")


def _cpu_flags(flags_text: str | None) -> set[str]:
    if flags_text is None:
        path = Path("/proc/cpuinfo")
        flags_text = path.read_text() if path.exists() else ""
    for line in flags_text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def cpu_report(flags_text: str | None = None) -> dict:
    """Which of :data:`FLAGS` the CPU lists (Linux), and PyTorch's view if it is imported."""
    import sys

    flags = _cpu_flags(flags_text)
    report = {name: name in flags for name in FLAGS}
    if "torch" in sys.modules:
        import torch

        report["torch CPU capability"] = (
            torch.backends.cpu.get_cpu_capability()
        )
        report["torch oneDNN available"] = torch.backends.mkldnn.is_available()
    return report


def _operands(framework: str, size: int, dtype: str):
    import numpy as np

    values = np.random.default_rng(0).standard_normal((size, size))
    if framework == PYTORCH:
        import torch

        return torch.from_numpy(values.astype(np.float32)).to(
            getattr(torch, dtype)
        )
    import tensorflow as tf

    return tf.cast(tf.constant(values, tf.float32), getattr(tf, dtype))


def matmul_seconds(
    framework: str, size: int = 512, repeats: int = 5
) -> dict[str, TimingResult]:
    """Seconds for one ``size`` x ``size`` matrix product in each of :data:`DTYPES`."""
    check_choice("framework", framework, FRAMEWORKS)
    check_int("size", size, minimum=1)
    check_int("repeats", repeats, minimum=1)
    timings = {}
    for dtype in DTYPES:
        a = _operands(framework, size, dtype)
        if framework == PYTORCH:
            product = lambda a=a: a @ a  # noqa: E731
        else:
            import tensorflow as tf

            product = lambda a=a: tf.linalg.matmul(a, a).numpy()  # noqa: E731
        timings[dtype] = time_callable(product, warmup=1, repeats=repeats)
    return timings
