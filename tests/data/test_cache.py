"""The columnar cache: int32 codes plus id dictionaries round-trip exactly; old and broken caches."""

from __future__ import annotations

import logging

import pandas as pd
import pyarrow.parquet as pq
import pytest

from movierec.data.cache import cache_folder, cache_root, read_cache, write_cache
from movierec.data.dataset import Dataset

RATINGS = pd.DataFrame(
    {
        "user_id": ["u2", "u1", "u2", "007"],
        "item_id": ["m1", "m1", "m9", "m9"],
        "rating": [4.5, 3.0, 0.5, 5.0],
        "timestamp": [30, 10, 20, 1_700_000_000_000],
    }
)
ITEMS = pd.DataFrame({"item_id": ["m1", "m9"], "title": ["Heat (1995)", "Up"], "genres": ["Action|Crime", ""]})
USERS = pd.DataFrame({"user_id": ["u1", "u2", "007"], "age": pd.array([25, None, 56], dtype="Int64")})


@pytest.mark.parametrize("users", [USERS, None], ids=["with users", "without users"])
def test_round_trip_is_exact_and_stores_codes(tmp_path, users):
    dataset = Dataset.create("toy", RATINGS, ITEMS, users)
    write_cache(dataset, tmp_path / "toy")
    schema = pq.read_schema(tmp_path / "toy" / "ratings.parquet")
    assert [(f.name, str(f.type)) for f in schema] == [
        ("user_code", "int32"), ("item_code", "int32"), ("rating", "float"), ("timestamp", "int64")
    ]  # fmt: skip
    again = read_cache(tmp_path / "toy", "toy")
    pd.testing.assert_frame_equal(again.ratings, dataset.ratings)
    pd.testing.assert_frame_equal(again.items, dataset.items)
    if users is None:
        assert again.users is None
    else:
        pd.testing.assert_frame_equal(again.users, dataset.users)
    assert again.ratings.user_id.tolist() == ["u2", "u1", "u2", "007"]


def test_a_cache_of_string_columns_from_before_the_codes_is_still_read(tmp_path):
    folder = tmp_path / "ml-100k"
    folder.mkdir()
    RATINGS.to_parquet(folder / "ratings.parquet", index=False)
    ITEMS.to_parquet(folder / "items.parquet", index=False)
    USERS.to_parquet(folder / "users.parquet", index=False)
    dataset = read_cache(folder, "ml-100k")
    assert dataset.ratings.to_dict("list") == RATINGS.to_dict("list")
    assert str(dataset.ratings.item_id.dtype) == "category"


def test_missing_or_broken_caches_are_ignored(tmp_path, caplog):
    assert read_cache(tmp_path / "absent", "x") is None
    write_cache(Dataset.create("toy", RATINGS, ITEMS), tmp_path / "toy")
    (tmp_path / "toy" / "user_ids.parquet").write_bytes(b"not parquet")
    with caplog.at_level(logging.WARNING, logger="movierec.data.cache"):
        assert read_cache(tmp_path / "toy", "toy") is None
    assert "does not match its checksums (user_ids.parquet has changed)" in caplog.text
    (tmp_path / "toy" / "checksums.json").unlink()  # a cache from before the checksums: read, found unreadable
    with caplog.at_level(logging.WARNING, logger="movierec.data.cache"):
        assert read_cache(tmp_path / "toy", "toy") is None
    assert "ignoring unreadable cache" in caplog.text


def test_cache_root_order(tmp_path, monkeypatch):
    monkeypatch.setenv("MOVIEREC_CACHE", str(tmp_path / "env"))
    assert cache_root() == tmp_path / "env"
    assert cache_folder("ml-25m", tmp_path / "arg") == tmp_path / "arg" / "ml-25m"
