"""Side features of users and items, aligned with a `Vocab`'s indices.

Categorical features are small integer codes where 0 always means "unknown", so a
model can feed them to an embedding of size `n_*` directly (the counts include the
unknown slot). Genres are a multi-hot matrix.

* Item year: decade buckets; bucket 1 is the decade `first_decade`, bucket k is
  `first_decade + 10 * (k - 1)`.
* User age: the MovieLens 1M age groups: under 18, 18-24, 25-34, 35-44, 45-49, 50-55, 56+
  (codes 1..7).
* User gender and occupation: codes 1..n in sorted order of the values seen.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from movierec.data.dataset import Dataset
from movierec.data.vocab import Vocab

__all__ = ["Features", "build_features", "AGE_EDGES"]

AGE_EDGES = (18, 25, 35, 45, 50, 56)  # lower bounds of age groups 2..7 (MovieLens 1M)


@dataclass(frozen=True)
class Features:
    """User and item side features; row `i` belongs to vocabulary index `i`.

    Attributes:
        item_genres: `[n_items, n_genres]` float32 multi-hot genre matrix.
        genre_names: Column names of `item_genres`, sorted.
        item_year_bucket: `[n_items]` int32 decade bucket, 0 = unknown year.
        n_year_buckets: Number of year codes including 0.
        first_decade: Decade of bucket 1 (e.g. 1920), 0 when no item has a year.
        user_age_bucket: `[n_users]` int32 age group 1..7, 0 = unknown.
        user_gender: `[n_users]` int32 code into `gender_names` (+1), 0 = unknown.
        user_occupation: `[n_users]` int32 code into `occupation_names` (+1), 0 = unknown.
        n_age_buckets: Number of age codes including 0 (8, or 1 without a user table).
        n_genders: Number of gender codes including 0.
        n_occupations: Number of occupation codes including 0.
        gender_names: Gender value of codes 1..n.
        occupation_names: Occupation value of codes 1..n.

    Example:
        >>> ds = Dataset.create("toy", pd.DataFrame({"user_id": ["u"], "item_id": ["m"],
        ...     "rating": [5.0], "timestamp": [0]}), pd.DataFrame({"item_id": ["m"],
        ...     "title": ["M (1995)"], "year": [1995], "genres": ["Comedy|Drama"]}))
        >>> f = build_features(ds, Vocab.build(["u"], ["m"]))
        >>> f.genre_names, f.item_genres.tolist(), f.item_year_bucket.tolist()
        (('Comedy', 'Drama'), [[1.0, 1.0]], [1])
    """

    item_genres: np.ndarray
    genre_names: tuple[str, ...]
    item_year_bucket: np.ndarray
    n_year_buckets: int
    first_decade: int
    user_age_bucket: np.ndarray
    user_gender: np.ndarray
    user_occupation: np.ndarray
    n_age_buckets: int
    n_genders: int
    n_occupations: int
    gender_names: tuple[str, ...] = ()
    occupation_names: tuple[str, ...] = ()


def build_features(dataset: Dataset, vocab: Vocab) -> Features:
    """Builds side features for every user and item of `vocab`.

    Vocabulary entries missing from the dataset's tables get zero rows / code 0.

    Args:
        dataset: Source of the `items` (and optional `users`) tables.
        vocab: Fixes the row order: row `i` describes `vocab.item_ids[i]` / `vocab.user_ids[i]`.
    """
    items = dataset.items.drop_duplicates("item_id").set_index("item_id")
    item_rows = items.reindex(pd.Index(vocab.item_ids.astype(str)))
    genre_lists = item_rows["genres"].fillna("").map(lambda s: [g for g in s.split("|") if g])
    genre_names = tuple(sorted({g for gs in items["genres"].fillna("") for g in gs.split("|") if g}))
    column = {g: j for j, g in enumerate(genre_names)}
    item_genres = np.zeros((vocab.n_items, len(genre_names)), np.float32)
    for i, genres in enumerate(genre_lists):
        item_genres[i, [column[g] for g in genres]] = 1.0

    years = pd.to_numeric(items["year"], errors="coerce").dropna()
    first_decade = int(years.min()) // 10 * 10 if len(years) else 0
    n_decades = (int(years.max()) // 10 * 10 - first_decade) // 10 + 1 if len(years) else 0
    item_years = pd.to_numeric(item_rows["year"], errors="coerce")
    year_bucket = ((item_years // 10 * 10 - first_decade) // 10 + 1).fillna(0).to_numpy(np.int32)

    n_users = vocab.n_users
    if dataset.users is None:
        zeros = np.zeros(n_users, np.int32)
        genders: tuple[str, ...] = ()
        occupations: tuple[str, ...] = ()
        age, gender, occupation = zeros, zeros.copy(), zeros.copy()
        n_age = 1
    else:
        users = dataset.users.drop_duplicates("user_id").set_index("user_id")
        user_rows = users.reindex(pd.Index(vocab.user_ids.astype(str)))
        ages = pd.to_numeric(_column(user_rows, "age"), errors="coerce")
        age = np.where(ages.isna(), 0, np.searchsorted(AGE_EDGES, ages.fillna(0), side="right") + 1)
        age = age.astype(np.int32)
        gender, genders = _codes(_column(users, "gender"), _column(user_rows, "gender"))
        occupation, occupations = _codes(_column(users, "occupation"), _column(user_rows, "occupation"))
        n_age = len(AGE_EDGES) + 2
    return Features(
        item_genres=item_genres,
        genre_names=genre_names,
        item_year_bucket=year_bucket,
        n_year_buckets=n_decades + 1,
        first_decade=first_decade,
        user_age_bucket=age,
        user_gender=gender,
        user_occupation=occupation,
        n_age_buckets=n_age,
        n_genders=len(genders) + 1,
        n_occupations=len(occupations) + 1,
        gender_names=genders,
        occupation_names=occupations,
    )


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    """`frame[name]`, or all-missing when a custom users table lacks that column."""
    return frame[name] if name in frame.columns else pd.Series(pd.NA, index=frame.index, dtype=object)


def _codes(catalog: pd.Series, aligned: pd.Series) -> tuple[np.ndarray, tuple[str, ...]]:
    """Codes 1..n for the sorted distinct non-empty values of `catalog`; 0 for missing."""
    names = tuple(sorted({str(v).strip() for v in catalog.dropna() if str(v).strip()}))
    lookup = {name: k + 1 for k, name in enumerate(names)}
    codes = aligned.map(lambda v: lookup.get(str(v).strip(), 0) if pd.notna(v) else 0)
    return codes.to_numpy(np.int32), names
