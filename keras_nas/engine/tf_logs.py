"""TensorFlow's warnings that a search makes by design, held back.

A search builds and traces a fresh model for every trial (and for every
candidate its warm start scores), so after a few trials TensorFlow warns
"5 out of the last 5 calls to <function ...> triggered tf.function
retracing", with advice for code that retraces one function by mistake.
Here it is how a search works, and nothing the user can act on; at
`verbose=0` a search prints nothing, and at `1` one line per trial. So
while a search runs below `verbose=2` (where Keras' own output is shown),
those warnings are dropped, and only those; the logger is as it was after.

The one TensorFlow-specific part of the engine. It names TensorFlow's
logger without importing TensorFlow, and does nothing on other backends.
"""

import contextlib
import logging

import keras

__all__ = ["RETRACING", "quiet_retracing"]

#: What TensorFlow's retracing warning says, whatever its counts.
RETRACING = "triggered tf.function retracing"
# TensorFlow's Python logger (`tf.get_logger()`), by its name.
_LOGGER = "tensorflow"


class _DropRetracing(logging.Filter):
    def filter(self, record):
        return RETRACING not in record.getMessage()


@contextlib.contextmanager
def quiet_retracing(verbose):
    """Drop TensorFlow's retracing warnings in the block when `verbose` is
    below 2 and the backend is TensorFlow; every other message goes
    through."""
    if verbose >= 2 or keras.backend.backend() != "tensorflow":
        yield
        return
    logger = logging.getLogger(_LOGGER)
    drop = _DropRetracing()
    logger.addFilter(drop)
    try:
        yield
    finally:
        logger.removeFilter(drop)
