"""`run_experiment` on the two-block data: results.json, TensorBoard runs, projector, clean validation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from movierec.baselines import PopularityRecommender
from movierec.config import ExperimentConfig, PopularityConfig, TrainConfig
from movierec.evaluation import evaluate
from movierec.experiments import prepare_data, run_experiment

EPOCHS = 2
KS = (1, 5, 10, 50, 100)
N_ITEMS = 30


@pytest.fixture(scope="module")
def experiment(block_data, tmp_path_factory):
    """Runs model1 + popularity once, spying on every `evaluate` call made by the validation callback.

    Patching the `evaluate` that `movierec.training.callbacks` imported catches exactly the
    validation callback's calls (the compare job scores the test split through its own import).
    """
    logdir = tmp_path_factory.mktemp("runs")
    config = ExperimentConfig(
        name="tiny",
        logdir=str(logdir),
        models=("model1", "popularity"),
        train=TrainConfig(epochs=EPOCHS, batch_size=64, learning_rate=0.1),
        ks=KS,
    )
    dataset = block_data.dataset()
    calls = []

    def spy(recommender, train, test, *args, **kwargs):
        calls.append({"train": train, "test": test})
        return evaluate(recommender, train, test, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("movierec.training.callbacks.evaluate", spy)
        results = run_experiment(config, dataset=dataset)
    return {
        "results": results,
        "dir": logdir / "tiny",
        "calls": calls,
        "data": prepare_data(config, dataset),  # deterministic: the same split the run used
    }


def _tensor_values(path, tag) -> list[tuple[int, float]]:
    """`(step, value)` of a scalar the Keras callback / tf.summary wrote (as TENSOR summaries)."""
    import tensorflow as tf

    accumulator = EventAccumulator(str(path)).Reload()
    assert tag in accumulator.Tags()["tensors"], f"{tag} not among {accumulator.Tags()['tensors']}"
    return [(e.step, float(tf.make_ndarray(e.tensor_proto))) for e in accumulator.Tensors(tag)]


def test_results_json_has_every_metric_for_every_model(experiment):
    written = json.loads((experiment["dir"] / "results.json").read_text())
    assert set(written["models"]) == {"model1", "popularity"}
    assert written["split"] == {"strategy": "random", "train": 230, "validation": 26, "test": 64}
    for name, result in written["models"].items():
        test = result["test"]
        for k in KS:
            assert 0.0 <= test[f"factorized_top_{k}"] <= 1.0, name
        # only 30 candidates: every positive ranks within the top 50
        assert test["factorized_top_50"] == test["factorized_top_100"] == 1.0
        assert test["n_test_rows"] == 64
    assert written["models"]["model1"]["epochs_run"] == EPOCHS
    assert written == json.loads(json.dumps(experiment["results"]))  # the file is what was returned


def test_popularity_result_equals_direct_evaluation(experiment):
    data = experiment["data"]
    direct = evaluate(PopularityRecommender(PopularityConfig()).fit(data.train), data.seen, data.test, ks=KS)
    written = experiment["results"]["models"]["popularity"]["test"]
    assert written.keys() == direct.keys()
    for key, value in direct.items():
        assert written[key] == pytest.approx(value, nan_ok=True), key


def test_tensorboard_train_and_validation_curves(experiment):
    run = experiment["dir"] / "model1"
    history = experiment["results"]["models"]["model1"]["history"]
    loss = _tensor_values(run / "train", "epoch_loss")
    assert [step for step, _ in loss] == list(range(EPOCHS))
    np.testing.assert_allclose([v for _, v in loss], history["loss"], rtol=1e-6)
    top100 = _tensor_values(run / "validation", "epoch_factorized_top_100")
    assert [step for step, _ in top100] == list(range(EPOCHS))
    np.testing.assert_allclose([v for _, v in top100], history["val_factorized_top_100"], rtol=1e-6)
    top10 = _tensor_values(run / "validation", "epoch_factorized_top_10")
    np.testing.assert_allclose([v for _, v in top10], history["val_factorized_top_10"], rtol=1e-6)


@pytest.mark.parametrize("model", ["model1", "popularity"])
def test_tensorboard_test_scalars(experiment, model):
    test = experiment["results"]["models"][model]["test"]
    for k in KS:
        values = _tensor_values(experiment["dir"] / model, f"test/factorized_top_{k}")
        assert values == [(0, pytest.approx(test[f"factorized_top_{k}"], rel=1e-6))]


def test_hparams_experiment_config_at_the_root(experiment):
    accumulator = EventAccumulator(str(experiment["dir"])).Reload()
    assert "_hparams_/experiment" in accumulator.Tags()["tensors"]


def test_projector_files_for_the_tfrs_model(experiment, block_data):
    run = experiment["dir"] / "model1"
    config = (run / "projector_config.pbtxt").read_text()
    assert 'metadata_path: "metadata.tsv"' in config and 'tensor_path: "embeddings.tsv"' in config
    meta = pd.read_csv(run / "metadata.tsv", sep="\t", keep_default_na=False)
    assert list(meta.columns) == ["title", "genres", "popularity"]
    assert len(meta) == N_ITEMS  # one row per movie, under one header row
    # rows follow the vocabulary (items table order), popularity = training counts
    assert meta["title"].tolist() == block_data.items["title"].tolist()
    data = experiment["data"]
    assert meta["popularity"].tolist() == data.train.item_counts().tolist()
    vectors = np.loadtxt(run / "embeddings.tsv", delimiter="\t")
    assert vectors.shape == (N_ITEMS, 32)


def test_validation_metrics_use_only_the_validation_slice(experiment):
    data = experiment["data"]
    calls = experiment["calls"]
    assert len(calls) == EPOCHS  # one validation pass per epoch, for the one TFRS model
    assert len(data.validation) != len(data.test)  # so the length check below can tell them apart
    for call in calls:
        test = call["test"]
        assert len(test) == len(data.validation)
        np.testing.assert_array_equal(test.users, data.validation.users)
        np.testing.assert_array_equal(test.items, data.validation.items)
        # seen items masked during validation are the training rows only
        assert len(call["train"]) == len(data.train)


@pytest.mark.parametrize("model", ["model1", "popularity"])
def test_each_run_folder_holds_its_resolved_config(experiment, model):
    from movierec.config import SplitConfig, TrainConfig, from_dict
    from movierec.registry import config_from_dict as model_config_from_dict

    saved = json.loads((experiment["dir"] / model / "config.json").read_text())
    config = model_config_from_dict(saved["model"])
    assert config.name == model
    assert from_dict(SplitConfig, saved["split"]) == SplitConfig()
    if model == "model1":
        # the experiment budget, with nothing overridden by the preset
        assert from_dict(TrainConfig, saved["train"]) == TrainConfig(epochs=EPOCHS, batch_size=64, learning_rate=0.1)
    else:
        assert saved["train"] is None
