"""load_csv: a round trip of a tiny CSV, Parquet ratings, one DataError per kind of malformed file, and
the fast (pyarrow) reader checked against the line-by-line one."""

from __future__ import annotations

import logging

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from movierec.cli.main import main
from movierec.config import DataConfig
from movierec.data import csv_source
from movierec.data.csv_source import load_csv
from movierec.data.dataset import RATING_COLUMNS
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


def test_the_streaming_checker_counts_lines_across_pyarrow_blocks(tmp_path, monkeypatch):
    """No blank lines: pyarrow streams blocks of a few rows; a bad value on line 12 is named."""
    rows = [f"u{i},m{i % 3},{1 + i % 5},{100 + i}" for i in range(12)]
    good = "user_id,item_id,rating,timestamp\n" + "\n".join(rows) + "\n"
    reference = csv_source.read_ratings(_write(tmp_path, "good.csv", good))
    monkeypatch.setattr(csv_source, "_BLOCK_BYTES", 48)  # the header, then three rows or so per block
    monkeypatch.setattr(csv_source, "_read_fast", lambda path: None)  # force the checker
    pandas_blocks = []
    monkeypatch.setattr(csv_source, "_read_blocks", lambda *a: pandas_blocks.append(a) or iter(()))
    streamed = csv_source.read_ratings(_write(tmp_path, "good2.csv", good))
    text = {"user_id": str, "item_id": str}
    pd.testing.assert_frame_equal(streamed.astype(text), reference.astype(text), check_dtype=False)
    bad = good.replace("u10,m1,1,110", "u10,m1,1,11O")  # line 12: a letter O in the timestamp
    with pytest.raises(DataError, match=r"line 12: non-integer timestamp '11O'"):
        csv_source.read_ratings(_write(tmp_path, "bad.csv", bad))
    assert pandas_blocks == []  # pyarrow streamed both files; pandas never read them


def test_the_checker_reads_in_blocks_and_names_lines_past_the_first(tmp_path, monkeypatch):
    """Blocks of 2 lines: a blank line, ids and values across blocks, then a bad value on line 9."""
    good = "user_id,item_id,rating,timestamp\na,x,1,1\n\nb,y,2.5,2\nc,x,3,3\n\n\nd,z,4,4\n"
    reference = csv_source.read_ratings(_write(tmp_path, "good.csv", good))  # one block
    monkeypatch.setattr(csv_source, "_CHECK_ROWS", 2)
    monkeypatch.setattr(csv_source, "_read_fast", lambda path: None)  # force the checker
    blocked = csv_source.read_ratings(_write(tmp_path, "good2.csv", good))
    text = {"user_id": str, "item_id": str}  # the fast reader gives Categoricals, the checker strings
    pd.testing.assert_frame_equal(
        blocked.astype(text).reset_index(drop=True), reference.astype(text).reset_index(drop=True), check_dtype=False
    )
    assert list(blocked.index) == [0, 2, 3, 6]  # row i is line i + 2: lines 2, 4, 5 and 8
    with pytest.raises(DataError, match=r"line 9: non-numeric rating 'x'"):
        csv_source.read_ratings(_write(tmp_path, "bad.csv", good + "e,z,x,5\n"))
    with pytest.raises(DataError, match=r"line 10: empty item_id"):
        csv_source.read_ratings(_write(tmp_path, "bad2.csv", good + "e,z,1,5\nf,,1,6\n"))


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("", "is empty"),
        ("user_id,item_id,rating,timestamp\n", "no rows"),
        ("user_id,item_id,rating\na,x,1\n", "missing column(s) timestamp"),
        ("a,x,1,100\nb,y,2,200\n", "missing column(s) user_id, item_id, rating, timestamp"),
        ("user_id,item_id,rating,timestamp\na,x,4,1\nb,y,four,2\n", "line 3: non-numeric rating 'four'"),
        ("user_id,item_id,rating,timestamp\na,x,,1\n", "line 2: non-numeric rating ''"),
        ("user_id,item_id,rating,timestamp\na,x,nan,1\n", "line 2: non-finite rating 'nan'"),
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


def test_ids_are_categoricals_and_spaces_around_ids_are_removed(tmp_path):
    text = "user_id,item_id,rating,timestamp\n u1 ,m1,4,1\nu1,m1 ,5,2\n"
    ds = load_csv(_write(tmp_path, "r.csv", text))
    assert str(ds.ratings.user_id.dtype) == "category"
    assert ds.ratings.to_dict("list") == {"user_id": ["u1"], "item_id": ["m1"], "rating": [5.0], "timestamp": [2]}


def test_parquet_ratings_load_like_csv(tmp_path):
    frame = pd.DataFrame(
        {"user_id": [7, 7, 8], "item_id": ["m1", "m2", "m1"], "rating": [4, 3, 5], "timestamp": [1, 2, 3], "x": 0}
    )
    frame.to_parquet(tmp_path / "r.parquet", index=False)
    ds = load_dataset(DataConfig(source=str(tmp_path / "r.parquet")))
    assert ds.name == "r"
    assert ds.ratings.to_dict("list") == {
        "user_id": ["7", "7", "8"], "item_id": ["m1", "m2", "m1"], "rating": [4.0, 3.0, 5.0], "timestamp": [1, 2, 3]
    }  # fmt: skip
    frame.drop(columns="timestamp").to_parquet(tmp_path / "bad.parquet", index=False)
    with pytest.raises(DataError, match=r"missing column\(s\) timestamp"):
        load_csv(tmp_path / "bad.parquet")
    frame.assign(rating=[1.0, None, 2.0]).to_parquet(tmp_path / "nan.parquet", index=False)
    with pytest.raises(DataError, match="nan.parquet row 2: missing rating$"):
        load_csv(tmp_path / "nan.parquet")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"rating": [1.0, 2.0, float("inf")]}, "row 3: non-finite rating inf"),
        ({"rating": [1.0, 2.0, float("nan")]}, "row 3: non-finite rating nan"),
        ({"rating": [1.0, -2e6, 3.0]}, "row 2: rating -2000000.0 is beyond ±1,000,000 (ratings are scores"),
        ({"item_id": ["m1", "m2", ""]}, "row 3: empty item_id"),
        ({"user_id": ["", "7", "8"]}, "row 1: empty user_id"),
        ({"timestamp": [1.0, None, 3.0]}, "row 2: missing timestamp"),
    ],
)
def test_a_bad_parquet_row_is_named(tmp_path, change, message):
    columns = {"user_id": ["7", "7", "8"], "item_id": ["m1", "m2", "m1"], "rating": [4.0, 3.0, 5.0],
               "timestamp": [1, 2, 3]}  # fmt: skip
    # pyarrow keeps a NaN a NaN (pandas' to_parquet writes it as a missing value)
    pq.write_table(pa.table({**columns, **change}), tmp_path / "r.parquet")
    with pytest.raises(DataError) as error:
        load_csv(tmp_path / "r.parquet")
    assert str(error.value).startswith(f"ratings file {tmp_path / 'r.parquet'} {message}")
    pd.DataFrame(columns).iloc[:0].to_parquet(tmp_path / "empty.parquet", index=False)
    with pytest.raises(DataError, match="empty.parquet has no rows$"):
        load_csv(tmp_path / "empty.parquet")


_cells = st.text(alphabet=st.sampled_from('ab7 ,"é'), min_size=1, max_size=4).filter(lambda s: s.strip())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.tuples(_cells, _cells, st.sampled_from(["4", "3.5", " 2", "0.5"]), st.integers(0, 5)),
        min_size=1,
        max_size=12,
    )
)
def test_the_fast_reader_agrees_with_the_line_checker(tmp_path, rows):
    path = tmp_path / "r.csv"
    pd.DataFrame(rows, columns=list(RATING_COLUMNS)).to_csv(path, index=False)
    checked = csv_source._read_checked(path)
    fast = csv_source.read_ratings(path)
    assert {c: [str(v) for v in fast[c]] for c in ("user_id", "item_id")} == {
        c: checked[c].tolist() for c in ("user_id", "item_id")
    }
    assert fast.rating.tolist() == checked.rating.astype("float32").tolist()
    assert fast.timestamp.tolist() == checked.timestamp.tolist()


def test_the_fast_reader_takes_quoted_ids_and_declines_what_needs_a_line_number(tmp_path):
    good = _write(tmp_path, "good.csv", 'user_id,item_id,rating,timestamp\n"a, b",x,4,1\n" a, b ","""q""",2.5,2\n')
    fast = csv_source._read_fast(good)
    assert fast is not None and fast.to_dict("list") == {
        "user_id": ["a, b", "a, b"], "item_id": ["x", '"q"'], "rating": [4.0, 2.5], "timestamp": [1, 2]
    }  # fmt: skip
    for text in ("user_id,item_id,rating,timestamp\na,x,nan,1\n", "user_id,item_id,rating,timestamp\n ,x,4,1\n"):
        assert csv_source._read_fast(_write(tmp_path, "bad.csv", text)) is None


def test_timestamp_beyond_int64_is_one_line_not_a_wrap(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("user_id,item_id,rating,timestamp\nu1,m1,4,5\nu1,m2,4,99999999999999999999\n")
    with pytest.raises(DataError, match=r"line 3: timestamp 99999999999999999999 is outside the int64 range"):
        load_csv(path)


def test_duplicate_item_ids_warn_and_keep_the_first(tmp_path, caplog):
    ratings = tmp_path / "r.csv"
    ratings.write_text("user_id,item_id,rating,timestamp\nu1,m1,4,5\n")
    items = tmp_path / "i.csv"
    items.write_text("item_id,title,genres\nm1,First (1990),Drama\nm1,Second (1991),Comedy\n")
    with caplog.at_level("WARNING"):
        dataset = load_csv(ratings, items)
    assert "1 duplicate item id(s), e.g. 'm1'; keeping the first row" in caplog.text
    assert dataset.items.loc[dataset.items.item_id == "m1", "title"].tolist() == ["First (1990)"]
