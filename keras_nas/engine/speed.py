"""What makes a candidate cheaper without changing it: batches per
compiled call, and the objects older than the search left out of its
garbage collections (benchmarks/README.md, section 2, `trial_speed.py`)."""

import contextlib
import gc

import keras

__all__ = ["DEFAULT_STEPS_PER_EXECUTION", "frozen_heap",
           "resolve_steps_per_execution"]

# Batches per compiled call when the search is not told otherwise: on the
# small models and data of a search, Python's overhead per batch is as large
# as the batch (benchmarks/README.md, section 2).
DEFAULT_STEPS_PER_EXECUTION = 16


def resolve_steps_per_execution(value):
    """`value` checked, or for `None` the default of this backend."""
    torch = keras.backend.backend() == "torch"  # One batch per call there.
    if value is None:
        return 1 if torch else DEFAULT_STEPS_PER_EXECUTION
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            "`steps_per_execution` must be a positive integer or None. "
            f"Received: steps_per_execution={value!r}.")
    if value > 1 and torch:
        raise ValueError(
            "`steps_per_execution` must be 1 or None on the PyTorch backend, "
            "which runs one batch per call. Received: "
            f"steps_per_execution={value!r}.")
    return value


@contextlib.contextmanager
def frozen_heap():
    """Leave the objects that exist now out of garbage collections until
    the block ends (`gc.freeze`, then `gc.unfreeze`).

    Every trial clears the backend session, which collects garbage; with
    TensorFlow imported, a full collection walks some 400,000 objects that
    live as long as the process, about a quarter of a second each time. With
    them frozen it walks only what the search made (benchmarks/README.md,
    section 2). Nothing is lost: what was frozen is collected normally after
    the block. A process whose objects are already frozen is left as it is.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
