"""Id columns as Categoricals: known codes, and the string behaviour downstream code relies on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from movierec.data.columnar import categorical_from_arrow, categorical_from_ints, categorical_from_values
from movierec.data.dataset import Dataset
from movierec.data.vocab import Vocab


def test_integer_ids_keep_numeric_order_in_their_categories():
    ids = categorical_from_ints(np.array([30, 7, 30, 1000]))
    assert ids.categories.tolist() == ["7", "30", "1000"] and ids.codes.tolist() == [1, 0, 1, 2]
    huge = categorical_from_ints(np.array([2**40, -3, 2**40]))  # not a lookup table's job: sorted instead
    assert huge.tolist() == [str(2**40), "-3", str(2**40)]


def test_arrow_strings_are_stripped_and_merged():
    chunks = pa.chunked_array([pa.array(["a", " b"]), pa.array(["b ", "a"])])
    ids = categorical_from_arrow(chunks)
    assert ids.tolist() == ["a", "b", "b", "a"] and len(ids.categories) == 2
    assert categorical_from_arrow(pa.array([3, 1, 3])).tolist() == ["3", "1", "3"]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (pd.Series([1, 2, 1]), ["1", "2", "1"]),
        (pd.Series(["1", 1, "x"], dtype=object), ["1", "1", "x"]),  # equal as strings: one id
        (pd.Series(pd.Categorical([5, 6, 5])), ["5", "6", "5"]),
        (pd.Series(pd.Categorical(["a", None])), ["a", "nan"]),
        (pd.Series([1.5, np.nan]), ["1.5", "nan"]),
    ],
)
def test_any_id_column_becomes_string_categories(values, expected):
    ids = categorical_from_values(values)
    assert ids.tolist() == expected
    assert all(isinstance(c, str) for c in ids.categories)


def test_dataset_ids_still_behave_as_strings():
    ratings = pd.DataFrame({"user_id": [2, 1, 2], "item_id": ["m", "n", "n"], "rating": [1, 2, 3], "timestamp": 0})
    dataset = Dataset.create("toy", ratings)
    users = dataset.ratings.user_id
    assert users.tolist() == ["2", "1", "2"] and (users == "2").tolist() == [True, False, True]
    assert users.astype(str).tolist() == ["2", "1", "2"] and set(users) == {"1", "2"}
    vocab = Vocab.build(users, dataset.ratings.item_id)
    assert list(vocab.user_ids) == ["2", "1"] and vocab.user_index(users).tolist() == [0, 1, 0]
    filtered = Dataset.create("toy", dataset.ratings[dataset.ratings.rating > 2])
    assert filtered.ratings.user_id.cat.categories.tolist() == ["2"]  # only the ids present
