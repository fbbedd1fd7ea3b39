"""Which model folders this installation wrote: an HMAC-SHA256 of the manifest with a per-user secret key.

A model folder holds a TensorFlow SavedModel, which is a program: loading it runs its functions. A folder
movierec wrote carries `SIGNATURE`, the manifest's HMAC under a random key kept in the user's config folder
(`$MOVIEREC_KEY_FILE`, else `platformdirs.user_config_dir("movierec")/signing.key`, created on first use,
mode 0600). Anyone can regenerate a manifest after changing a file; without the key nobody can sign it, so a
folder from elsewhere (or changed since) loads only when the user says they trust it (`--trust`).

Example (skipped as a doctest: it makes the user's key on first use):
    >>> signature(b"{}") == signature(b"{}") != signature(b"{ }")  # doctest: +SKIP
    True
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

import platformdirs

__all__ = ["KEY_ENV", "SIGNATURE", "key_path", "signature", "signature_matches"]

KEY_ENV = "MOVIEREC_KEY_FILE"  # where the signing key is (tests point it at a temporary file)
SIGNATURE = "SIGNATURE"  # the file in a model folder holding the manifest's HMAC, in hex


def key_path() -> Path:
    """The signing key's file: `$MOVIEREC_KEY_FILE`, else `signing.key` in the user config folder."""
    configured = os.environ.get(KEY_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path(platformdirs.user_config_dir("movierec")) / "signing.key"


def _key(create: bool) -> bytes | None:
    path = key_path()
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        if not create:
            return None
    except ValueError:  # not hex: a damaged key signs nothing and verifies nothing
        return None
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_bytes(32)
    # written whole beside it, then linked into place: a process never reads a half-written key, and of two
    # processes creating the key at once the second's link fails and it keeps the first one's
    written = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    with os.fdopen(os.open(written, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
        out.write(key.hex() + "\n")
    try:
        os.link(written, path)
    except FileExistsError:
        return _key(create=False)
    finally:
        written.unlink(missing_ok=True)
    return key


def signature(manifest: bytes) -> str:
    """The hex HMAC-SHA256 of `manifest` under this user's key (created on first use)."""
    key = _key(create=True)
    if key is None:
        raise OSError(f"the signing key {key_path()} is damaged (not hex); delete it to make a new one")
    return hmac.new(key, manifest, hashlib.sha256).hexdigest()


def signature_matches(manifest: bytes, signed: str) -> bool:
    """Whether `signed` is this user's signature of `manifest` (False when there is no key yet)."""
    key = _key(create=False)
    if key is None:
        return False
    return hmac.compare_digest(hmac.new(key, manifest, hashlib.sha256).hexdigest(), signed.strip())
