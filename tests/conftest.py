"""Shared fixtures: a tiny two-block ratings set whose right answers are known, and a private cache.

The block data: 40 users in two groups of 20 ("u1".."u20" and "u21".."u40") and 30 movies
in two blocks of 15 ("m1".."m15" and "m16".."m30"). Every user rates 8 movies, all from
their own group's block, so a model that learns anything must recommend a user's own block
first (implicit's checkerboard idea, at the scale of a two-tower model).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import settings

import movierec  # noqa: F401  (sets TF_USE_LEGACY_KERAS=1 before anything imports TensorFlow)

# No per-example time limit for Hypothesis (its default is 200 ms): on a loaded machine, two xdist workers on two
# shared cores, an example of tests/data/test_vocab.py took 339 ms and failed the run as "flaky". What the
# properties assert is unchanged; a test that needs a time limit sets its own.
settings.register_profile("movierec", deadline=None)
settings.load_profile("movierec")

N_GROUP_USERS = 20  # users per group
N_BLOCK_ITEMS = 15  # movies per block
RATINGS_PER_USER = 8  # each user rates 8 of the 15 movies of their block (7 stay unseen)
BLOCK_GENRES = ("Comedy|Romance", "Action|Thriller")


@dataclass(frozen=True)
class BlockData:
    """The synthetic two-block dataset in canonical frames, plus who belongs where.

    Attributes:
        ratings: `user_id,item_id,rating,timestamp` rows (320 of them).
        items: `item_id,title,genres` rows (30 movies).
        user_group: user id -> 0 or 1.
        item_block: item id -> 0 or 1.
    """

    ratings: pd.DataFrame
    items: pd.DataFrame
    user_group: dict[str, int]
    item_block: dict[str, int]

    def seen(self, user_id: str) -> set[str]:
        """Movies `user_id` rated."""
        return set(self.ratings.loc[self.ratings.user_id == user_id, "item_id"])

    def dataset(self, name: str = "blocks"):
        from movierec.data import Dataset

        return Dataset.create(name, self.ratings, self.items)


def make_block_data(seed: int = 0) -> BlockData:
    rng = np.random.default_rng(seed)
    user_group = {f"u{u + 1}": u // N_GROUP_USERS for u in range(2 * N_GROUP_USERS)}
    item_block = {f"m{i + 1}": i // N_BLOCK_ITEMS for i in range(2 * N_BLOCK_ITEMS)}
    rows = []
    clock = 1_000_000_000
    for user, group in user_group.items():
        block = np.arange(N_BLOCK_ITEMS) + group * N_BLOCK_ITEMS
        for item in rng.choice(block, size=RATINGS_PER_USER, replace=False):
            clock += 60
            rows.append((user, f"m{item + 1}", float(rng.integers(3, 6)), clock))
    ratings = pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "timestamp"])
    items = pd.DataFrame(
        {
            "item_id": list(item_block),
            "title": [f"Movie {i + 1} ({1990 + i})" for i in range(2 * N_BLOCK_ITEMS)],
            "genres": [BLOCK_GENRES[b] for b in item_block.values()],
        }
    )
    return BlockData(ratings, items, user_group, item_block)


def _xdist_shared_folder(tmp_path_factory) -> Path | None:
    """The folder every pytest-xdist worker of this run shares (the run's own basetemp, the parent of each
    worker's), or None outside xdist."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return None
    return tmp_path_factory.getbasetemp().parent


@contextlib.contextmanager
def _exclusive(lock: Path) -> Iterator[None]:
    """Holds an exclusive lock on the file `lock` (POSIX `flock`; `build_once` shares nothing elsewhere)."""
    import fcntl

    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def build_once(tmp_path_factory) -> Callable[[str, Callable[[Path], None]], Path]:
    """`build_once(name, build)`: a folder `build(folder)` filled once per test run, shared by every xdist worker
    (the first worker to ask builds it under a lock, the others wait and reuse it); a session folder without xdist.
    For fixtures that train models through the CLI (minutes under load): each worker built its own copy before.
    The folders are read-only by convention: tests that change a model copy it first."""
    shared = _xdist_shared_folder(tmp_path_factory)

    def build(name: str, fill: Callable[[Path], None]) -> Path:
        if shared is None or os.name != "posix":
            folder = tmp_path_factory.mktemp(name)
            fill(folder)
            return folder
        folder = shared / f"shared-{name}"
        with _exclusive(shared / f"shared-{name}.lock"):
            if not (folder / ".built").is_file():
                shutil.rmtree(folder, ignore_errors=True)  # a worker that failed half way
                folder.mkdir()
                fill(folder)
                (folder / ".built").touch()
        return folder

    return build


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """Points MOVIEREC_CACHE at a temporary folder for the whole session (never the user's cache), and the model
    signing key at a session key file (never the user's config folder). Under xdist the key file is the run's,
    shared by its workers, so a model one worker trained (`build_once`) is trusted by the others."""
    with pytest.MonkeyPatch.context() as patch:
        path = tmp_path_factory.mktemp("movierec-cache")
        patch.setenv("MOVIEREC_CACHE", str(path))
        shared = _xdist_shared_folder(tmp_path_factory)
        config = tmp_path_factory.mktemp("movierec-config") if shared is None else shared / "movierec-config"
        config.mkdir(exist_ok=True)
        patch.setenv("MOVIEREC_KEY_FILE", str(config / "signing.key"))
        yield path


@pytest.fixture(scope="session")
def block_data() -> BlockData:
    return make_block_data()


@pytest.fixture
def ratings_csv(tmp_path, block_data) -> Path:
    """The block ratings written to `tmp_path/ratings.csv`."""
    path = tmp_path / "ratings.csv"
    block_data.ratings.to_csv(path, index=False)
    return path


@pytest.fixture
def items_csv(tmp_path, block_data) -> Path:
    """The block movies written to `tmp_path/items.csv` (item_id,title,genres)."""
    path = tmp_path / "items.csv"
    block_data.items.to_csv(path, index=False)
    return path
