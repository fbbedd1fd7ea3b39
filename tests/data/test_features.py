"""build_features: known codes for a tiny dataset, a dataset without users, and the npz round trip."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movierec.data.dataset import Dataset
from movierec.data.features import Features, build_features
from movierec.data.vocab import Vocab

RATINGS = pd.DataFrame(
    {"user_id": ["u1", "u2", "u3"], "item_id": ["m1", "m2", "m3"], "rating": [5.0, 3.0, 4.0], "timestamp": [1, 2, 3]}
)
ITEMS = pd.DataFrame(
    {
        "item_id": ["m1", "m2", "m3"],
        "title": ["A (1995)", "B (1972)", "C"],
        "year": [1995, 1972, None],
        "genres": ["Comedy|Drama", "Action", ""],
    }
)
USERS = pd.DataFrame(
    {
        "user_id": ["u1", "u2", "u3"],
        "age": pd.array([17, 25, None], dtype="Int64"),
        "gender": ["M", "F", "M"],
        "occupation": ["student", "writer", ""],
        "zip": ["1", "2", "3"],
    }
)


@pytest.fixture
def features() -> Features:
    dataset = Dataset.create("toy", RATINGS, ITEMS, USERS)
    # vocab order differs from the tables and holds one unknown user and item
    return build_features(dataset, Vocab.build(["u3", "u1", "u2", "ghost"], ["m2", "m1", "m3", "new"]))


def test_item_features_have_known_values(features):
    assert features.genre_names == ("Action", "Comedy", "Drama")
    np.testing.assert_array_equal(
        features.item_genres, np.array([[1, 0, 0], [0, 1, 1], [0, 0, 0], [0, 0, 0]], np.float32)
    )
    assert features.item_genres.dtype == np.float32
    # decades 1970 (bucket 1) .. 1990 (bucket 3); m3 and "new" have no year
    assert features.first_decade == 1970 and features.n_year_buckets == 4
    assert features.item_year_bucket.tolist() == [1, 3, 0, 0]
    assert features.item_year_bucket.dtype == np.int32


def test_user_features_have_known_values(features):
    # u3: age unknown, M, empty occupation; u1: 17 -> group 1, M, student; u2: 25 -> group 3, F, writer
    assert features.user_age_bucket.tolist() == [0, 1, 3, 0]
    assert features.n_age_buckets == 8
    assert features.gender_names == ("F", "M") and features.n_genders == 3
    assert features.user_gender.tolist() == [2, 2, 1, 0]
    assert features.occupation_names == ("student", "writer") and features.n_occupations == 3
    assert features.user_occupation.tolist() == [0, 1, 2, 0]
    assert {a.dtype for a in (features.user_age_bucket, features.user_gender, features.user_occupation)} == {
        np.dtype(np.int32)
    }


def test_dataset_without_users_gives_zero_codes():
    dataset = Dataset.create("toy", RATINGS, ITEMS)
    features = build_features(dataset, Vocab.build(["u1", "u2"], ["m1"]))
    assert features.user_age_bucket.tolist() == [0, 0] and features.user_gender.tolist() == [0, 0]
    assert (features.n_age_buckets, features.n_genders, features.n_occupations) == (1, 1, 1)
