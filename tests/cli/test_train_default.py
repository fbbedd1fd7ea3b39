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


def test_default_trains_the_count_based_blend_when_order_predicts_on_small_data(tmp_path, capsys):
    _ring_csv(tmp_path / "r.csv")
    code = main(["train", "--ratings", str(tmp_path / "r.csv"), "--out", str(tmp_path / "m")])
    assert code == 0
    out = capsys.readouterr().out
    assert "trained markov_ease: order predicts the next movies" in out
    # the validation fit's training rows: 120 ratings less each user's latest
    assert "96 training ratings, fewer than 150,000: the ordered candidate for small data" in out
    assert "blended " in out and " x markov + " in out and " x ease (standardised scores)" in out
    assert "markov_ease predicts what each user watches next" in out and "--validation-split random" in out
    assert "after your ratings end instead (a split in time), train with --validation-split temporal" in out
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    choice = meta["epoch_search"]["choice"]
    assert (choice["chosen"], choice["ratings"], choice["small_ratings"]) == ("markov_ease", 96, 150_000)
    blend = meta["epoch_search"]["blend"]
    weights = [w for w, _ in blend["curve"]]
    assert set(weights) >= {round(i / 10, 6) for i in range(11)}  # the grid, and two refining rounds:
    assert len(weights) <= 11 + 4 and weights == sorted(weights)  # at most two new weights a round
    assert blend["weight"] == max(blend["curve"], key=lambda point: (point[1], -point[0]))[0]


def test_default_trains_the_sequential_blend_when_order_predicts(tmp_path, capsys):
    # the default written out with the size rule off: what data of 150,000 ratings or more gets
    _ring_csv(tmp_path / "r.csv")
    assert main(["presets", "default", "--out", str(tmp_path / "default.toml")]) == 0
    text = (tmp_path / "default.toml").read_text()
    assert "small_ratings = 150000" in text
    (tmp_path / "large.toml").write_text(text.replace("small_ratings = 150000", "small_ratings = 0"))
    args = ["train", "--ratings", str(tmp_path / "r.csv"), "--config", str(tmp_path / "large.toml"), "--epochs", "2"]
    capsys.readouterr()
    assert main([*args, "--out", str(tmp_path / "m")]) == 0
    out = capsys.readouterr().out
    assert "trained blend: order predicts the next movies" in out and "training ratings" not in out
    assert "blended " in out and " x sequential + " in out and " x ease (standardised scores)" in out
    assert "--validation-split random" in out  # the other question, and how to ask it
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert meta["epoch_search"]["choice"]["chosen"] == "blend"
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
