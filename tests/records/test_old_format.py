"""Run records written before the typed records (tests/records/old_format, see its README) still read."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from movierec._io import file_sha256
from movierec.errors import ModelDirError
from movierec.records import FitDecisions, ModelMeta, RunResults, load_results
from movierec.report import markdown_report
from movierec.serving.model_dir import load_model_dir

OLD = Path(__file__).parent / "old_format"


def test_an_old_results_file_reads_with_its_numbers():
    results = load_results(OLD / "results.json")
    assert (results.experiment, results.dataset) == ("old", "blocks: 320 ratings, 40 users, 30 items")
    assert (results.split.strategy, results.split.train, results.split.validation, results.split.test) == (
        "random", 230, 26, 64,
    )  # fmt: skip
    assert list(results.models) == ["popularity", "ease", "auto", "default", "fast"]
    assert results.models["ease"].test["ndcg@10"] == pytest.approx(0.5195788695085534)
    auto = results.models["auto"].decisions.selection
    assert auto is not None and auto.chosen == "ease" and auto.validation_users == 22
    assert [(c.name, c.validation, c.versus) for c in auto.candidates] == [
        ("popularity", 0.054671, None), ("ease", 0.401595, "popularity"),
    ]  # fmt: skip
    choice = results.models["default"].decisions.choice
    assert choice is not None and choice.chosen == "ease" and not choice.order.used and choice.order.users == 22
    fast = results.models["fast"]
    assert fast.epochs_run == 2 and fast.race == {"ease": None} and len(fast.history["loss"]) == 2
    assert fast.decisions.recency is not None and fast.decisions.recency.plain == -3.550461
    assert results.models["popularity"].decisions == FitDecisions() and results.models["popularity"].epochs_run is None


def test_an_old_results_file_is_written_back_unchanged():
    """The typed record holds every field the old writer wrote: to_dict gives the file back, key for key."""
    written = json.loads((OLD / "results.json").read_text())
    assert load_results(OLD / "results.json").to_dict() == written


def test_the_report_of_an_old_results_file_says_what_each_fit_decided():
    text = markdown_report([OLD / "results.json"])
    assert "## old: random split" in text and "train 230 / validation 26 / test 64 ratings" in text
    assert "- `auto` chose **ease** on the validation ndcg@10 of 22 users" in text
    assert "- `default` trained **ease**: order adds little: factorisation (validation NDCG@10 of 22 users" in text
    assert "- `fast` counted the latest 30% of the training ratings like the others: the validation movies" in text


def test_an_old_model_directory_loads_and_describes_itself():
    model = load_model_dir(OLD / "model", trust=True)  # written by another installation: not signed here
    assert model.name == "auto" and model.recommender.kind == "auto"
    description = model.describe()
    # the old model.json states the rating count only in a sentence, which is not parsed back
    assert description["data"] == {"dataset": "blocks: 320 ratings, 40 users, 30 items", "users": 40, "items": 30,
                                   "ratings": None}  # fmt: skip
    search = model.meta.epoch_search
    assert search is not None and search.validation_split == "leave_last" and search.chosen_epochs == 0
    assert search.decisions.selection is not None and search.decisions.selection.chosen == "ease"
    assert description["metrics"] == json.loads((OLD / "model" / "model.json").read_text())["epoch_search"]


def test_a_malformed_model_json_is_one_line_naming_the_file_and_field(tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(OLD / "model", folder)
    meta = json.loads((folder / "model.json").read_text())
    meta["epoch_search"]["chosen_epochs"] = "two"
    (folder / "model.json").write_text(json.dumps(meta))
    manifest = json.loads((folder / "manifest.json").read_text())
    path = folder / "model.json"  # the manifest made to match the edit: only the field check can refuse it
    manifest["files"]["model.json"] = {"bytes": path.stat().st_size, "sha256": file_sha256(path)}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelDirError) as error:
        load_model_dir(folder, trust=True)
    message = str(error.value)
    assert len(message.splitlines()) == 1
    assert f"{folder}/model.json" in message and "'chosen_epochs' must be int" in message and "'two'" in message


def test_a_results_file_with_a_wrong_field_is_one_line_naming_the_file(tmp_path):
    data = json.loads((OLD / "results.json").read_text())
    data["models"]["ease"]["test"] = [0.5]
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data))
    from movierec.errors import DataError

    with pytest.raises(DataError) as error:
        load_results(path)
    message = str(error.value)
    assert len(message.splitlines()) == 1 and str(path) in message
    assert "model 'ease'" in message and "'test' must be dict. Received: list" in message


def test_model_meta_reads_what_the_serving_side_shows():
    meta = ModelMeta.from_dict(json.loads((OLD / "model" / "model.json").read_text()))
    assert meta.format == "movierec-model/3" and meta.ratings is None and meta.data == {
        "source": "blocks.csv", "items": None, "path": None, "cache_dir": None, "min_rating": None,
    }  # fmt: skip
    assert RunResults.from_dict({"models": {}}).experiment == ""  # no name recorded, none given
