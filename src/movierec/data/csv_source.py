"""Read ratings (and optionally items) from CSV or Parquet files into a canonical `Dataset`.

Ratings CSV: a header row naming at least `user_id,item_id,rating,timestamp`
(extra columns are ignored); `timestamp` is integer Unix seconds. A `.parquet` file
with the same columns is read too. Items CSV: a header naming `item_id,title` and
optionally `genres` (`|`-separated); the year is taken from a trailing "(YYYY)" in the title.

Ratings are read by pyarrow's multi-threaded CSV reader with ids dictionary-encoded as
they are parsed, so 25M rows load in seconds into int32 codes, without a Python loop per
row. A file that reader rejects, or whose values fail a check (an empty id, a missing or
non-finite rating), is read again by a line-by-line checker so that every problem is
reported as a one-line `DataError` naming the file, and for bad values the line number
(the header is line 1) and the value received.
"""

from __future__ import annotations

import csv
import functools
import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from movierec._input_files import check_input_file
from movierec.data.columnar import categorical_from_arrow
from movierec.data.dataset import RATING_COLUMNS, Dataset
from movierec.data.titles import clean_genres, title_years
from movierec.errors import DataError

__all__ = ["load_csv", "read_ratings"]

logger = logging.getLogger(__name__)

ITEM_REQUIRED = ("item_id", "title")
_BLOCK_BYTES = 16 << 20  # pyarrow parses blocks of this size in parallel
_CHECK_ROWS = 1_000_000  # lines per block of the line-numbered checker
_FLOAT32_MAX = float(np.finfo(np.float32).max)  # ratings are stored as float32
# Ratings are scores (1-5, 0-10, 0-100, counts): one beyond a million is a data error, and its square overflows a
# rating model's float32 loss (a rating of 1e30 trained, saved and served "score": null).
MAX_RATING = 1e6


def load_csv(ratings_path: str | Path, items_path: str | Path | None = None, name: str | None = None) -> Dataset:
    """Loads a ratings CSV (or Parquet file) and an optional items CSV.

    Duplicate (user, item) pairs keep the latest rating by timestamp (the last row on ties)
    and are reported with a warning.

    Args:
        ratings_path: CSV with header `user_id,item_id,rating,timestamp`, or a `.parquet` file
            with those columns.
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
    ratings = _drop_duplicates(read_ratings(ratings_path), ratings_path)
    items = None
    if items_path is not None:
        items = _read_items(Path(items_path))
    return Dataset.create(name or ratings_path.stem, ratings, items)


def read_ratings(path: str | Path) -> pd.DataFrame:
    """The canonical ratings columns of a CSV or `.parquet` file, ids as Categoricals.

    Raises:
        DataError: as `load_csv`.
    """
    path = Path(path)
    parquet = path.suffix.lower() == ".parquet"
    check_input_file(path, "ratings", DataError, text=not parquet)  # a pipe, a device, a binary file: one line now
    if parquet:
        return _read_parquet(path)
    _check_columns(path, RATING_COLUMNS, "ratings")
    fast = _read_fast(path)
    if fast is not None:
        return fast
    return _read_checked(path)


def _read_fast(path: Path) -> pd.DataFrame | None:
    """pyarrow's reader; None when the file needs the line-by-line checker (or is not a CSV at all)."""
    header = _ratings_header(path)
    if header is None:
        return None
    # Plain strings, dictionary-encoded afterwards: measured faster than pyarrow's dictionary conversion.
    types = {"user_id": pa.string(), "item_id": pa.string(), "rating": pa.float32(), "timestamp": pa.int64()}
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=header, skip_rows=1, block_size=_BLOCK_BYTES),
            convert_options=pacsv.ConvertOptions(include_columns=list(RATING_COLUMNS), column_types=types),
        )
    except (pa.ArrowException, OSError) as e:
        logger.debug("%s: pyarrow's reader declined (%s); checking line by line", path, e)
        return None
    return _checked_columns(table)


def _ratings_header(path: Path) -> list[str] | None:
    """The header's column names if pyarrow can read the file by them: every rating column, no repeats."""
    header = _header(path)
    if header is None or any(c not in header for c in RATING_COLUMNS) or len(set(header)) < len(header):
        return None
    return header


def _check_columns(path: Path, required: tuple[str, ...], kind: str) -> None:
    """Refuses a file whose header row lacks a required column, before the rest of the file is read."""
    header = _header(path)
    missing = [c for c in required if c not in header] if header is not None else []
    if missing:
        raise DataError(_missing_message(path, missing, required, kind, header or []))


def _missing_message(path: Path, missing: list[str], required: tuple[str, ...], kind: str, found: list[str]) -> str:
    return (
        f"{kind} file {path} is missing column(s) {', '.join(missing)}; "
        f"the header row must name {','.join(required)} (found: {','.join(found)})"
    )


def _header(path: Path) -> list[str] | None:
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            return [c.strip() for c in next(csv.reader(handle))]
    except (OSError, UnicodeDecodeError, StopIteration, csv.Error):
        return None


def _checked_columns(table: pa.Table) -> pd.DataFrame | None:
    """Canonical columns from an Arrow table, or None if a value needs a line-numbered error.

    Columns are converted one at a time and dropped from the table, so the peak stays near
    one Arrow column over the result.
    """
    if table.num_rows == 0 or any(table.column(c).null_count for c in RATING_COLUMNS):
        return None
    columns: dict[str, object] = {}
    for name in ("rating", "user_id", "item_id", "timestamp"):
        column, table = table.column(name), table.drop_columns([name])
        if name == "rating":
            values = column.to_numpy()
            if not (np.abs(values) <= MAX_RATING).all():  # non-finite or out of range: the line-numbered reader
                return None
            columns[name] = values.astype(np.float32, copy=False)
        elif name == "timestamp":
            columns[name] = column.to_numpy()
        else:
            ids = categorical_from_arrow(column)
            if "" in ids.categories:
                return None
            columns[name] = ids
        del column
    return pd.DataFrame({c: columns[c] for c in RATING_COLUMNS}, copy=False)


def _read_parquet(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(f"ratings file not found: {path}")
    try:
        names = pq.read_schema(path).names
        missing = [c for c in RATING_COLUMNS if c not in names]
        if missing:
            raise DataError(
                f"ratings file {path} is missing column(s) {', '.join(missing)}; "
                f"it must have {','.join(RATING_COLUMNS)} (found: {','.join(names)})"
            )
        table = pq.read_table(path, columns=list(RATING_COLUMNS))
        table = table.set_column(2, "rating", pc.cast(table.column("rating"), pa.float32()))
        table = table.set_column(3, "timestamp", pc.cast(table.column("timestamp"), pa.int64()))
    except (pa.ArrowException, OSError) as e:
        raise DataError(f"ratings file {path} cannot be read as Parquet: {str(e).strip()}") from e
    frame = _checked_columns(table)
    if frame is None:
        raise DataError(f"ratings file {path} {_parquet_problem(table)}")
    return frame


def _parquet_problem(table: pa.Table) -> str:
    """What `_checked_columns` refused, at the first row that has it (rows counted from 1, as lines are)."""
    if table.num_rows == 0:
        return "has no rows"
    for name in RATING_COLUMNS:
        missing = table.column(name).is_null().to_numpy(zero_copy_only=False)
        if missing.any():
            return f"row {int(missing.argmax()) + 1}: missing {name}"
    ratings = table.column("rating").to_numpy()
    bad = ~(np.abs(ratings) <= MAX_RATING)
    if bad.any():
        row = int(bad.argmax())
        if not np.isfinite(ratings[row]):
            return f"row {row + 1}: non-finite rating {float(ratings[row])!r}"
        return (
            f"row {row + 1}: rating {float(ratings[row])!r} is beyond ±{MAX_RATING:,.0f} (ratings are scores "
            "such as 1-5 stars)"
        )
    for name in ("user_id", "item_id"):
        empty = pc.equal(pc.cast(table.column(name), pa.string()), "").to_numpy(zero_copy_only=False)
        if empty.any():
            return f"row {int(empty.argmax()) + 1}: empty {name}"
    return "has a value movierec cannot read"  # not reached: every refusal of _checked_columns is named above


def _read_checked(path: Path) -> pd.DataFrame:
    """The line-numbered reader: slower, but names the line and value of the first bad cell.

    Blocks of the file are read as strings and checked before the next is read, so a bad row deep
    in a large file is reported after reading up to it, and the peak memory is one block of
    strings over the converted columns. pyarrow's streaming reader reads the blocks (row `i` is
    line `i + 2` as long as no line is blank); a file it cannot stream that way (blank lines, ragged
    rows, no usable header) is read again by pandas, which keeps line numbers across blank lines.
    """
    try:
        parts = [_checked_block(frame, path) for frame in _arrow_blocks(path)]
    except _NotStreamable:
        parts = [_checked_block(frame, path) for frame in _read_blocks(path, RATING_COLUMNS, "ratings")]
    return _joined(parts, path, "ratings")


def _checked_block(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": _ids(frame, "user_id", path),
            "item_id": _ids(frame, "item_id", path),
            "rating": _numbers(frame, "rating", path, integer=False),
            "timestamp": _numbers(frame, "timestamp", path, integer=True),
        }
    )


class _NotStreamable(Exception):
    """pyarrow cannot stream the file with one row per line: pandas reads it instead."""


def _arrow_blocks(path: Path) -> Iterator[pd.DataFrame]:
    """The rating columns as strings, a pyarrow block at a time, indexed so that row `i` is line `i + 2`.

    Raises:
        _NotStreamable: no usable header, a blank line, a ragged row, or anything else pyarrow
            refuses (before or after some blocks were yielded).
    """
    header = _ratings_header(path)
    if header is None:
        raise _NotStreamable
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=header, skip_rows=1, block_size=_BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(ignore_empty_lines=False),  # blank lines come as empty rows
            convert_options=pacsv.ConvertOptions(
                include_columns=list(RATING_COLUMNS), column_types={c: pa.string() for c in RATING_COLUMNS}
            ),
        )
        offset = 0
        for batch in reader:
            empty = [pc.equal(pc.utf8_trim_whitespace(batch.column(c)), "") for c in RATING_COLUMNS]
            if pc.any(functools.reduce(pc.and_, empty)).as_py():
                raise _NotStreamable  # a blank line: pandas skips it and keeps the line numbers
            frame = batch.to_pandas()
            frame.index = pd.RangeIndex(offset, offset + len(frame))
            offset += len(frame)
            yield frame
    except (pa.ArrowException, OSError) as e:
        raise _NotStreamable from e


def _read_items(path: Path) -> pd.DataFrame:
    check_input_file(path, "items", DataError)
    _check_columns(path, ITEM_REQUIRED, "items")
    frame = _read(path, ITEM_REQUIRED, "items")
    ids = frame["item_id"].fillna("").str.strip()
    repeated = ids[ids.duplicated()]
    if len(repeated):
        logger.warning(
            "%s: %d duplicate item id(s), e.g. %r; keeping the first row of each", path, len(repeated), repeated.iloc[0]
        )
    titles = frame["title"].str.strip()
    genres = frame["genres"] if "genres" in frame.columns else pd.Series("", index=frame.index)
    return pd.DataFrame(
        {
            "item_id": _ids(frame, "item_id", path),
            "title": titles,
            "year": title_years(titles),
            "genres": clean_genres(genres),
        }
    )


def _read(path: Path, required: tuple[str, ...], kind: str) -> pd.DataFrame:
    """Reads every cell as a string; row `i` of the result is line `i + 2` of the file."""
    return _joined(list(_read_blocks(path, required, kind)), path, kind)


def _joined(blocks: list[pd.DataFrame], path: Path, kind: str) -> pd.DataFrame:
    """The blocks as one frame (line-number index kept); a file with no rows is one error line."""
    if not blocks:
        raise DataError(f"{kind} file {path} has a header but no rows")
    return pd.concat(blocks) if len(blocks) > 1 else blocks[0]


def _read_blocks(path: Path, required: tuple[str, ...], kind: str) -> Iterator[pd.DataFrame]:
    """Blocks of `_CHECK_ROWS` lines, every cell a string; row index `i` is line `i + 2` of the file.

    Blank lines are dropped (their index skipped, so line numbers stay right); a block of only
    blank lines is skipped.
    """
    check_input_file(path, kind, DataError)
    try:
        reader = pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=False, chunksize=_CHECK_ROWS)
        with reader:
            for frame in reader:
                frame.columns = [str(c).strip() for c in frame.columns]
                missing = [c for c in required if c not in frame.columns]
                if missing:
                    raise DataError(_missing_message(path, missing, required, kind, list(frame.columns)))
                blank = frame[list(required)].fillna("").apply(lambda c: c.str.strip() == "").all(axis=1)
                frame = frame[~blank]
                if not frame.empty:
                    yield frame
    except pd.errors.EmptyDataError:
        raise DataError(f"{kind} file {path} is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as e:
        raise DataError(f"{kind} file {path} cannot be parsed as CSV: {str(e).strip()}") from e


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
    numbers = values.to_numpy()
    bad = ~np.isfinite(numbers)
    what = "rating" if not integer else "timestamp"
    if not integer:
        with np.errstate(invalid="ignore"):
            bad |= np.abs(numbers) > _FLOAT32_MAX  # would become inf as a float32 rating
    if integer:
        with np.errstate(invalid="ignore"):
            bad |= np.floor(numbers) != numbers  # a fraction (non-finite values are already bad)
    if bad.any():
        position = int(bad.argmax())
        line = int(raw.index[position]) + 2
        unparsed = np.isnan(numbers[position]) and raw.iloc[position].lower() != "nan"
        kind = "non-integer" if integer else "non-numeric" if unparsed else "non-finite"
        raise DataError(f"{path} line {line}: {kind} {what} {raw.iloc[position]!r}")
    if not integer and (np.abs(numbers) > MAX_RATING).any():
        position = int((np.abs(numbers) > MAX_RATING).argmax())
        line = int(raw.index[position]) + 2
        raise DataError(
            f"{path} line {line}: rating {raw.iloc[position]!r} is beyond ±{MAX_RATING:,.0f} (ratings are scores "
            "such as 1 to 5)"
        )
    if integer:
        outside = (values.abs() >= 2.0**63).to_numpy()
        if outside.any():  # would wrap around silently in int64
            position = int(outside.argmax())
            line = int(raw.index[position]) + 2
            raise DataError(f"{path} line {line}: {what} {raw.iloc[position]} is outside the int64 range")
        return values.astype("int64")
    return values


def _drop_duplicates(ratings: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Keeps the latest rating of each (user, item) pair; ties on time keep the later row."""
    ordered = _pair_keys(ratings)
    ordered.sort()  # one in-place sort finds repeats without hashing 25M keys
    repeated = ordered[1:][ordered[1:] == ordered[:-1]]
    del ordered
    if not len(repeated):
        return ratings if isinstance(ratings.index, pd.RangeIndex) else ratings.reset_index(drop=True)
    key = _pair_keys(ratings)
    rows = np.flatnonzero(np.isin(key, repeated))
    order = rows[np.lexsort((rows, ratings["timestamp"].to_numpy()[rows], key[rows]))]
    last_of_pair = np.append(key[order][1:] != key[order][:-1], True)
    keep = np.ones(len(key), bool)
    keep[rows] = False
    keep[order[last_of_pair]] = True
    logger.warning(
        "%s: %d duplicate (user_id, item_id) row(s); kept the latest of each", path, len(ratings) - int(keep.sum())
    )
    return ratings[keep].reset_index(drop=True)


def _pair_keys(ratings: pd.DataFrame) -> np.ndarray:
    """One int64 per row, equal for equal (user_id, item_id) pairs."""
    users, items = (_codes(ratings[c]) for c in ("user_id", "item_id"))
    key = users.astype(np.int64)
    key *= int(items.max(initial=0)) + 1
    key += items
    return key


def _codes(ids: pd.Series) -> np.ndarray:
    if isinstance(ids.dtype, pd.CategoricalDtype):
        return ids.array.codes
    return pd.factorize(ids)[0]
