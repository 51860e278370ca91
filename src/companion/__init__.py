"""Reference implementations behind the executable PyTorch-versus-TensorFlow book.

Importing ``companion`` is cheap: no module here imports torch or TensorFlow
until a function that needs it runs. Modules, one concern each:

``companion.frameworks``
    the frameworks' ids, labels and figure colours.
``companion.validation``
    the argument checks every function uses (``TypeError`` for a wrong type,
    ``ValueError`` for a wrong value).
``companion.processes``
    running Python in a fresh, quiet interpreter.
``companion.cli``
    what the command lines share: output directories, ``positive_int``,
    the one-line error.
``companion.plotting``
    what every figure shares.
``companion.environment``
    versions, machine and thread report (``python -m companion``).
``companion.reproducibility``
    seeding every random source, pinning threads.
``companion.quiet``
    keeping TensorFlow's log lines out of scripts' and children's output.
``companion.graph_inspection``
    the graphs autograd and ``tf.function`` record, as networkx graphs and pictures.
``companion.digits``
    the 8x8 digits from scikit-learn, split the same way for both frameworks.
``companion.cnn``
    one small CNN, built in PyTorch and in Keras with the same architecture.
``companion.logits``
    either model's logits for channels-first images, as NumPy.
``companion.training``
    training either model with the same batches and optimizer settings.
``companion.timing``
    timing with warm-up apart, repeats, median and spread.
``companion.recurrent``
    a recurrent classifier over sequences of different lengths, four ways.
``companion.conditional``
    an early-exit classifier whose depth depends on each input.
``companion.capture``
    what ``torch.compile`` captured and what the compilers generated.
``companion.debugging``
    a scripted ``pdb``, NaN guards, readable expected errors.
``companion.export_pytorch``, ``companion.export_tensorflow``
    every export route of each framework, one call each.
``companion.run_artifact``
    loads one exported artifact in a fresh process and times it (``python -m``).
``companion.deployment`` (a package)
    export records, fresh-process reloads and the deployment matrix.
``companion.transformer``
    a small transformer encoder classifier, built in PyTorch and in Keras alike.
``companion.benchmark`` (a package)
    every execution mode of both frameworks timed on the same steps and batches.
``companion.weight_porting`` (a package)
    the CNN's weights between the PyTorch and Keras layouts, via safetensors.
``companion.tensor_api`` (a package)
    everyday array code run in NumPy, PyTorch and TensorFlow, tabulated.
``companion.ecosystem``
    installed sizes, import times and API sizes of the frameworks.
"""

__version__ = "0.1.0"
