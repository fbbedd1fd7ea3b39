"""Read ratings (and optionally items) from CSV files into a canonical `Dataset`.

Ratings CSV: a header row naming at least `user_id,item_id,rating,timestamp`
(extra columns are ignored); `timestamp` is integer Unix seconds.
Items CSV: a header naming `item_id,title` and optionally `genres` (`|`-separated);
the year is taken from a trailing "(YYYY)" in the title.

Every problem is reported as a one-line `DataError` that names the file, and for
bad values the line number (the header is line 1) and the value received.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import pandas as pd

from movierec.data.dataset import RATING_COLUMNS, Dataset
from movierec.errors import DataError

__all__ = ["load_csv"]

logger = logging.getLogger(__name__)

ITEM_REQUIRED = ("item_id", "title")
_TITLE_YEAR = r"\((\d{4})\)\s*$"


def load_csv(ratings_path: str | Path, items_path: str | Path | None = None, name: str | None = None) -> Dataset:
    """Loads a ratings CSV and an optional items CSV.

    Duplicate (user, item) pairs keep the latest rating by timestamp (the last row on ties)
    and are reported with a warning.

    Args:
        ratings_path: CSV with header `user_id,item_id,rating,timestamp`.
        items_path: Optional CSV with header `item_id,title[,genres]`.
        name: Dataset name; defaults to the ratings file's stem.

    Returns:
        The dataset; ids are kept as strings exactly as written (surrounding spaces removed).

    Raises:
        DataError: if a file is missing or empty, lacks a column, or holds an empty id,
            a non-numeric rating or a non-integer timestamp.

    Example:
        >>> ds = load_csv("ratings.csv", "movies.csv")  # doctest: +SKIP
        >>> ds.summary()  # doctest: +SKIP
        'ratings: 4 ratings, 2 users, 3 items'
    """
    ratings_path = Path(ratings_path)
    frame = _read(ratings_path, RATING_COLUMNS, "ratings")
    ratings = pd.DataFrame(
        {
            "user_id": _ids(frame, "user_id", ratings_path),
            "item_id": _ids(frame, "item_id", ratings_path),
            "rating": _numbers(frame, "rating", ratings_path, integer=False),
            "timestamp": _numbers(frame, "timestamp", ratings_path, integer=True),
        }
    )
    ratings = _drop_duplicates(ratings, ratings_path)
    items = None
    if items_path is not None:
        items = _read_items(Path(items_path))
    return Dataset.create(name or ratings_path.stem, ratings, items)


def _read_items(path: Path) -> pd.DataFrame:
    frame = _read(path, ITEM_REQUIRED, "items")
    titles = frame["title"].str.strip()
    genres = frame["genres"] if "genres" in frame.columns else pd.Series("", index=frame.index)
    genres = genres.str.split("|").map(lambda gs: "|".join(g.strip() for g in gs if g.strip()))
    return pd.DataFrame(
        {
            "item_id": _ids(frame, "item_id", path),
            "title": titles,
            "year": titles.str.extract(_TITLE_YEAR, expand=False),
            "genres": genres,
        }
    )


def _read(path: Path, required: tuple[str, ...], kind: str) -> pd.DataFrame:
    """Reads every cell as a string; row `i` of the result is line `i + 2` of the file."""
    if not path.is_file():
        raise DataError(f"{kind} file not found: {path}")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=False)
    except pd.errors.EmptyDataError:
        raise DataError(f"{kind} file {path} is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as e:
        raise DataError(f"{kind} file {path} cannot be parsed as CSV: {str(e).strip()}") from e
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataError(
            f"{kind} file {path} is missing column(s) {', '.join(missing)}; "
            f"the header row must name {','.join(required)} (found: {','.join(frame.columns)})"
        )
    blank = frame[list(required)].fillna("").apply(lambda c: c.str.strip() == "").all(axis=1)
    frame = frame[~blank]  # blank lines; keeping the index keeps line numbers right
    if frame.empty:
        raise DataError(f"{kind} file {path} has a header but no rows")
    return frame


def _ids(frame: pd.DataFrame, column: str, path: Path) -> pd.Series:
    values = frame[column].fillna("").str.strip()
    empty = values == ""
    if empty.any():
        line = int(values.index[empty.to_numpy()][0]) + 2
        raise DataError(f"{path} line {line}: empty {column}")
    return values


def _numbers(frame: pd.DataFrame, column: str, path: Path, *, integer: bool) -> pd.Series:
    raw = frame[column].fillna("").str.strip()
    values = pd.to_numeric(raw, errors="coerce").astype("float64")
    bad = ~values.map(math.isfinite)
    what = "rating" if not integer else "timestamp"
    if integer:
        bad |= values.map(lambda v: math.isfinite(v) and not v.is_integer())
    if bad.any():
        position = int(bad.to_numpy().argmax())
        line = int(raw.index[position]) + 2
        kind = "non-integer" if integer else "non-numeric"
        raise DataError(f"{path} line {line}: {kind} {what} {raw.iloc[position]!r}")
    return values.astype("int64") if integer else values


def _drop_duplicates(ratings: pd.DataFrame, path: Path) -> pd.DataFrame:
    ratings = ratings.reset_index(drop=True)
    ordered = ratings.sort_values("timestamp", kind="stable")
    kept = ordered.drop_duplicates(["user_id", "item_id"], keep="last").sort_index()
    dropped = len(ratings) - len(kept)
    if dropped:
        logger.warning("%s: %d duplicate (user_id, item_id) row(s); kept the latest of each", path, dropped)
    return kept.reset_index(drop=True)
