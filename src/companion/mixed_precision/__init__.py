"""Training in lower precision on the CPU, in both frameworks.

``companion.mixed_precision.hardware``
    what the CPU offers for bfloat16 and float16; a matrix product in each.
``companion.mixed_precision.training``
    the digits CNN in float32 and bfloat16 (autocast, Keras dtype policy):
    step time, accuracy, which layer computed in which type.
``companion.mixed_precision.loss_scaling``
    float16 gradients underflowing, and ``GradScaler`` against
    ``LossScaleOptimizer`` bringing them back.
"""
