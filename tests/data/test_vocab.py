"""Vocabularies: ids to indices in first-seen order, the same for string and Categorical columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from movierec.data.vocab import Vocab
from movierec.errors import UnknownIdError

ids = st.lists(st.text(alphabet="abcxyz", min_size=1, max_size=3), min_size=1, max_size=40)


@given(ids, ids)
def test_categorical_columns_give_the_same_vocabulary_and_indices(users, queries):
    plain = Vocab.build(users, ["m"])
    categorical = Vocab.build(pd.Series(users, dtype="category"), ["m"])
    assert plain.user_ids.tolist() == categorical.user_ids.tolist() == list(dict.fromkeys(users))
    known = [q for q in queries if q in set(users)] or users[:1]
    np.testing.assert_array_equal(plain.user_index(pd.Series(known, dtype="category")), plain.user_index(known))


def test_categorical_lookup_names_only_unknown_ids_that_occur():
    vocab = Vocab.build(["u1", "u2"], ["m1"])
    # "zz" is a category but never occurs: it must not be reported
    column = pd.Series(pd.Categorical(["u2", "u9", "u1"], categories=["u1", "u2", "u9", "zz"]))
    with pytest.raises(UnknownIdError, match=r"unknown user id 'u9'$"):
        vocab.user_index(column)
    np.testing.assert_array_equal(vocab.user_index(column, missing="mask"), [1, -1, 0])
