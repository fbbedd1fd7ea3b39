"""`movierec train` without a preset: the order check decides, `train` says what it trained and why."""

from __future__ import annotations

import json

import pandas as pd

from movierec.cli.main import main


def _ring_csv(path) -> None:
    """24 users, each watching 5 consecutive movies of a ring of 12 in ring order: the next movie follows the last."""
    rows = [
        {"user_id": f"u{u}", "item_id": f"m{(u + step) % 12}", "rating": 4.0, "timestamp": 1000 * u + step}
        for u in range(24)
        for step in range(5)
    ]
    pd.DataFrame(rows).to_csv(path, index=False)


def test_default_trains_the_sequential_blend_when_order_predicts(tmp_path, capsys):
    _ring_csv(tmp_path / "r.csv")
    code = main(["train", "--ratings", str(tmp_path / "r.csv"), "--epochs", "2", "--out", str(tmp_path / "m")])
    assert code == 0
    out = capsys.readouterr().out
    assert "trained blend: order predicts the next movies" in out
    assert "blended " in out and " x sequential + " in out and " x ease (standardised scores)" in out
    assert "--validation-split random" in out  # the other question, and how to ask it
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert meta["epoch_search"]["choice"]["chosen"] == "blend"
    blend = meta["epoch_search"]["blend"]
    weights = [w for w, _ in blend["curve"]]
    assert set(weights) >= {round(i / 10, 6) for i in range(11)}  # the grid, and two refining rounds:
    assert len(weights) <= 11 + 4 and weights == sorted(weights)  # at most two new weights a round
    assert blend["weight"] == max(blend["curve"], key=lambda point: (point[1], -point[0]))[0]
    assert meta["epoch_search"]["validation_split"] == "leave_last"
    assert len(meta["epoch_search"]["validation_curve"]["val_ndcg_at_10"]) == 2  # --epochs reaches the candidate


def test_a_random_validation_slice_asks_for_gaps_and_gets_the_factorisation(tmp_path, capsys):
    # held-out random ratings sit anywhere in a user's ring window: co-occurrence, not order, predicts them
    _ring_csv(tmp_path / "r.csv")
    args = ["train", "--ratings", str(tmp_path / "r.csv"), "--epochs", "2", "--validation-split", "random",
            "--validation-fraction", "0.3", "--out", str(tmp_path / "m")]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "trained best_ease_recent: order adds little" in out  # `best` blended with EASE, then recent favourites
    assert "--validation-split random" not in out
