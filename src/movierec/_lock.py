"""One run at a time per output: a lock file beside the output, holding the pid of the run that writes it.

The lock is an `fcntl.flock` on `.NAME.lock`, which the kernel releases when its process dies, so a lock
file left by a killed run is taken over (with a notice naming its pid); a live run's lock is refused in
one line.

Example:
    >>> with output_lock("models/best"):  # doctest: +SKIP
    ...     train_and_export()
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from movierec._io import process_alive
from movierec.errors import ConfigError

__all__ = ["output_lock", "lock_path", "abandon_locks"]

logger = logging.getLogger(__name__)

_held: set[Path] = set()  # the lock files this process holds (see abandon_locks)


def lock_path(output: str | Path) -> Path:
    """The lock file of `output`: a hidden sibling, `.NAME.lock`."""
    output = Path(output)
    return output.parent / f".{output.name}.lock"


@contextlib.contextmanager
def output_lock(output: str | Path, flag: str = "--out") -> Iterator[None]:
    """Holds the lock of `output` for the block.

    Raises:
        ConfigError: another live process holds it (the message names `flag` and that process's pid).
    """
    path = lock_path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _read_pid(fd)
            os.close(fd)
            who = f" (pid {owner})" if owner else ""
            raise ConfigError(
                f"{flag} {output} is being written by another movierec run{who}; wait for it or choose another {flag}"
            ) from None
        try:
            same_file = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same_file = False
        if same_file:  # not a file its previous holder unlinked while this one waited: the lock is ours
            break
        os.close(fd)
    try:
        previous = _read_pid(fd)
        if previous and previous != os.getpid() and not process_alive(previous):
            logger.warning("taking over the lock %s of pid %d, which is no longer running", path, previous)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        _held.add(path)
        yield
    finally:
        _held.discard(path)
        path.unlink(missing_ok=True)
        os.close(fd)


def abandon_locks() -> None:
    """Removes the lock files this process holds, as its `finally` blocks would; for a process about to `os._exit`.

    The locks themselves are released by the kernel when the process ends; without this, the next run would take
    over each file with a notice about a run that died.
    """
    for path in list(_held):
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
