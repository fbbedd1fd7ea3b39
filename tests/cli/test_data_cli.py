"""`movierec data` end to end: synth then info / train-ready loading, fetch by name, bad names and sizes."""

from __future__ import annotations

import dataclasses
import hashlib
import zipfile

import pytest

from movierec.cli.main import main
from movierec.config import DataConfig
from movierec.data import archive, catalog
from movierec.data.load import load_dataset

KNOWN = "ml-100k, ml-1m, ml-10m, ml-20m, ml-25m, ml-32m, ml-latest-small"


def test_synth_then_info_and_load(tmp_path, capsys):
    out = tmp_path / "synth"
    args = ["data", "synth", "--users", "200", "--items", "150", "--ratings", "8000", "--seed", "2", "--out", str(out)]
    assert main(args) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"wrote 8,000 ratings by 200 users of 150 movies (159 listed), mean rating 3.53, to {out}")
    assert main(["data", "info", "--ratings", str(out)]) == 0
    assert capsys.readouterr().out == "synth: 8,000 ratings, 200 users, 159 items\n"
    dataset = load_dataset(DataConfig(source=str(out), min_rating=4.0))  # what --ratings DIR does
    assert dataset.ratings.rating.min() == 4.0 and dataset.n_ratings < 8000
    assert main(args) == 2  # the folder is no longer empty
    assert "`out` should be a new or empty folder" in capsys.readouterr().err


def test_synth_rejects_impossible_sizes_in_one_line(tmp_path, capsys):
    code = main(["data", "synth", "--users", "10", "--items", "50", "--ratings", "100", "--out", str(tmp_path / "x")])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("movierec data: error: `ratings` should be at least 20 per user") and err.count("\n") == 1
    with pytest.raises(SystemExit) as exit_info:  # argparse rejects it before any code runs
        main(["data", "synth", "--users", "0", "--out", str(tmp_path / "x")])
    assert exit_info.value.code == 2
    assert "argument --users: expected a positive integer, got '0'" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["data", "fetch", "ml-26m"], ["data", "info", "--ratings", "ml-26m"]])
def test_unknown_set_is_one_line_listing_the_known_names(command, capsys):
    assert main(command) == 2
    err = capsys.readouterr().err
    assert err == f"movierec data: error: unknown MovieLens set 'ml-26m'; known: {KNOWN}\n"


@pytest.fixture
def trust(monkeypatch):
    """`trust(name, zip_path)`: the registry expects this tiny zip's checksums for `name`, for one test."""

    def register(name, path):
        data = path.read_bytes()
        spec = dataclasses.replace(
            catalog.MOVIELENS_SETS[name], md5=hashlib.md5(data).hexdigest(), sha256=None, size=len(data)
        )
        monkeypatch.setitem(catalog.MOVIELENS_SETS, name, spec)

    return register


def test_fetch_by_name_from_a_local_zip_then_the_cache(tmp_path, capsys, monkeypatch, trust):
    zip_path = tmp_path / "ml-latest-small.zip"
    with zipfile.ZipFile(zip_path, "w") as out:
        out.writestr("ml-latest-small/ratings.csv", "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n")
        out.writestr("ml-latest-small/movies.csv", 'movieId,title,genres\n1,"Toy Story, The (1995)",Comedy\n')
    trust("ml-latest-small", zip_path)
    cache = tmp_path / "cache"
    assert main(["data", "fetch", "ml-latest-small", "--path", str(zip_path), "--cache-dir", str(cache)]) == 0
    expected = f"ml-latest-small: 1 ratings, 1 users, 1 items\ncached in {cache / 'ml-latest-small'}\n"
    assert capsys.readouterr().out == expected
    monkeypatch.setattr(archive.urllib.request, "urlopen", lambda *a, **k: pytest.fail("must not download"))
    assert main(["data", "fetch", "ml-latest-small", "--cache-dir", str(cache)]) == 0
    assert capsys.readouterr().out == expected
    assert main(["data", "info", "--ratings", "ml-latest-small", "--cache-dir", str(cache)]) == 0
    assert capsys.readouterr().out == expected.splitlines()[0] + "\n"


def test_fetch_names_a_zip_that_fails_its_checksum(tmp_path, capsys):
    zip_path = tmp_path / "ml-1m.zip"
    with zipfile.ZipFile(zip_path, "w") as out:
        out.writestr("ml-1m/ratings.dat", "1::1::5::1\n")
    assert main(["data", "fetch", "ml-1m", "--path", str(zip_path), "--cache-dir", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert f"{zip_path} does not match GroupLens' ml-1m.zip: md5 expected {catalog.MOVIELENS_SETS['ml-1m'].md5}" in err
    assert err.count("\n") == 1
