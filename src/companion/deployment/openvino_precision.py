"""What precision OpenVINO's CPU plugin computes in, by default and when asked for float32.

OpenVINO's CPU plugin picks its inference precision from the processor: on
one that has bfloat16 instructions it computes in bfloat16 unless told
otherwise, which changes the logits in their third significant digit. The
deployment matrix runs OpenVINO with ``INFERENCE_PRECISION_HINT`` set to
``f32`` (see :mod:`companion.run_artifact`); :func:`compare_precisions` shows
what the default gives on the machine it runs on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from companion.deployment.evaluation import max_abs_diff
from companion.validation import check_images

#: The settings compared: the plugin's default, and float32 asked for.
SETTINGS = {
    "default": {},
    "INFERENCE_PRECISION_HINT=f32": {"INFERENCE_PRECISION_HINT": "f32"},
}


@dataclass(frozen=True)
class PrecisionRun:
    """One compilation of the model: its setting, the precision the plugin chose, the result."""

    setting: str
    precision: str
    max_abs_diff: float

    def line(self) -> str:
        return (
            f"{self.setting:<30} computes in {self.precision:<5} "
            f"max abs diff {self.max_abs_diff:.2g}"
        )


def compare_precisions(
    model: Path, images: np.ndarray, reference: np.ndarray
) -> list[PrecisionRun]:
    """Compile ``model`` (``model.xml`` or its folder) on the CPU for each of :data:`SETTINGS`.

    Each run's outputs on ``images`` are compared with ``reference``, the
    source model's logits.
    """
    import openvino

    model = Path(model)
    if model.is_dir():
        model = model / "model.xml"
    images = check_images(images)
    core = openvino.Core()
    runs = []
    for setting, config in SETTINGS.items():
        compiled = core.compile_model(
            str(model), "CPU", {**config, "INFERENCE_NUM_THREADS": 1}
        )
        outputs = compiled.create_infer_request().infer([images])[
            compiled.outputs[0]
        ]
        precision = compiled.get_property(
            "INFERENCE_PRECISION_HINT"
        ).get_type_name()
        runs.append(
            PrecisionRun(setting, precision, max_abs_diff(outputs, reference))
        )
    return runs
