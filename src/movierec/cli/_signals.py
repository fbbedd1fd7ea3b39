"""SIGTERM and Ctrl-C stop a command within seconds, even while TensorFlow holds the main thread.

Python runs a signal handler only when the main thread next executes Python code: a `KeyboardInterrupt` raised by
one waits until TensorFlow returns, which during training is after `steps_per_execution` batches or the
end-of-epoch validation (over a minute on MovieLens 1M under load). `stop_on_signals` keeps the handlers (SIGTERM
raises `KeyboardInterrupt` as Ctrl-C does, so `finally` blocks remove temporaries and `subprocess` stops its
children) and adds a watchdog: Python's C-level handler writes each signal's number to a socket
(`signal.set_wakeup_fd`) at once, whatever the main thread is doing; a daemon thread reading it gives the main thread
`GRACE_SECONDS` to stop the ordinary way, then says the command was interrupted (once), stops this process's
children, removes its output locks and ends the process with `os._exit(130)`. Nothing a user reads is half-written
then either: outputs are written to temporary paths and renamed (the temporaries of a dead process are removed by
the next write), and a training backup is as after SIGKILL, which `train` resumes from its last finished epoch.

`serve` shuts down gracefully on its own (uvicorn finishes its requests and stops its workers): it runs the server
inside `graceful_stop`, where a signal waits for that.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from movierec._lock import abandon_locks

__all__ = ["GRACE_SECONDS", "SignalStop", "stop_on_signals", "graceful_stop"]

GRACE_SECONDS = 3.0  # after SIGTERM or Ctrl-C, before the process ends without waiting for the main thread
_STOPS = frozenset({signal.SIGINT.value, signal.SIGTERM.value})
_active: _Watchdog | None = None  # the running command's, while one runs in the main thread


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


class SignalStop:
    """A command's `movierec COMMAND: interrupted` line, printed once, by whichever comes first: `main` or the watchdog."""

    def __init__(self, command: str) -> None:
        self.command = command
        self._said = False
        self._lock = threading.Lock()

    def say_interrupted(self) -> None:
        """Prints `movierec COMMAND: interrupted` on stderr, unless it was printed already."""
        with self._lock:
            if self._said:
                return
            self._said = True
        _flush()  # the command's own output first: this line is its last
        print(f"movierec {self.command}: interrupted", file=sys.stderr, flush=True)


class _Watchdog:
    """Reads the signal numbers Python's C-level handler writes; ends the process if the main thread does not."""

    def __init__(self, stop: SignalStop) -> None:
        self.stop = stop
        self._finished = threading.Event()
        self._reader, self._writer = socket.socketpair()  # signal numbers in at one end, read at the other
        self._writer.setblocking(False)  # as set_wakeup_fd requires
        self._thread = threading.Thread(target=self._watch, name="movierec-signal-watchdog", daemon=True)
        self._previous_fd = -1

    def arm(self) -> None:
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)

    def disarm(self) -> None:
        signal.set_wakeup_fd(self._previous_fd)

    def start(self) -> None:
        self.arm()
        self._thread.start()

    def finish(self) -> None:
        self.disarm()
        self._finished.set()
        with contextlib.suppress(OSError):
            self._writer.send(b"\0")  # wakes the read: no signal has number 0
        self._thread.join(timeout=1.0)
        self._reader.close()
        self._writer.close()

    def _watch(self) -> None:
        while True:
            try:
                received = self._reader.recv(64)
            except OSError:
                return
            if not received or 0 in received:  # the command finished
                return
            if _STOPS.intersection(received):
                break
        if self._finished.wait(GRACE_SECONDS):  # the main thread stopped the command in time
            return
        self.stop.say_interrupted()
        _stop_children()
        abandon_locks()
        os._exit(130)


@contextlib.contextmanager
def stop_on_signals(command: str) -> Iterator[SignalStop]:
    """Within: SIGTERM raises `KeyboardInterrupt` as Ctrl-C does, and either ends the process `GRACE_SECONDS` later.

    Only in the main thread (where Python runs signal handlers); elsewhere the handlers are left as they are
    and there is no watchdog.
    """
    global _active
    stop = SignalStop(command)
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    watchdog = _Watchdog(stop)
    watchdog.start()
    _active = watchdog
    try:
        yield stop
    finally:
        _active = None
        watchdog.finish()
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def graceful_stop() -> Iterator[None]:
    """Within: a signal no longer ends the process after the grace; the code inside stops on its own (a server)."""
    watchdog = _active
    if watchdog is None:
        yield
        return
    watchdog.disarm()
    try:
        yield
    finally:
        watchdog.arm()


def _flush() -> None:
    """What the process has written so far reaches its files: log handlers, stdout, stderr."""
    for handler in logging.getLogger().handlers:
        with contextlib.suppress(Exception):
            handler.flush()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()


def _stop_children() -> None:
    """SIGTERM to each child process of this one (Linux: `/proc/self/task/*/children`; elsewhere none)."""
    children: set[int] = set()
    for listing in Path("/proc/self/task").glob("*/children"):
        with contextlib.suppress(OSError, ValueError):
            children.update(int(pid) for pid in listing.read_text().split())
    for pid in children:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
