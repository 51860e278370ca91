"""Training one model with several processes on this machine, in both frameworks' own engines.

``companion.distributed.plan``
    the steps, global batches, shards and initial weights every run shares.
``companion.distributed.launch``
    starting processes with deadlines, loopback addresses, the event log.
``companion.distributed.ddp``
    the PyTorch worker (DDP over gloo under ``torchrun``, FSDP2).
``companion.distributed.mwms``
    the TensorFlow worker (``MultiWorkerMirroredStrategy``).
``companion.distributed.runs``
    running either framework with 1 or N processes, comparing the weights.
``companion.distributed.recovery``
    killing a worker mid-training and recovering from checkpoints.

Nothing here imports torch or TensorFlow until a function that needs it runs.
"""
