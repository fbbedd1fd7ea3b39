"""`train` then `recommend --all-users` on ratings files a MovieLens pipeline never sees.

Each case must give sensible output (a ranked CSV with no seen movie) or one clear error line,
never a crash, for every kind of model, including the default (the project's best preset).
"""

from __future__ import annotations

import pandas as pd
import pytest

from movierec.cli.main import main

CASES = {
    # string ids with spaces and punctuation, not MovieLens numbers
    "string_ids": [
        ("Ada Lovelace", "The Matrix (1999)", 5, 100),
        ("Ada Lovelace", "Heat", 4, 101),
        ("Alan T.", "Heat", 3, 102),
        ("Alan T.", "Alien", 4, 103),
        ("Grace", "The Matrix (1999)", 2, 104),
        ("Grace", "Solaris", 5, 105),  # a movie nobody else rated
        ("Linus", "Alien", 1, 106),  # a user with a single rating
    ],
    "single_user": [("solo", "a", 5, 1), ("solo", "b", 4, 2), ("solo", "c", 3, 3)],
}
PRESETS = [None, "model1", "popularity", "ease", "als"]


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p or "default")
@pytest.mark.parametrize("case", sorted(CASES))
def test_train_and_recommend_all_users(case, preset, tmp_path, capsys):
    ratings = pd.DataFrame(CASES[case], columns=["user_id", "item_id", "rating", "timestamp"])
    ratings.to_csv(tmp_path / "r.csv", index=False)
    args = ["train", "--ratings", str(tmp_path / "r.csv"), "--out", str(tmp_path / "M"), "--epochs", "2"]
    if preset:
        args += ["--preset", preset]
    assert main(args) == 0
    assert (
        main(
            ["recommend", "--model", str(tmp_path / "M"), "--all-users", "-k", "3", "--out", str(tmp_path / "recs.csv")]
        )
        == 0
    )
    recs = pd.read_csv(tmp_path / "recs.csv", dtype={"user_id": str, "item_id": str})
    assert list(recs.columns) == ["user_id", "rank", "item_id", "score"]
    seen = set(zip(ratings.user_id, ratings.item_id))
    assert not any((u, i) in seen for u, i in zip(recs.user_id, recs.item_id))
    n_items = ratings.item_id.nunique()
    for user, rows in recs.groupby("user_id"):
        unseen = n_items - ratings.loc[ratings.user_id == user, "item_id"].nunique()
        assert len(rows) == min(3, unseen)  # fewer than k only when fewer movies are left
        assert rows["rank"].tolist() == list(range(1, len(rows) + 1))
        assert rows["score"].is_monotonic_decreasing
    assert set(recs.user_id) <= set(ratings.user_id)
    capsys.readouterr()
