"""What a file given on the command line is, checked before it is read: a regular file, and text if text is expected.

A pipe or a device would block a second `open()` or never end, and a huge binary or sparse file would be read
whole before a parser gives up. `check_input_file` looks at the file's type and its first bytes only, and
raises one line that says what the file is.

Example:
    >>> check_input_file("/dev/null", "ratings", ValueError)
    Traceback (most recent call last):
    ValueError: ratings file /dev/null is a character device, not a regular file
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["check_input_file", "SNIFF_BYTES"]

SNIFF_BYTES = 64 * 1024  # how much of a text file is looked at before it is parsed

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def check_input_file(path: str | Path, kind: str, error: type[Exception], *, text: bool = True) -> Path:
    """`path` if it is a regular file that can be opened (and, with `text`, looks like text); else `error`.

    Args:
        path: The file.
        kind: What it should hold, for the message ("ratings", "config").
        error: The exception class to raise (the caller's layer: `DataError`, `ConfigError`).
        text: Also require text: no NUL byte, and a line break, in the first `SNIFF_BYTES`.
    """
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise error(f"{kind} file not found: {path}") from None
    except OSError as e:
        raise error(f"cannot read the {kind} file {path}: {e.strerror or e}") from None
    if stat.S_ISFIFO(mode):
        raise error(
            f"{kind} file {path} is a pipe (a FIFO, or a shell's <(...)), not a regular file; "
            "save it to a file and give that file"
        )
    for test, what in _KINDS:
        if test(mode):
            raise error(f"{kind} file {path} is {what}, not a regular file")
    if not stat.S_ISREG(mode):
        raise error(f"{kind} file {path} is not a regular file")
    if text:
        _check_text(path, kind, error)
    return path


def _check_text(path: Path, kind: str, error: type[Exception]) -> None:
    try:
        with open(path, "rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as e:
        raise error(f"cannot read the {kind} file {path}: {e.strerror or e}") from None
    if b"\0" in head:
        raise error(
            f"{kind} file {path} is not a text file (it holds NUL bytes within its first {SNIFF_BYTES:,} bytes)"
        )
    if len(head) == SNIFF_BYTES and b"\n" not in head and b"\r" not in head:
        raise error(f"{kind} file {path} has no line break within its first {SNIFF_BYTES:,} bytes; is it a text file?")
