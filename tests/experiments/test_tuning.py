"""`movierec.training.tuning`: grid parsing, and a search that reads only the validation slice."""

from __future__ import annotations

import json

import pytest

import movierec.experiments.tuning as tuning
from movierec.config import EaseConfig, ExperimentConfig, TrainConfig
from movierec.errors import ConfigError
from movierec.evaluation import evaluate
from movierec.experiments import prepare_data


def test_parse_grid_reads_numbers_words_and_none():
    grid = tuning.parse_grid(["l2=100,2.5", "optimizer=adam", "head_size=none,32", "l2_normalize=true"])
    assert grid == {"l2": [100, 2.5], "optimizer": ["adam"], "head_size": [None, 32], "l2_normalize": [True]}


@pytest.mark.parametrize("bad", ["l2", "=1,2", "l2="])
def test_parse_grid_rejects_malformed_entries(bad):
    with pytest.raises(ConfigError, match="name=v1,v2"):
        tuning.parse_grid([bad])


def test_grid_points_is_the_full_product_in_stable_order():
    points = tuning.grid_points({"b": [1, 2], "a": ["x", "y"]})
    assert points == [{"a": "x", "b": 1}, {"a": "x", "b": 2}, {"a": "y", "b": 1}, {"a": "y", "b": 2}]


@pytest.fixture(scope="module")
def prepared(block_data):
    return prepare_data(ExperimentConfig(), block_data.dataset())


def test_tune_scores_only_on_validation_and_returns_the_best(prepared, tmp_path, monkeypatch):
    calls = []

    def spy(recommender, train, test, *args, **kwargs):
        calls.append((train, test))
        return evaluate(recommender, train, test, *args, **kwargs)

    monkeypatch.setattr(tuning, "evaluate", spy)
    grid = {"l2": [0.5, 50.0, 5000.0]}
    best, trials = tuning.tune(EaseConfig(), prepared, TrainConfig(), grid, tmp_path / "tune")

    assert len(calls) == 3
    for train, test in calls:
        assert test is prepared.validation  # never the test split
        assert train is prepared.train
    values = [t["validation"]["ndcg@10"] for t in trials]
    assert best.l2 == grid["l2"][values.index(max(values))]
    assert [t["params"]["l2"] for t in trials] == grid["l2"]
    # one TensorBoard run per trial (HParams sessions), nothing at the root
    assert sorted(p.name for p in (tmp_path / "tune").iterdir() if p.is_dir()) == [
        "trial-000",
        "trial-001",
        "trial-002",
    ]
    assert not any(p.name.startswith("events.out") for p in (tmp_path / "tune").iterdir())
    assert all(list((tmp_path / "tune" / f"trial-{n:03d}").glob("events.out*")) for n in range(3))
    json.dumps(trials)  # trials are plain data (written to best.json by the CLI)


def test_tune_rejects_unknown_fields_and_missing_validation(prepared, block_data):
    with pytest.raises(ConfigError, match="unknown grid field"):
        tuning.tune(EaseConfig(), prepared, TrainConfig(), {"nope": [1]}, None)
    no_validation = prepare_data(
        ExperimentConfig(split=ExperimentConfig().split.__class__(validation_fraction=0.0)), block_data.dataset()
    )
    with pytest.raises(ConfigError, match="validation slice"):
        tuning.tune(EaseConfig(), no_validation, TrainConfig(), {"l2": [1.0]}, None)


def test_training_fields_in_the_grid_reach_the_trained_model(prepared, monkeypatch):
    """`learning_rate` / `epochs` in a grid must change what is trained (model override or budget)."""
    from movierec.config import TwoTowerConfig

    seen = []
    real = tuning.evaluate

    def spy(recommender, train, test, *args, **kwargs):
        seen.append((recommender.train_config.learning_rate, recommender.train_config.epochs))
        return real(recommender, train, test, *args, **kwargs)

    monkeypatch.setattr(tuning, "evaluate", spy)
    base = TwoTowerConfig(name="t", layer_sizes=(), learning_rate=0.5)
    grid = {"learning_rate": [0.01, 0.05], "epochs": [1]}
    best, trials = tuning.tune(base, prepared, TrainConfig(batch_size=64), grid, None)
    assert seen == [(0.01, 1), (0.05, 1)]
    assert best.learning_rate in (0.01, 0.05)


def test_tune_command_tunes_a_tfrs_preset_and_says_what_mattered(tmp_path, capsys, block_data):
    from movierec.cli.main import main

    ratings = tmp_path / "r.csv"
    block_data.ratings.to_csv(ratings, index=False)
    args = ["tune", "--model", "fast", "--grid", "learning_rate=0.001,0.05", "output_l2=0,0.03", "epochs=2",
            "--ratings", str(ratings), "--logdir", str(tmp_path / "runs"), "--epochs", "2"]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "what mattered" in out and "learning_rate" in out and "output_l2" in out
    saved = json.loads((tmp_path / "runs" / "ml100k-tune" / "fast" / "best.json").read_text())
    assert len(saved["trials"]) == 4 and {row["param"] for row in saved["what_mattered"]} == {
        "learning_rate",
        "output_l2",
    }
