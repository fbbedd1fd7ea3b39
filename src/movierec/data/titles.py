"""Movie titles and genres as MovieLens writes them: "Title (YYYY)" and `|`-separated genres.

One place for the parsing every source shares (GroupLens archives, the RecBole copy of
ml-100k, items CSVs, the synthetic generator), so they cannot drift apart.
"""

from __future__ import annotations

import re

import pandas as pd

__all__ = ["TITLE_YEAR", "NO_GENRES", "title_years", "clean_genres"]

TITLE_YEAR = re.compile(r"\((\d{4})\)\s*$")  # the year MovieLens appends to a title: "Heat (1995)"
NO_GENRES = "(no genres listed)"  # MovieLens' placeholder for a movie without genres (ml-10m and later)


def title_years(titles: pd.Series) -> pd.Series:
    """The year at the end of each title ("Heat (1995)" -> 1995), as nullable Int64.

    Example:
        >>> title_years(pd.Series(["Heat (1995)", "Babylon 5", "Up (2009) "])).tolist()
        [1995, <NA>, 2009]
    """
    years = titles.astype(str).str.extract(TITLE_YEAR, expand=False)
    return pd.array(pd.to_numeric(years, errors="coerce"), dtype="Int64")


def clean_genres(genres: pd.Series, *, drop: tuple[str, ...] = (NO_GENRES,)) -> pd.Series:
    """`|`-joined genres with surrounding spaces, empty names and placeholders removed.

    Args:
        genres: One `|`-separated string per movie (missing values count as no genre).
        drop: Genre names that mean "no genre" and are removed.

    Example:
        >>> clean_genres(pd.Series(["Comedy| Drama", "(no genres listed)", None])).tolist()
        ['Comedy|Drama', '', '']
    """
    unwanted = set(drop) | {""}
    names = genres.fillna("").astype(str).str.split("|")
    return names.map(lambda gs: "|".join(g.strip() for g in gs if g.strip() not in unwanted))
