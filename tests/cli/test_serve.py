"""`movierec serve --model A --model NAME=B`: several models, named, checked before any port opens.

uvicorn.run is replaced by a recorder, so each test sees the app (or the worker factory) and
the options `serve` would have started the server with.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient

from movierec.cli.main import main
from movierec.errors import ConfigError
from movierec.serving import api
from movierec.serving.specs import ModelSpec, model_specs, parse_model_spec, specs_from_text, specs_to_text


@pytest.fixture(scope="module")
def folder(tmp_path_factory, block_data):
    """`pop/` and `ease/`: two model directories trained through the CLI on the two-block data."""
    folder = tmp_path_factory.mktemp("serve-cli")
    block_data.ratings.to_csv(folder / "r.csv", index=False)
    for preset in ("popularity", "ease"):
        assert (
            main(["train", "--ratings", str(folder / "r.csv"), "--preset", preset, "--out", str(folder / preset[:4])])
            == 0
        )
    return folder


@pytest.fixture
def runs(monkeypatch):
    calls: list[tuple[object, dict]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append((app, options)))
    monkeypatch.setenv(api.MODEL_ENV, "")  # restored after the test: serve sets it for the workers
    return calls


def test_two_models_named_by_folder_and_by_flag(folder, runs, capsys):
    assert main(["serve", "--model", str(folder / "popu"), "--model", f"e2={folder / 'ease'}"]) == 0
    [(app, options)] = runs
    assert options["port"] == 8000
    assert "models: popu, e2" in capsys.readouterr().out
    with TestClient(app) as client:
        assert [m["name"] for m in client.get("/models").json()] == ["popu", "e2"]
        assert [m["kind"] for m in client.get("/models").json()] == ["popularity", "ease"]
        assert client.get("/health").json()["model"] == "popularity"  # the first one is the default
        assert client.get("/models/e2/users/u1/recommendations").status_code == 200


@pytest.mark.parametrize(
    ("models", "phrase"),
    [
        (["{f}/popu", "{f}/popu"], "model name 'popu' is given twice"),
        (["a={f}/popu", "a={f}/ease"], "model name 'a' is given twice"),
        (["bad name={f}/popu"], "model name 'bad name' should be"),
        (["={f}/popu"], "model name '' should be"),
    ],
)
def test_bad_or_repeated_names_are_one_line_and_exit_2(folder, runs, capsys, models, phrase):
    args = ["serve"]
    for model in models:
        args += ["--model", model.format(f=folder)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert phrase in err and len(err.strip().splitlines()) == 1
    assert runs == []  # refused before any port is opened


def test_a_missing_directory_is_refused_before_the_port_opens(folder, runs, capsys):
    assert main(["serve", "--model", str(folder / "popu"), "--model", str(folder / "nope")]) == 2
    assert "model directory not found" in capsys.readouterr().err
    assert main(["serve", "--model", str(folder / "popu"), "--model", str(folder / "nope"), "--workers", "2"]) == 2
    assert runs == []


def test_workers_get_every_model_through_the_environment(folder, runs, monkeypatch):
    # uvicorn's supervisor returns only when stopped by a signal (or a worker failed): exit code 130, as documented
    assert main(["serve", "--model", str(folder / "popu"), "--model", f"e={folder / 'ease'}", "--workers", "2"]) == 130
    [(app, options)] = runs
    assert app == "movierec.serving.api:app_from_environment" and options["factory"] and options["workers"] == 2
    text = os.environ[api.MODEL_ENV]
    assert json.loads(text) == [
        {"name": "popu", "path": str(folder / "popu")},
        {"name": "e", "path": str(folder / "ease")},
    ]
    with TestClient(api.app_from_environment()) as client:  # what each worker builds
        assert [m["name"] for m in client.get("/models").json()] == ["popu", "e"]
    monkeypatch.setenv(api.MODEL_ENV, str(folder / "ease"))  # a plain directory still works
    with TestClient(api.app_from_environment()) as client:
        assert [m["name"] for m in client.get("/models").json()] == ["ease"]


@pytest.mark.parametrize(
    ("text", "name", "path"),
    [
        ("models/best", "best", "models/best"),
        ("models/best/", "best", "models/best"),
        ("pop=models/popularity", "pop", "models/popularity"),
        ("./run-1", "run-1", "run-1"),
        ("m.2_x=a=b", "m.2_x", "a=b"),
        ("x=models/lr=0.1", "x", "models/lr=0.1"),
    ],
)
def test_spec_parsing(text, name, path):
    assert parse_model_spec(text) == ModelSpec(name, Path(path))


def test_a_folder_name_that_cannot_be_a_url_name_asks_for_one():
    # no `=` before the first `/`: a path, whose folder name holds `=`
    with pytest.raises(ConfigError, match="cannot name a model in URLs.*--model NAME=PATH"):
        parse_model_spec("models/lr=0.1")
    with pytest.raises(ConfigError, match="cannot name a model in URLs"):
        parse_model_spec(Path("my models"))


def test_specs_round_trip_through_text(tmp_path):
    specs = model_specs({"a": tmp_path / "x", "b": tmp_path / "y"})
    assert specs_from_text(specs_to_text(specs)) == specs
    assert specs_from_text("c=" + str(tmp_path / "z")) == [ModelSpec("c", tmp_path / "z")]
    with pytest.raises(ConfigError, match="JSON list"):
        specs_from_text('[{"name": "a"}]')
