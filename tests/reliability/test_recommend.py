"""Issue 21, item 10: `recommend` says so when no movie is left for a user, instead of printing nothing."""

from __future__ import annotations

import pandas as pd


def test_recommend_with_no_movie_left_prints_one_line(tmp_path, run_cli):
    rows = [("solo", "a", 5, 1), ("solo", "b", 4, 2), ("solo", "c", 3, 3), ("other", "a", 4, 4)]
    pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "timestamp"]).to_csv(tmp_path / "r.csv", index=False)
    model = tmp_path / "M"
    assert run_cli("train", "--ratings", tmp_path / "r.csv", "--preset", "popularity", "--out", model)[0] == 0
    assert run_cli("recommend", "--model", model, "--user", "solo") == (
        0,
        "no movie is left to recommend to user 'solo': they rated all 3 movies the model knows "
        "(add --include-seen to list them)\n",
        "",
    )
    assert run_cli("recommend", "--model", model, "--liked", "a,b,c") == (
        0,
        "no movie is left to recommend: the liked movies are all 3 the model knows\n",
        "",
    )
