"""Ctrl-C that a search never loses.

Python raises `KeyboardInterrupt` in whatever Python code runs when SIGINT
arrives. When that is a garbage collector's callback (a weak reference's,
an object's `__del__`, both frequent while Keras and TensorFlow free a
model), the interpreter prints "Exception ignored in ..." and drops it, and
the search trains on as if the key had not been pressed.

While a search runs, `catching()` puts a SIGINT handler in place that
notes the interrupt before raising it as Python's own handler does;
`check()`, which every trial calls at each epoch's end (`StopOnInterrupt`)
and before it starts, and the parallel engines' loops call while they
wait on their workers (Keras Tuner's chief, the Ray driver), raises it
again if it was dropped (not at each batch: a batch hook would turn off
Keras' asynchronous dispatch of callbacks). Only in the main thread, and
only where SIGINT still has Python's default handler: a handler of the
user's own is left alone.
"""

import contextlib
import signal
import threading

import keras

__all__ = ["StopOnInterrupt", "catching", "check"]

_pending = False


def _handler(signum, frame):
    global _pending
    _pending = True
    raise KeyboardInterrupt


@contextlib.contextmanager
def catching():
    """Note every Ctrl-C while the block runs, so that `check()` can raise
    one the interpreter dropped."""
    global _pending
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not
            signal.default_int_handler):
        yield
        return
    _pending = False
    signal.signal(signal.SIGINT, _handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _pending = False


def check():
    """Raise `KeyboardInterrupt` if Ctrl-C was pressed inside `catching()`
    and the interrupt was dropped on its way."""
    if _pending:
        raise KeyboardInterrupt


class StopOnInterrupt(keras.callbacks.Callback):
    """Raises a dropped Ctrl-C at the end of the epoch."""

    def on_epoch_end(self, epoch, logs=None):
        check()
