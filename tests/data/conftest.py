"""Fixtures for the data tests: tiny GroupLens archives are trusted by registering their own checksums."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest

from movierec.data import catalog


@pytest.fixture
def trust(monkeypatch):
    """`trust(name, zip_path)`: makes the registry expect `zip_path`'s md5, sha256 and size for set `name`.

    The real checksums stay untouched outside the test (monkeypatch restores the entry).
    """

    def register(name: str, path: Path) -> Path:
        data = Path(path).read_bytes()
        spec = dataclasses.replace(
            catalog.MOVIELENS_SETS[name],
            md5=hashlib.md5(data).hexdigest(),
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
        )
        monkeypatch.setitem(catalog.MOVIELENS_SETS, name, spec)
        return path

    return register
