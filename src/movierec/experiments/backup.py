"""Training backups (`.NAME.resume`, a compare run's `backup/`): kept for the same run, deleted only if movierec wrote them.

A backup folder carries a marker file written before anything else goes in. A folder at a backup's path
without the marker belongs to someone else: it is refused with one line and never emptied.

Example:
    >>> backup_problem(Path("no-such-folder"))  # nothing there: nothing to refuse
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

from movierec.errors import ConfigError

__all__ = ["MARKER", "prepare_backup", "remove_backup", "backup_problem"]

logger = logging.getLogger(__name__)

MARKER = "MOVIEREC_BACKUP"  # written into every backup folder before anything else
_MARKER_TEXT = "a training backup written by movierec; it is deleted when its run finishes\n"
_FINGERPRINT = "fingerprint.json"


def backup_problem(backup_dir: Path) -> str | None:
    """Why `backup_dir` may not be used or deleted as a backup (something there that movierec did not write)."""
    if not backup_dir.exists() and not backup_dir.is_symlink():
        return None
    if backup_dir.is_symlink() or not backup_dir.is_dir() or not (backup_dir / MARKER).is_file():
        return (
            f"{backup_dir} is in the way of this run's training backup and was not written by movierec "
            f"(no {MARKER} file in it); move it away or choose another --out"
        )
    return None


def prepare_backup(backup_dir: Path, fingerprint: dict[str, Any], name: str) -> None:
    """Keeps a backup left by the same run (so training resumes), discards another run's.

    Raises:
        ConfigError: something other than a movierec backup is at `backup_dir` (it is left untouched).
    """
    problem = backup_problem(backup_dir)
    if problem:
        raise ConfigError(problem)
    if backup_dir.exists():
        try:
            same = json.loads((backup_dir / _FINGERPRINT).read_text()) == json.loads(json.dumps(fingerprint))
        except (OSError, ValueError):
            same = False
        if same:
            logger.info("%s: resuming from the backup of an interrupted run in %s", name, backup_dir)
            return
        logger.info("%s: discarding the backup in %s (another model, budget or data)", name, backup_dir)
        shutil.rmtree(backup_dir)
    backup_dir.mkdir(parents=True)
    (backup_dir / MARKER).write_text(_MARKER_TEXT)
    (backup_dir / _FINGERPRINT).write_text(json.dumps(fingerprint))


def remove_backup(backup_dir: Path | None) -> None:
    """Deletes a finished run's backup; a folder without the marker is left alone with a warning."""
    if backup_dir is None or not backup_dir.exists():
        return
    problem = backup_problem(backup_dir)
    if problem:
        logger.warning("not deleting %s: %s", backup_dir, problem)
        return
    shutil.rmtree(backup_dir, ignore_errors=True)
