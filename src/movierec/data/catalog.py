"""The one registry of the GroupLens MovieLens sets movierec can read.

Each entry names the archive's layout, the folder its files sit in, the files read, the
published checksums of `<name>.zip` and the counts GroupLens' README states. Checksums come
from GroupLens' `<name>.zip.md5` files and from the sha256 / byte size that
tensorflow-datasets records for the same archives (`url_checksums/movielens.txt`); a
checksum nobody published is left out (None), never guessed.

Layouts:

* "100k": `u.data` (tab-separated), `u.item` and `u.user` (`|`-separated, latin-1).
* "dat": `::`-separated `.dat` files without a header (ml-1m, ml-10m); ml-1m's titles are latin-1.
* "csv": `ratings.csv` (`userId,movieId,rating,timestamp`) and `movies.csv`
  (`movieId,title,genres`, titles quoted when they hold a comma), UTF-8 (ml-20m and later).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from movierec.errors import DataError

__all__ = ["MovieLensSet", "MOVIELENS_SETS", "movielens_set", "is_movielens_name", "GROUPLENS_BASE_URL"]

GROUPLENS_BASE_URL = "https://files.grouplens.org/datasets/movielens/"


@dataclass(frozen=True)
class MovieLensSet:
    """One GroupLens MovieLens release.

    Example:
        >>> movielens_set("ml-1m").folder, movielens_set("ml-1m").n_ratings
        ('ml-1m', 1000209)
    """

    name: str  # "ml-25m": the zip is `<name>.zip` at GROUPLENS_BASE_URL, the cache folder `<name>/`
    layout: Literal["100k", "dat", "csv"]  # file formats, see the module docstring
    folder: str  # folder inside the zip holding the files ("ml-10M100K" for ml-10m)
    files: tuple[str, ...]  # files that must be present
    optional_files: tuple[str, ...] = ()  # files read when present (ml-1m's users.dat)
    md5: str | None = None  # GroupLens' published `<name>.zip.md5`
    sha256: str | None = None  # as recorded by tensorflow-datasets
    size: int | None = None  # bytes of `<name>.zip`, as recorded by tensorflow-datasets
    n_ratings: int | None = None  # ratings GroupLens' README states
    n_users: int | None = None  # users the README states (ml-10m's 71,567 include users without ratings)
    n_movies: int | None = None  # movies the README states

    @property
    def url(self) -> str:
        return f"{GROUPLENS_BASE_URL}{self.name}.zip"

    @property
    def archive_name(self) -> str:
        return f"{self.name}.zip"


_CSV_FILES = ("ratings.csv", "movies.csv")

MOVIELENS_SETS: dict[str, MovieLensSet] = {
    spec.name: spec
    for spec in (
        MovieLensSet(
            "ml-100k", "100k", "ml-100k", ("u.data", "u.item", "u.user"),
            md5="0e33842e24a9c977be4e0107933c0723",
            sha256="50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229", size=4_924_029,
            n_ratings=100_000, n_users=943, n_movies=1_682,
        ),
        MovieLensSet(
            "ml-1m", "dat", "ml-1m", ("ratings.dat", "movies.dat"), ("users.dat",),
            md5="c4d9eecfca2ab87c1945afe126590906",
            sha256="a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20", size=5_917_549,
            n_ratings=1_000_209, n_users=6_040,
        ),
        MovieLensSet(
            "ml-10m", "dat", "ml-10M100K", ("ratings.dat", "movies.dat"),
            md5="ce571fd55effeba0271552578f2648bd",
            n_ratings=10_000_054, n_users=71_567, n_movies=10_681,
        ),
        MovieLensSet(
            "ml-20m", "csv", "ml-20m", _CSV_FILES,
            md5="cd245b17a1ae2cc31bb14903e1204af3",
            sha256="96f243c338a8665f6bcc89c53edf6ee39162a846940de6b7c8c48aeada765ff3", size=198_702_078,
            n_ratings=20_000_263, n_users=138_493, n_movies=27_278,
        ),
        MovieLensSet(
            "ml-25m", "csv", "ml-25m", _CSV_FILES,
            md5="6b51fb2759a8657d3bfcbfc42b592ada",
            sha256="8b21cfb7eb1706b4ec0aac894368d90acf26ebdfb6aced3ebd4ad5bd1eb9c6aa", size=261_978_986,
            n_ratings=25_000_095, n_users=162_541, n_movies=62_423,
        ),
        MovieLensSet(
            "ml-32m", "csv", "ml-32m", _CSV_FILES,
            md5="d472be332d4daa821edc399621853b57",
            n_ratings=32_000_204, n_users=200_948, n_movies=87_585,
        ),
        MovieLensSet(
            "ml-latest-small", "csv", "ml-latest-small", _CSV_FILES,
            sha256="696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436", size=978_202,
            n_ratings=100_836, n_users=610, n_movies=9_742,
        ),
    )
}  # fmt: skip


def movielens_set(name: str) -> MovieLensSet:
    """The registry entry called `name`.

    Raises:
        DataError: if `name` is not a known set; the message lists the known names.
    """
    try:
        return MOVIELENS_SETS[name]
    except KeyError:
        raise DataError(f"unknown MovieLens set {name!r}; known: {', '.join(MOVIELENS_SETS)}") from None


def is_movielens_name(source: str) -> bool:
    """Whether `source` looks like a MovieLens set name ("ml-..." without a path separator or suffix)."""
    return source.startswith("ml-") and "/" not in source and "\\" not in source and "." not in source
