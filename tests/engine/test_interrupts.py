"""`engine/interrupts.py`: a Ctrl-C that Python drops inside a `__del__`
is noted and raised again by `check()`; a user's own SIGINT handler is
left alone. Real signals, in this process (the end-to-end case, a search
in a subprocess, is in test_project_folder.py)."""

import signal
import sys

import pytest

from keras_nas.engine import interrupts

pytestmark = pytest.mark.filterwarnings(
    "ignore::pytest.PytestUnraisableExceptionWarning")


@pytest.fixture
def default_sigint():
    before = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


class Freed:
    def __del__(self):
        signal.raise_signal(signal.SIGINT)


def test_a_dropped_ctrl_c_is_raised_again(default_sigint):
    with interrupts.catching():
        assert signal.getsignal(signal.SIGINT) is interrupts._handler
        interrupts.check()  # Nothing pressed: nothing raised.
        Freed()  # Python drops the KeyboardInterrupt raised in __del__.
        with pytest.raises(KeyboardInterrupt):
            interrupts.check()
        with pytest.raises(KeyboardInterrupt):  # Until the search ends.
            interrupts.StopOnInterrupt().on_epoch_end(0)
    # Afterwards Python's own handler is back, and nothing is pending.
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    interrupts.check()


def test_without_it_the_ctrl_c_is_lost(default_sigint, monkeypatch):
    dropped = []
    monkeypatch.setattr(sys, "unraisablehook", dropped.append)
    Freed()  # Dropped, and nothing remembers it.
    # The Ctrl-C did arrive, and Python dropped it ("Exception ignored").
    assert [d.exc_type for d in dropped] == [KeyboardInterrupt]
    interrupts.check()  # Outside `catching()` nothing noted it: no raise.


def test_a_users_own_handler_is_left_alone(default_sigint):
    seen = []

    def mine(signum, frame):
        seen.append(signum)

    signal.signal(signal.SIGINT, mine)
    with interrupts.catching():
        assert signal.getsignal(signal.SIGINT) is mine
        signal.raise_signal(signal.SIGINT)
        interrupts.check()
    assert signal.getsignal(signal.SIGINT) is mine and seen == [signal.SIGINT]
