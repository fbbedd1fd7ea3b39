"""Typed configs: dict/JSON round trips, TOML experiment files, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from movierec.config import (
    DataConfig,
    ExperimentConfig,
    SplitConfig,
    TrainConfig,
    from_dict,
    load_experiment,
    packaged_experiments,
    save_json,
    to_dict,
)
from movierec.errors import ConfigError

ROOT = Path(__file__).parent.parent
CONFIGS = sorted((ROOT / "configs").glob("*.toml"))


@pytest.mark.parametrize(
    "config",
    [
        ExperimentConfig(),
        ExperimentConfig(
            name="x",
            data=DataConfig(source="r.csv", items="i.csv", min_rating=4.0),
            split=SplitConfig(strategy="leave_last", seed=7),
            train=TrainConfig(epochs=3, validation_ks=(5, 10)),
            models=("ease",),
            overrides={"ease": {"l2": 250.0}},
        ),
    ],
)
def test_experiment_round_trip_through_dict_and_json(config, tmp_path):
    assert from_dict(ExperimentConfig, to_dict(config)) == config
    save_json(config, tmp_path / "c.json")
    assert from_dict(ExperimentConfig, json.loads((tmp_path / "c.json").read_text())) == config


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_shipped_experiment_files_load_and_name_known_presets(path):
    from movierec.experiments import PRESETS

    config = load_experiment(path)
    assert config.models and set(config.models) <= set(PRESETS)
    assert from_dict(ExperimentConfig, to_dict(config)) == config


def test_unknown_key_is_named(tmp_path):
    (tmp_path / "bad.toml").write_text('name = "x"\n[train]\nepochz = 3\n')
    with pytest.raises(ConfigError, match="unknown key.*epochz"):
        load_experiment(tmp_path / "bad.toml")


def test_wrong_type_and_bad_values_are_named(tmp_path):
    (tmp_path / "bad.toml").write_text('[train]\nepochs = "many"\n')
    with pytest.raises(ConfigError, match="train.epochs"):
        load_experiment(tmp_path / "bad.toml")
    with pytest.raises(ConfigError, match="batch_size"):
        TrainConfig(batch_size=0)
    with pytest.raises(ConfigError, match="strategy"):
        SplitConfig(strategy="shuffled")
    with pytest.raises(ConfigError, match="train.learning_rate_schedule must be constant or cosine"):
        TrainConfig(learning_rate_schedule="linear")  # type: ignore[arg-type]


def test_missing_and_invalid_toml_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_experiment(tmp_path / "none.toml")
    (tmp_path / "broken.toml").write_text("name = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_experiment(tmp_path / "broken.toml")


def test_the_repository_configs_are_the_packaged_ones():
    # configs/ is a link to the package's folder, so `make run` and an installed wheel read the same files
    assert (ROOT / "configs").resolve() == (ROOT / "src" / "movierec" / "configs").resolve()
    assert packaged_experiments() == ("ml100k", "ml100k_full", "ml1m", "ml25m")
    assert [path.stem for path in CONFIGS] == list(packaged_experiments())


@pytest.mark.parametrize("name", ["ml100k", "ml100k.toml"])
def test_a_packaged_name_that_is_not_a_file_loads_the_packaged_config(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no configs/ here, as for an installed wheel
    config = load_experiment(name)
    assert config == load_experiment(ROOT / "configs" / "ml100k.toml")
    assert config.name == "ml100k" and config.overrides["ease"]["l2"] == 250.0


def test_a_file_is_read_before_a_packaged_config_of_the_same_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("ml100k").write_text('name = "mine"\n')
    assert load_experiment("ml100k").name == "mine"


@pytest.mark.parametrize(
    ("given", "phrase"),
    [
        ("nope", "'nope' is neither a file nor a packaged config (packaged: ml100k, ml100k_full, ml1m, ml25m)"),
        ("configs/ml100k.toml", "did you mean 'ml100k'?"),  # a clone's path, given outside the clone
    ],
)
def test_neither_a_file_nor_a_packaged_name_is_named(given, phrase, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="not found") as error:
        load_experiment(given)
    assert phrase in str(error.value)
