"""Atomic writes: build a temporary sibling, then rename, so no reader sees half a file or folder.

Every artifact movierec writes (JSON, CSV, npz, model folders) goes through `atomic_path`
or `atomic_dir`. Their temporaries carry the writer's pid (`.NAME.PID.tmp`, `.NAME.PID.partial`), so the
next write to the same path removes those of processes that died midway, with a notice.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "atomic_path", "atomic_dir", "write_text_atomic", "file_sha256", "output_problem", "process_alive",
    "remove_stale_temporaries",
]  # fmt: skip

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yields a temporary path beside `path`; renames it onto `path` if the block succeeds.

    Example:
        >>> with atomic_path("out.csv") as tmp:  # doctest: +SKIP
        ...     frame.to_csv(tmp)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yields an empty temporary folder beside `path`; swaps it in for `path` if the block succeeds.

    An existing `path` is replaced only once the new folder is complete (the caller decides
    whether it may be replaced at all). On failure the temporary folder is removed and
    `path` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    old = path.with_name(f".{path.name}.{os.getpid()}.old")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        yield tmp
        if path.exists():
            path.rename(old)
        try:
            tmp.rename(path)
        except OSError:
            if old.exists():
                old.rename(path)  # put the previous folder back rather than lose it
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def write_text_atomic(path: str | Path, text: str) -> None:
    """Writes `text` to `path` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def file_sha256(path: str | Path, chunk_bytes: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in 1 MB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()


def output_problem(path: str | Path, *, folder: bool) -> str | None:
    """Why `path` cannot be written (as a file or, with `folder`, a folder), or None if it can.

    Checked before long work starts, so a run does not end in a traceback after training: the
    path must not be an existing item of the other kind, and its nearest existing ancestor must
    be a writable folder (`atomic_path` / `atomic_dir` create the missing ones).
    """
    path = Path(path)
    if folder and path.exists() and not path.is_dir():
        return f"{path} exists and is not a folder"
    if not folder and path.is_dir():
        return f"{path} is a folder; give a file name"
    parent = path.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        return f"cannot create {path}: {parent} is a file, not a folder"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"cannot write {path}: {parent} is not writable"
    return None


def process_alive(pid: int) -> bool:
    """Whether a process with this pid is running (one of another user counts as running)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(path: str | Path) -> list[Path]:
    """Removes the temporaries of `path` (`.NAME.PID.tmp` / `.partial` / `.old`) left by dead processes.

    Returns:
        What was removed; each removal is logged as a warning naming the dead pid.
    """
    path = Path(path)
    pattern = re.compile(rf"\.{re.escape(path.name)}\.(\d+)\.(tmp|partial|old)")
    removed: list[Path] = []
    try:
        siblings = list(path.parent.iterdir())
    except OSError:
        return removed
    for sibling in siblings:
        match = pattern.fullmatch(sibling.name)
        if match is None or process_alive(int(match.group(1))):
            continue
        logger.warning("removing %s, left by pid %s, which died before finishing it", sibling, match.group(1))
        if sibling.is_dir() and not sibling.is_symlink():
            shutil.rmtree(sibling, ignore_errors=True)
        else:
            sibling.unlink(missing_ok=True)
        removed.append(sibling)
    return removed
