"""The canonical tables every data source is turned into.

A `Dataset` holds three pandas tables with fixed column names and dtypes:

* `ratings`: `user_id` and `item_id` (string ids held as pandas Categoricals: int32 codes plus one
  string per distinct id), `rating` (float32), `timestamp` (int64, Unix seconds).
* `items`: `item_id` (str), `title` (str, "Title (Year)" for MovieLens), `year` (Int64, nullable),
  `genres` (str, `|`-separated, may be empty).
* `users` (optional): `user_id` (str), `age` (Int64), `gender` (str), `occupation` (str), `zip` (str).

Ids are strings everywhere so that any ratings file (MovieLens ids, UUIDs,
names) flows through the same code; integer indices are assigned once by
`movierec.data.vocab`. In `ratings` they are Categoricals because an object column of 25M
id strings costs gigabytes: `== "u1"`, `.astype(str)`, `.tolist()` and `set(...)` all still
see strings, and the categories are exactly the ids that occur.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from movierec.data.columnar import categorical_from_values
from movierec.errors import DataError

__all__ = ["Dataset", "RATING_COLUMNS", "ITEM_COLUMNS"]

RATING_COLUMNS = ("user_id", "item_id", "rating", "timestamp")
ITEM_COLUMNS = ("item_id", "title", "year", "genres")


@dataclass(frozen=True)
class Dataset:
    """Ratings plus item (and optionally user) metadata in canonical form.

    Attributes:
        name: Short name of the source, e.g. "ml-100k" or a CSV file stem.
        ratings: One row per (user, item) rating; see module docstring for columns.
        items: One row per item. Items that appear in `ratings` but not here get
            a row with their id as title (see `Dataset.create`).
        users: One row per user with demographics, or None when unknown.

    Example:
        >>> ds = Dataset.create("toy", pd.DataFrame({"user_id": ["a"], "item_id": ["x"],
        ...     "rating": [4.0], "timestamp": [0]}))
        >>> ds.items.title.tolist()
        ['x']
    """

    name: str
    ratings: pd.DataFrame
    items: pd.DataFrame
    users: pd.DataFrame | None = None

    @classmethod
    def create(
        cls,
        name: str,
        ratings: pd.DataFrame,
        items: pd.DataFrame | None = None,
        users: pd.DataFrame | None = None,
    ) -> "Dataset":
        """Builds a dataset, coercing dtypes and filling in missing item rows.

        Raises:
            DataError: if a required column is missing or the ratings are empty.
        """
        missing = [c for c in RATING_COLUMNS if c not in ratings.columns]
        if missing:
            raise DataError(f"ratings: missing column(s) {missing}; need {list(RATING_COLUMNS)}")
        if len(ratings) == 0:
            raise DataError("ratings: no rows")
        ratings = pd.DataFrame(
            {
                "user_id": _ids(ratings["user_id"]),
                "item_id": _ids(ratings["item_id"]),
                "rating": ratings["rating"].to_numpy(dtype=np.float32, copy=False),
                "timestamp": ratings["timestamp"].to_numpy(dtype=np.int64, copy=False),
            },
            copy=False,  # no second copy of 25M rows; the columns may share memory with the input
        )
        if items is None:
            items = pd.DataFrame({"item_id": pd.Series([], dtype=str)})
        items = items.copy()
        items["item_id"] = items["item_id"].astype(str)
        if "title" not in items.columns:
            items["title"] = items["item_id"]
        if "year" not in items.columns:
            items["year"] = pd.array([pd.NA] * len(items), dtype="Int64")
        if "genres" not in items.columns:
            items["genres"] = ""
        items = items[list(ITEM_COLUMNS)].drop_duplicates("item_id", keep="first")
        unlisted = ratings["item_id"].cat.categories.difference(pd.Index(items["item_id"]))
        if len(unlisted):
            extra = pd.DataFrame(
                {
                    "item_id": unlisted.astype(str),
                    "title": unlisted.astype(str),
                    "year": pd.array([pd.NA] * len(unlisted), dtype="Int64"),
                    "genres": "",
                }
            )
            items = pd.concat([items, extra], ignore_index=True)
        items["title"] = items["title"].fillna("").astype(str)
        items["genres"] = items["genres"].fillna("").astype(str)
        items["year"] = pd.array(pd.to_numeric(items["year"], errors="coerce"), dtype="Int64")
        items = items.reset_index(drop=True)
        if users is not None:
            users = users.copy()
            users["user_id"] = users["user_id"].astype(str)
            users = users.reset_index(drop=True)
        return cls(name=name, ratings=ratings, items=items, users=users)

    @property
    def n_ratings(self) -> int:
        return len(self.ratings)

    def summary(self) -> str:
        """One line describing the dataset's size."""
        return (
            f"{self.name}: {len(self.ratings):,} ratings, "
            f"{self.ratings.user_id.nunique():,} users, {len(self.items):,} items"
        )


def _ids(values: pd.Series) -> pd.Categorical:
    """An id column as a Categorical of strings whose categories are exactly the ids present."""
    categorical = categorical_from_values(values)
    used = np.zeros(len(categorical.categories), bool)
    used[categorical.codes] = True  # no int64 copy of the codes, unlike np.bincount
    return categorical if used.all() else categorical.remove_unused_categories()
