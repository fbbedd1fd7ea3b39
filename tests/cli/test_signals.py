"""`cli._signals` in-process: handlers and the wakeup fd restored, one line, no forced exit once the command ended.

The forced exit itself (TensorFlow holding the main thread) is `tests/reliability/test_sigterm_mid_epoch.py`.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from movierec.cli import _signals
from movierec.cli._signals import graceful_stop, stop_on_signals


def _wakeup_fd() -> int:
    fd = signal.set_wakeup_fd(-1)
    signal.set_wakeup_fd(fd)
    return fd


def test_handlers_and_wakeup_fd_are_restored_and_graceful_stop_disarms():
    handler, fd = signal.getsignal(signal.SIGTERM), _wakeup_fd()
    with stop_on_signals("train"):
        armed = _wakeup_fd()
        assert armed not in (-1, fd)
        with graceful_stop():  # serve: uvicorn shuts down on its own
            assert _wakeup_fd() == fd
        assert _wakeup_fd() == armed
    assert (signal.getsignal(signal.SIGTERM), _wakeup_fd()) == (handler, fd)


def test_sigterm_in_python_code_is_a_keyboard_interrupt_and_the_watchdog_stands_down(monkeypatch, capsys):
    monkeypatch.setattr(_signals, "GRACE_SECONDS", 0.2)
    with pytest.raises(KeyboardInterrupt), stop_on_signals("train") as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # interrupted at once
    stop.say_interrupted()
    stop.say_interrupted()
    time.sleep(0.5)  # past the grace: this process is still alive, the command having ended in time
    assert capsys.readouterr().err == "movierec train: interrupted\n"
