"""The synthetic generator: deterministic bytes, exact sizes, MovieLens-like shape, and readable as a source."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from movierec.config import DataConfig
from movierec.data.grouplens import load_movielens
from movierec.data.load import load_dataset
from movierec.data.synthetic import GENRES, SyntheticConfig, write_synthetic
from movierec.errors import ConfigError

SMALL = SyntheticConfig(users=2_000, items=1_000, ratings=120_000, seed=3)  # 60 ratings per user on average


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "small"
    summary = write_synthetic(SMALL, out)
    ratings = pd.read_csv(out / "ratings.csv")
    movies = pd.read_csv(out / "movies.csv", dtype={"title": str, "genres": str}, keep_default_na=False)
    return out, summary, ratings, movies


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    config = SyntheticConfig(users=300, items=200, ratings=12_000, seed=7)
    for name in ("a", "b"):
        write_synthetic(config, tmp_path / name)
    write_synthetic(SyntheticConfig(users=300, items=200, ratings=12_000, seed=8), tmp_path / "c")
    for file in ("ratings.csv", "movies.csv", "README.txt"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()
    assert (tmp_path / "a" / "ratings.csv").read_bytes() != (tmp_path / "c" / "ratings.csv").read_bytes()


def test_sizes_are_exact(small):
    _, summary, ratings, movies = small
    assert list(ratings.columns) == ["userId", "movieId", "rating", "timestamp"]
    assert len(ratings) == SMALL.ratings == summary["ratings"]
    assert ratings.userId.nunique() == SMALL.users and ratings.userId.max() == SMALL.users
    assert ratings.movieId.nunique() == SMALL.items  # every rated movie has a rating
    assert len(movies) == summary["movies"] == round(SMALL.items * (62_423 / 59_047))  # ML-25M's unrated share
    assert set(ratings.movieId) <= set(movies.movieId)
    assert not ratings.duplicated(["userId", "movieId"]).any()


def test_every_user_has_twenty_and_rows_are_in_grouplens_order(small):
    _, _, ratings, _ = small
    per_user = ratings.groupby("userId").size()
    assert per_user.min() >= 20
    assert per_user.max() > 5 * per_user.median()  # heavy-tailed activity
    order = ratings.sort_values(["userId", "movieId"]).index
    assert (order == ratings.index).all()


def test_popularity_is_heavy_tailed(small):
    _, _, ratings, _ = small
    counts = ratings.movieId.value_counts().to_numpy()  # sorted, most rated first
    assert counts[: len(counts) // 100].sum() > 0.10 * len(ratings)  # top 1% of movies: > 10% of ratings
    assert np.median(counts) < counts.mean() / 2


def test_ratings_are_half_stars_with_movielens_mean_and_times_in_range(small):
    _, summary, ratings, _ = small
    assert set(ratings.rating.unique()) <= {0.5 * k for k in range(1, 11)}
    assert ratings.rating.mean() == pytest.approx(3.534, abs=0.01)  # ML-25M: 3.53
    assert summary["mean_rating"] == pytest.approx(ratings.rating.mean(), abs=1e-6)
    assert ratings.rating.value_counts().idxmax() == 4.0
    assert ratings.timestamp.between(789_652_009, 1_574_327_703).all()  # ML-25M's first and last day
    spans = ratings.groupby("userId").timestamp.agg(lambda t: t.max() - t.min())
    assert spans.median() < 30 * 86_400 < spans.max()  # each user rates over one period, some for long


def test_movies_have_years_and_movielens_genres(small):
    _, _, _, movies = small
    assert movies.title.str.fullmatch(r"Movie \d+(, The)? \(\d{4}\)").all()
    genres = {g for gs in movies.genres for g in gs.split("|")}
    assert genres <= set(GENRES) | {"(no genres listed)"}
    assert "(no genres listed)" in genres and "Drama" in genres


def test_the_folder_is_a_source_like_any_other(small, tmp_path, caplog):
    out, _, ratings, movies = small
    dataset = load_dataset(DataConfig(source=str(out)))
    assert dataset.name == "small"
    assert (dataset.n_ratings, dataset.ratings.user_id.nunique(), len(dataset.items)) == (
        SMALL.ratings, SMALL.users, len(movies)
    )  # fmt: skip
    assert dataset.ratings.rating.sum() == pytest.approx(ratings.rating.sum())
    assert dataset.items.title.str.contains(", The ").any()  # quoted titles with a comma survive
    with caplog.at_level(logging.WARNING, logger="movierec.data.grouplens"):
        as_25m = load_movielens("ml-25m", path=str(out), cache_dir=str(tmp_path / "c"))
    assert "GroupLens publishes 25,000,095" in caplog.text  # read as ml-25m, counts flagged
    pd.testing.assert_frame_equal(as_25m.ratings, dataset.ratings)


@pytest.mark.parametrize(
    ("sizes", "phrase"),
    [
        ({"users": 0}, "`users` should be a positive integer"),
        ({"users": 100, "items": 50, "ratings": 1_000}, "`ratings` should be at least 20 per user"),
        ({"users": 10, "items": 50, "ratings": 10_000}, "`ratings` should be at most 300"),
        ({"users": 2, "items": 100, "ratings": 100}, "`items` should be at most 40"),
        ({"users": 5, "items": 10, "ratings": 100}, "`items` should be at least min_user_ratings"),
        ({"seed": -1}, "`seed` should be a non-negative integer"),
    ],
)
def test_impossible_sizes_are_config_errors(sizes, phrase):
    base = {"users": 100, "items": 50, "ratings": 3_000}
    with pytest.raises(ConfigError, match=phrase):
        SyntheticConfig(**{**base, **sizes})


def test_out_must_be_new_or_empty(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    with pytest.raises(ConfigError, match="`out` should be a new or empty folder"):
        write_synthetic(SyntheticConfig(users=30, items=40, ratings=600), tmp_path / "full")
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"
    (tmp_path / "empty").mkdir()
    write_synthetic(SyntheticConfig(users=30, items=20, ratings=600), tmp_path / "empty")  # all rate all
    assert (tmp_path / "empty" / "ratings.csv").is_file()


@settings(max_examples=25, deadline=None)
@given(
    users=st.integers(1, 60),
    per_user=st.integers(20, 40),
    items_share=st.floats(0.05, 1.0),
    seed=st.integers(0, 2**32),
)
def test_any_feasible_size_gives_exact_counts(users, per_user, items_share, seed):
    items = max(20, min(int(items_share * users * 20), users * 20))
    ratings = min(users * per_user, users * max(20, int(0.6 * items)))
    config = SyntheticConfig(users=users, items=items, ratings=ratings, seed=seed)
    with tempfile.TemporaryDirectory() as tmp:
        write_synthetic(config, Path(tmp) / "out")
        frame = pd.read_csv(Path(tmp) / "out" / "ratings.csv")
    assert len(frame) == ratings and frame.userId.nunique() == users and frame.movieId.nunique() == items
    assert frame.groupby("userId").size().min() >= 20
    assert not frame.duplicated(["userId", "movieId"]).any()


def test_sorted_distinct_keys_of_a_chunk_with_no_draws_are_empty():
    # A chunk of users that all have their ratings already draws nothing: the ML-10M-shaped set hit it.
    from movierec.data.synthetic import _unique

    assert _unique(np.array([], np.int64)).tolist() == []
    assert _unique(np.array([5, 1, 5, 3], np.int64)).tolist() == [1, 3, 5]
