"""The columnar cache: a loaded dataset as Parquet tables, so the next load takes seconds.

`<cache>/<name>/` holds

* `ratings.parquet`: `user_code` and `item_code` (int32), `rating` (float32), `timestamp` (int64);
* `user_ids.parquet` / `item_ids.parquet`: one `id` string per code (row `i` is code `i`);
* `items.parquet` and, when the set has demographics, `users.parquet`;
* `checksums.json`: size and SHA-256 of each of those files, written last. A cache whose files do not
  match it (one copied over another, one deleted) is rebuilt, with a warning naming the file.

Storing codes plus their id dictionaries keeps a 25M-row table at about 20 bytes a row on
disk and in memory, and reading it is a copy, not a parse. The root is `cache_dir`, else
`$MOVIEREC_CACHE`, else the user cache dir. A folder is written whole and renamed into
place, so a reader never sees half a cache. Caches written before the codes (string
`user_id` / `item_id` columns in `ratings.parquet`) or before the checksums are still read.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import platformdirs
import pyarrow as pa
import pyarrow.parquet as pq

from movierec._io import atomic_dir, file_sha256
from movierec.data.dataset import Dataset
from movierec.errors import DataError

__all__ = ["cache_root", "cache_folder", "read_cache", "write_cache", "load_through_cache", "Fetch"]

Fetch = Callable[[], Dataset]

logger = logging.getLogger(__name__)

_CODES = {"user_id": ("user_code", "user_ids.parquet"), "item_id": ("item_code", "item_ids.parquet")}
CHECKSUMS = "checksums.json"


def load_through_cache(
    name: str,
    *,
    path: str | None,
    cache_dir: str | None,
    download: bool,
    read_path: Callable[[str], Dataset],
    remote: Sequence[tuple[str, Fetch]],
) -> Dataset:
    """Finds dataset `name` in order: the local `path`, the cache, then each `remote` source.

    Whatever was read from `path` or a remote source is cached before it is returned.

    Args:
        name: Cache folder name and the name used in messages ("ml-25m").
        path: A local copy; when given it is always read (a bad path is an error).
        cache_dir: Cache root (see `cache_root`).
        download: Whether the remote sources may be tried.
        read_path: Reads `path`.
        remote: `(label, fetch)` pairs tried in turn; a fetch raising `DataError` moves on to the next.

    Raises:
        DataError: if `path` cannot be read, or nothing is cached and every remote source fails.
    """
    target = cache_folder(name, cache_dir)
    if path is not None:
        dataset = read_path(path)
        logger.info("%s: read local copy %s", name, path)
        write_cache(dataset, target)
        return dataset
    cached = read_cache(target, name)
    if cached is not None:
        logger.info("%s: read cache %s", name, target)
        return cached
    if not download:
        raise DataError(f"{name} is not cached in {target} and download=False; pass a local path")
    failures = []
    for label, fetch in remote:
        try:
            dataset = fetch()
        except DataError as e:
            logger.info("%s: %s failed: %s", name, label, e)
            failures.append(f"{label}: {e}")
            continue
        logger.info("%s: loaded from %s", name, label)
        write_cache(dataset, target)
        return dataset
    raise DataError(f"could not get {name} (" + "; ".join(failures) + f"); pass a local {name}.zip path")


def cache_root(cache_dir: str | Path | None = None) -> Path:
    """The cache root: `cache_dir`, else `$MOVIEREC_CACHE`, else `platformdirs.user_cache_dir`."""
    root = cache_dir or os.environ.get("MOVIEREC_CACHE") or platformdirs.user_cache_dir("movierec")
    return Path(root).expanduser()


def cache_folder(name: str, cache_dir: str | Path | None = None) -> Path:
    """The folder caching the dataset `name` (e.g. `~/.cache/movierec/ml-25m`)."""
    return cache_root(cache_dir) / name


def write_cache(dataset: Dataset, folder: Path) -> None:
    """Writes `dataset` as Parquet tables into `folder`, replacing what was there.

    Raises:
        DataError: if the folder cannot be written.
    """
    ratings = dataset.ratings
    columns = {code: ratings[column].cat.codes.to_numpy(np.int32) for column, (code, _) in _CODES.items()}
    columns["rating"] = ratings["rating"].to_numpy(np.float32)
    columns["timestamp"] = ratings["timestamp"].to_numpy(np.int64)
    try:
        with atomic_dir(folder) as tmp:
            # lz4 without dictionary pages: measured the fastest to write and within 15% of the fastest to read
            pq.write_table(pa.table(columns), tmp / "ratings.parquet", compression="lz4", use_dictionary=False)
            for column, (_, file_name) in _CODES.items():
                ids = pa.array(ratings[column].cat.categories.to_numpy(), pa.string())
                pq.write_table(pa.table({"id": ids}), tmp / file_name)
            dataset.items.to_parquet(tmp / "items.parquet", index=False)
            if dataset.users is not None:
                dataset.users.to_parquet(tmp / "users.parquet", index=False)
            sums = {
                p.name: {"bytes": p.stat().st_size, "sha256": file_sha256(p)} for p in sorted(tmp.glob("*.parquet"))
            }
            (tmp / CHECKSUMS).write_text(json.dumps({"files": sums}, indent=1) + "\n")
    except (OSError, pa.ArrowException) as e:
        raise DataError(f"cannot write the {dataset.name} cache in {folder}: {e}") from e
    logger.info("%s: cached in %s", dataset.name, folder)


def read_cache(folder: Path, name: str) -> Dataset | None:
    """The dataset cached in `folder`, or None when there is none or it cannot be read."""
    if not (folder / "ratings.parquet").is_file() or not (folder / "items.parquet").is_file():
        return None
    problem = _checksum_problem(folder)
    if problem:
        logger.warning("%s: the cache in %s does not match its checksums (%s); rebuilding it", name, folder, problem)
        return None
    try:
        if all((folder / file_name).is_file() for _, file_name in _CODES.values()):
            ratings = _read_coded_ratings(folder)
        else:  # a cache written before the codes: string id columns
            ratings = pd.read_parquet(folder / "ratings.parquet")
        items = pd.read_parquet(folder / "items.parquet")
        users = pd.read_parquet(folder / "users.parquet") if (folder / "users.parquet").is_file() else None
        return Dataset.create(name, ratings, items, users)
    except (OSError, ValueError, KeyError, pa.ArrowException, DataError) as e:  # a bad cache is rebuilt
        logger.warning("%s: ignoring unreadable cache %s: %s", name, folder, e)
        return None


def _checksum_problem(folder: Path) -> str | None:
    """What in `folder` differs from its `checksums.json` (None if all match, or for a cache written before them)."""
    if not (folder / CHECKSUMS).exists():
        return None
    try:
        files = json.loads((folder / CHECKSUMS).read_text())["files"]
        if not isinstance(files, dict):
            raise TypeError("files is not an object")
    except (OSError, ValueError, KeyError, TypeError) as e:
        return f"{CHECKSUMS} is unreadable: {e}"
    extra = sorted({p.name for p in folder.glob("*.parquet")} - set(files))
    if extra:
        return f"{extra[0]} is not listed"
    for file_name, expected in files.items():
        path = folder / file_name
        if not path.is_file():
            return f"{file_name} is missing"
        if path.stat().st_size != expected.get("bytes") or file_sha256(path) != expected.get("sha256"):
            return f"{file_name} has changed"
    return None


def _read_coded_ratings(folder: Path) -> pd.DataFrame:
    source = pq.ParquetFile(folder / "ratings.parquet")
    columns = {}
    for column, (code, file_name) in _CODES.items():
        ids = pq.read_table(folder / file_name).column("id").to_numpy(zero_copy_only=False)
        codes = _column(source, code)
        if len(codes) and (codes.min() < 0 or codes.max() >= len(ids)):
            raise ValueError(f"{code} holds codes outside {file_name}")
        columns[column] = pd.Categorical.from_codes(codes, categories=pd.Index(ids, dtype=object), validate=False)
    columns["rating"] = _column(source, "rating")
    columns["timestamp"] = _column(source, "timestamp")
    return pd.DataFrame(columns, copy=False)


def _column(source: pq.ParquetFile, name: str) -> np.ndarray:
    """One column as a numpy array, filled row group by row group: the peak is one row group over the result."""
    dtype = source.schema_arrow.field(name).type.to_pandas_dtype()
    values = np.empty(source.metadata.num_rows, dtype)
    start = 0
    for group in range(source.num_row_groups):
        part = source.read_row_group(group, columns=[name]).column(0).to_numpy()
        values[start : start + len(part)] = part
        start += len(part)
    return values
