"""The names a benchmark is asked for: models, tasks, devices and execution modes.

This module imports nothing heavy, so a command line can offer these names
(and answer ``--help``) before torch and TensorFlow load.

>>> sorted(MODES)[:3]
['keras', 'keras-on-batch', 'tf-eager']
>>> MODES["tf-function-xla"].label
'tf.function(jit_compile=True)'
>>> MODES["tf-eager"].short
'TensorFlow eager'
"""

from __future__ import annotations

from dataclasses import dataclass

from companion.frameworks import FRAMEWORKS, PYTORCH, TENSORFLOW
from companion.validation import check_choice

MODELS = ("cnn", "transformer")
TASKS = ("train", "predict")
TASK_TITLES = {"train": "training step", "predict": "inference batch"}
DEVICES = ("auto", "cpu", "cuda", "mps")


@dataclass(frozen=True, kw_only=True)
class Mode:
    """One way of running a model: a framework and how its code is executed.

    Built with keyword arguments only, so a table of modes reads as one.
    """

    name: str
    label: str
    framework: str  # an id from companion.frameworks.FRAMEWORKS
    description: str
    short: str = ""  # a label that fits narrow tables; defaults to ``label``

    def __post_init__(self):
        check_choice("framework", self.framework, FRAMEWORKS)
        if not self.short:
            object.__setattr__(self, "short", self.label)


MODES: dict[str, Mode] = {
    mode.name: mode
    for mode in (
        Mode(
            name="torch-eager",
            label="PyTorch eager",
            framework=PYTORCH,
            description="plain calls, one kernel per op",
        ),
        Mode(
            name="torch-compile",
            label="torch.compile (default)",
            framework=PYTORCH,
            description="TorchDynamo captures the graph, "
            "TorchInductor generates fused code",
            short="torch.compile default",
        ),
        Mode(
            name="torch-compile-max-autotune",
            label="torch.compile (max-autotune-no-cudagraphs)",
            framework=PYTORCH,
            description="like default, and benchmarks alternative kernels "
            "for matrix products",
            short="torch.compile max-autotune",
        ),
        Mode(
            name="torch-compile-reduce-overhead",
            label="torch.compile (reduce-overhead)",
            framework=PYTORCH,
            description="like default, plus CUDA graphs to cut launch "
            "overhead (GPU only)",
            short="torch.compile reduce-overhead",
        ),
        Mode(
            name="torchscript",
            label="TorchScript (torch.jit.trace)",
            framework=PYTORCH,
            description="the legacy graph capture, deprecated in favour of "
            "torch.compile/torch.export",
            short="TorchScript (jit.trace)",
        ),
        Mode(
            name="tf-eager",
            label="TensorFlow eager",
            framework=TENSORFLOW,
            description="plain calls, op by op",
        ),
        Mode(
            name="tf-function",
            label="tf.function",
            framework=TENSORFLOW,
            description="traced once into a TensorFlow graph",
        ),
        Mode(
            name="tf-function-xla",
            label="tf.function(jit_compile=True)",
            framework=TENSORFLOW,
            description="the traced graph compiled as a whole by XLA",
            short="tf.function + XLA",
        ),
        Mode(
            name="keras",
            label="Keras fit / predict",
            framework=TENSORFLOW,
            description="model.fit and model.predict",
        ),
        Mode(
            name="keras-on-batch",
            label="Keras train_on_batch / predict_on_batch",
            framework=TENSORFLOW,
            description="one batch per call, without fit's and predict's "
            "data pipeline",
            short="Keras *_on_batch",
        ),
    )
}

#: The mode every other one is compared with.
BASELINE = "torch-eager"

#: The modes the performance chapter times.
CHAPTER_MODES = (
    "torch-eager",
    "torch-compile",
    "torchscript",
    "tf-eager",
    "tf-function",
    "tf-function-xla",
    "keras",
    "keras-on-batch",
)

#: The modes that run no compiler (torch.compile, TorchScript, XLA): quick to try.
NON_COMPILING_MODES = (
    "torch-eager",
    "tf-eager",
    "tf-function",
    "keras-on-batch",
)

#: Each ``torch.compile`` mode and the ``mode=`` it passes.
COMPILE_MODES = {
    "torch-compile": "default",
    "torch-compile-max-autotune": "max-autotune-no-cudagraphs",
    "torch-compile-reduce-overhead": "reduce-overhead",
}
