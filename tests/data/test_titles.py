"""The one title-year and genre parser every source shares."""

from __future__ import annotations

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from movierec.data.titles import clean_genres, title_years


def test_known_titles():
    titles = pd.Series(["Heat (1995)", "Babylon 5", "Up (2009) ", "Paris (1900) Texas", "Dekalog (1989)"])
    assert title_years(titles).tolist() == [1995, pd.NA, 2009, pd.NA, 1989]
    assert str(title_years(titles).dtype) == "Int64"


def test_known_genres():
    genres = pd.Series(["Comedy|Drama", "(no genres listed)", "", None, " Action | |Crime"])
    assert clean_genres(genres).tolist() == ["Comedy|Drama", "", "", "", "Action|Crime"]
    assert clean_genres(pd.Series(["unknown|Drama"]), drop=("unknown",)).tolist() == ["Drama"]


@given(title=st.text(min_size=0, max_size=30).filter(lambda t: "\n" not in t), year=st.integers(1000, 9999))
def test_a_trailing_year_is_always_found(title, year):
    assert title_years(pd.Series([f"{title} ({year})"])).tolist() == [year]
