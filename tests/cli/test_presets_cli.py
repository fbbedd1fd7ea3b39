"""`movierec presets` and `registry.config_to_toml`: every preset written as TOML reads back as the same model."""

from __future__ import annotations

import dataclasses
import json
import tomllib

import pandas as pd
import pytest

from movierec.cli.main import main
from movierec.config import EaseConfig, SequentialConfig
from movierec.errors import ConfigError
from movierec.experiments import PRESETS
from movierec.registry import _member_tables, _toml_table, config_from_dict, config_to_toml


def _tree(config) -> tuple:
    """A config with its members' tables resolved into configs (defaults filled in), for comparing models."""
    members = _member_tables(config)
    values = {}
    for field in dataclasses.fields(config):
        if field.name in members:
            values[field.name] = [_tree(config_from_dict(table)) for _, table in members[field.name]]
        else:
            values[field.name] = getattr(config, field.name)
    return type(config), values


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_reads_back_as_the_same_model(name):
    text = config_to_toml(PRESETS[name])
    reloaded = config_from_dict(tomllib.loads(text))
    assert _tree(reloaded) == _tree(PRESETS[name])
    assert config_to_toml(reloaded) == text
    if not _member_tables(PRESETS[name]):
        assert reloaded == PRESETS[name]


def test_a_config_is_written_field_by_field_in_order():
    assert config_to_toml(EaseConfig(name="e", l2=250.0)) == (
        'kind = "ease"\nname = "e"\nl2 = 250.0\nmax_items = 20000\n'
    )
    # a nested dataclass becomes a sub-table after the plain keys; None (the default) is left out
    table = tomllib.loads(config_to_toml(SequentialConfig(name="s", epochs=None, blocks=3)))
    assert "epochs" not in table and table["blocks"] == 3 and table["loss"]["kind"] == "full"


def test_a_none_that_would_read_back_as_something_else_is_refused():
    @dataclasses.dataclass(frozen=True)
    class Toy:
        size: int | None = 3

    with pytest.raises(ConfigError, match=r"toy\.size is None, which a TOML file cannot say .*reads as 3"):
        _toml_table(Toy(size=None), "toy")


def test_presets_lists_every_preset_with_its_kind(capsys):
    assert main(["presets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in lines] == [[name, config.kind] for name, config in PRESETS.items()]
    default = next(line for line in lines if line.startswith("default "))
    assert default.endswith(
        "best_ease_recent or, where order predicts the next movie, blend (markov_ease below 150,000 ratings)"
    )
    recent = next(line for line in lines if line.startswith("best_ease_recent "))
    assert "best_ease + recent_popularity, weight chosen on the validation slice" in recent


@pytest.mark.parametrize("preset", ["ease", "model1"])
def test_a_written_preset_trains_the_same_model_as_the_preset(preset, tmp_path, capsys, block_data):
    block_data.ratings.to_csv(tmp_path / "r.csv", index=False)
    block_data.items.to_csv(tmp_path / "i.csv", index=False)
    assert main(["presets", preset, "--out", str(tmp_path / "p.toml")]) == 0
    assert capsys.readouterr().out == f"wrote preset {preset!r} to {tmp_path / 'p.toml'}\n"
    data = ["--ratings", str(tmp_path / "r.csv"), "--items", str(tmp_path / "i.csv"), "--epochs", "2"]
    assert main(["train", *data, "--preset", preset, "--out", str(tmp_path / "A")]) == 0
    assert main(["train", *data, "--config", str(tmp_path / "p.toml"), "--out", str(tmp_path / "B")]) == 0
    saved = [json.loads((tmp_path / m / "model.json").read_text())["model"] for m in "AB"]
    assert saved[0] == saved[1]
    recs = []
    for m in "AB":
        out = tmp_path / f"{m}.csv"
        assert main(["recommend", "--model", str(tmp_path / m), "--all-users", "-k", "5", "--out", str(out)]) == 0
        recs.append(pd.read_csv(out))
    pd.testing.assert_frame_equal(recs[0], recs[1])


def test_presets_prints_toml_with_a_header_line(capsys):
    assert main(["presets", "default"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# movierec preset 'default': `movierec train --config FILE` trains this model\n")
    table = tomllib.loads(out)
    assert table["kind"] == "choice" and table["ordered"]["first"]["kind"] == "sequential"


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["presets", "nope"], "unknown preset 'nope'"),
        (["presets", "--out", "x.toml"], "--out needs a preset NAME"),
        (["presets", "ease", "--out", "{tmp}"], "is a folder; give a file name"),
    ],
)
def test_bad_presets_arguments_are_one_line(args, phrase, tmp_path, capsys):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    assert main(args) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "error:" in lines[0] and phrase in lines[0], lines
    assert captured.out == ""
    assert list(tmp_path.iterdir()) == []
