"""load_csv: a round trip of a tiny CSV and one DataError per kind of malformed file."""

from __future__ import annotations

import logging

import pandas as pd
import pytest

from movierec.cli.main import main
from movierec.config import DataConfig
from movierec.data.csv_source import load_csv
from movierec.data.load import load_dataset
from movierec.errors import DataError

RATINGS = "user_id,item_id,rating,timestamp,comment\nu1,m1,4,100,ok\nu1,m2,3.5,200,ok\n007,m1,5,50,ok\n"
ITEMS = "item_id,title,genres\nm1,Toy Story (1995),Animation|Comedy\nm2,Untitled,\n"


def _write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_round_trip_keeps_values_ids_and_items(tmp_path):
    ds = load_csv(_write(tmp_path, "ratings.csv", RATINGS), _write(tmp_path, "movies.csv", ITEMS))
    assert ds.name == "ratings"
    assert ds.ratings.to_dict("list") == {
        "user_id": ["u1", "u1", "007"],  # "007" stays a string, leading zeros kept
        "item_id": ["m1", "m2", "m1"],
        "rating": [4.0, 3.5, 5.0],
        "timestamp": [100, 200, 50],
    }
    assert str(ds.ratings.rating.dtype) == "float32" and str(ds.ratings.timestamp.dtype) == "int64"
    assert ds.items.title.tolist() == ["Toy Story (1995)", "Untitled"]
    assert ds.items.year.tolist() == [1995, pd.NA]
    assert ds.items.genres.tolist() == ["Animation|Comedy", ""]
    assert ds.users is None


def test_without_items_file_titles_are_ids_and_name_is_overridable(tmp_path):
    ds = load_csv(_write(tmp_path, "r.csv", RATINGS), name="toy")
    assert ds.name == "toy"
    assert sorted(ds.items.title) == ["m1", "m2"]


def test_items_without_genres_column(tmp_path):
    items = _write(tmp_path, "i.csv", "item_id,title\nm1,Heat (1995)\n")
    ds = load_csv(_write(tmp_path, "r.csv", RATINGS), items)
    assert ds.items.set_index("item_id").loc["m1", "genres"] == ""


def test_duplicates_keep_latest_by_timestamp_and_warn(tmp_path, caplog):
    text = "user_id,item_id,rating,timestamp\na,x,1,300\na,x,5,100\nb,x,2,10\na,x,3,200\n"
    with caplog.at_level(logging.WARNING, logger="movierec.data.csv_source"):
        ds = load_csv(_write(tmp_path, "r.csv", text))
    assert ds.ratings.to_dict("list")["rating"] == [1.0, 2.0]  # a/x: the ts=300 row wins
    assert "2 duplicate" in caplog.text


def test_blank_lines_are_skipped_and_line_numbers_stay_right(tmp_path):
    text = "user_id,item_id,rating,timestamp\na,x,1,1\n\nb,x,bad,2\n"
    with pytest.raises(DataError, match=r"line 4: non-numeric rating 'bad'"):
        load_csv(_write(tmp_path, "r.csv", text))


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("", "is empty"),
        ("user_id,item_id,rating,timestamp\n", "no rows"),
        ("user_id,item_id,rating\na,x,1\n", "missing column(s) timestamp"),
        ("a,x,1,100\nb,y,2,200\n", "missing column(s) user_id, item_id, rating, timestamp"),
        ("user_id,item_id,rating,timestamp\na,x,4,1\nb,y,four,2\n", "line 3: non-numeric rating 'four'"),
        ("user_id,item_id,rating,timestamp\na,x,,1\n", "line 2: non-numeric rating ''"),
        ("user_id,item_id,rating,timestamp\na,x,nan,1\n", "line 2: non-numeric rating 'nan'"),
        ("user_id,item_id,rating,timestamp\na,x,4,1.5\n", "line 2: non-integer timestamp '1.5'"),
        ("user_id,item_id,rating,timestamp\na,x,4,2020-01-01\n", "line 2: non-integer timestamp"),
        ("user_id,item_id,rating,timestamp\na,x,4,1\n ,y,3,2\n", "line 3: empty user_id"),
        ("user_id,item_id,rating,timestamp\na,,4,1\n", "line 2: empty item_id"),
    ],
)
def test_malformed_ratings_raise_data_error(tmp_path, text, phrase):
    path = _write(tmp_path, "r.csv", text)
    with pytest.raises(DataError, match=phrase.replace("(", r"\(").replace(")", r"\)")) as info:
        load_csv(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_files_raise_data_error(tmp_path):
    with pytest.raises(DataError, match="ratings file not found"):
        load_csv(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="items file not found"):
        load_csv(_write(tmp_path, "r.csv", RATINGS), tmp_path / "nope.csv")


def test_items_file_missing_title_column(tmp_path):
    items = _write(tmp_path, "i.csv", "item_id,name\nm1,Heat\n")
    with pytest.raises(DataError, match=r"missing column\(s\) title"):
        load_csv(_write(tmp_path, "r.csv", RATINGS), items)


def test_load_dataset_dispatches_csv_and_filters_min_rating(tmp_path):
    ratings = _write(tmp_path, "r.csv", RATINGS)
    ds = load_dataset(DataConfig(source=str(ratings), items=str(_write(tmp_path, "i.csv", ITEMS)), min_rating=4.0))
    assert ds.ratings.rating.tolist() == [4.0, 5.0]
    assert ds.items.item_id.tolist() == ["m1", "m2"]  # the catalogue keeps every item
    with pytest.raises(DataError, match="min_rating"):
        load_dataset(DataConfig(source=str(ratings), min_rating=6.0))


def test_cli_info_prints_summary(tmp_path, capsys):
    ratings = _write(tmp_path, "r.csv", RATINGS)
    assert main(["data", "info", "--ratings", str(ratings), "--items", str(_write(tmp_path, "i.csv", ITEMS))]) == 0
    assert capsys.readouterr().out == "r: 3 ratings, 2 users, 2 items\n"
    assert main(["data", "info", "--ratings", str(tmp_path / "nope.csv")]) == 2
    assert "ratings file not found" in capsys.readouterr().err
