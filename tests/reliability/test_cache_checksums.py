"""Issue 21, item 8: the cache carries its own checksums and is rebuilt, with a warning, when they do not match."""

from __future__ import annotations

import logging
import shutil

import pandas as pd
import pytest

from movierec.data.cache import load_through_cache
from movierec.data.dataset import Dataset

RATINGS = pd.DataFrame(
    {"user_id": ["u1", "u2", "u3"], "item_id": ["m1", "m2", "m1"], "rating": [4.0, 3.0, 5.0], "timestamp": [1, 2, 3]}
)
ITEMS = pd.DataFrame({"item_id": ["m1", "m2"], "title": ["Heat (1995)", "Up (2009)"], "genres": ["Action", ""]})
USERS = pd.DataFrame({"user_id": ["u1", "u2", "u3"], "age": pd.array([25, 30, 56], dtype="Int64")})


@pytest.fixture
def load(tmp_path):
    """Loads the toy set through the cache in `tmp_path`; `.fetches` counts the loads from the source."""

    def fetch() -> Dataset:
        run.fetches += 1
        return Dataset.create("toy", RATINGS, ITEMS, USERS)

    def run() -> Dataset:
        return load_through_cache(
            "toy", path=None, cache_dir=str(tmp_path), download=True, read_path=lambda p: fetch(),
            remote=[("source", fetch)],
        )  # fmt: skip

    run.fetches = 0  # type: ignore[attr-defined]
    assert run().n_ratings == 3 and run.fetches == 1  # the first load builds the cache
    assert run().n_ratings == 3 and run.fetches == 1  # the second reads it
    return run


def test_cache_file_copied_over_another_is_rebuilt(load, tmp_path, caplog):
    folder = tmp_path / "toy"
    shutil.copyfile(folder / "item_ids.parquet", folder / "user_ids.parquet")  # would relabel every user
    with caplog.at_level(logging.WARNING):
        dataset = load()
    assert load.fetches == 2
    assert sorted(dataset.ratings.user_id.astype(str)) == ["u1", "u2", "u3"]
    assert (
        f"toy: the cache in {folder} does not match its checksums (user_ids.parquet has changed); rebuilding it"
        in caplog.text
    )
    load()
    assert load.fetches == 2  # the rebuilt cache matches again


def test_cache_file_deleted_is_rebuilt(load, tmp_path, caplog):
    folder = tmp_path / "toy"
    (folder / "users.parquet").unlink()  # would train without demographics, silently
    with caplog.at_level(logging.WARNING):
        dataset = load()
    assert load.fetches == 2
    assert dataset.users is not None and list(dataset.users.age) == [25, 30, 56]
    assert "does not match its checksums (users.parquet is missing); rebuilding it" in caplog.text
