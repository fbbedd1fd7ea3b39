"""`run_experiment` on the two-block data: results.json, TensorBoard runs, projector, clean validation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from movierec.baselines import EaseRecommender, PopularityRecommender
from movierec.baselines.ease import ease_weights
from movierec.config import EaseConfig, ExperimentConfig, PopularityConfig, TrainConfig
from movierec.evaluation import evaluate
from movierec.experiments import fit_and_evaluate, prepare_data, run_experiment

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
        "results": results.to_dict(),  # the typed record, as results.json holds it
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


def test_one_run_per_model_and_nothing_at_the_root(experiment):
    root = experiment["dir"]
    assert not list(root.glob("events.out.tfevents.*"))  # no run "."
    for model in ("model1", "popularity"):
        assert list((root / model).glob("events.out.tfevents.*"))
        assert not [p for p in (root / model).iterdir() if p.is_dir() and list(p.rglob("events.out.tfevents.*"))]


def test_tensorboard_train_and_validation_curves(experiment):
    run = experiment["dir"] / "model1"
    history = experiment["results"]["models"]["model1"]["history"]
    batch = experiment["results"]["models"]["model1"]["train_config"]["batch_size"]
    loss = _tensor_values(run, "train/loss")
    assert [step for step, _ in loss] == list(range(1, EPOCHS + 1))
    np.testing.assert_allclose([v for _, v in loss], np.array(history["loss"]) / batch, rtol=1e-6)
    for metric in ("factorized_top_100", "factorized_top_10"):
        values = _tensor_values(run, f"validation/{metric}")
        assert [step for step, _ in values] == list(range(1, EPOCHS + 1))
        np.testing.assert_allclose([v for _, v in values], history[f"val_{metric}"], rtol=1e-6)
    ndcg = _tensor_values(run, "validation/ndcg@10")
    np.testing.assert_allclose([v for _, v in ndcg], history["val_ndcg_at_10"], rtol=1e-6)


def test_baselines_are_flat_lines_over_the_same_epochs(experiment):
    expected = experiment["results"]["models"]["popularity"]["validation"]["ndcg@10"]
    values = _tensor_values(experiment["dir"] / "popularity", "validation/ndcg@10")
    assert values == [(step, pytest.approx(expected, rel=1e-6)) for step in range(1, EPOCHS + 1)]


@pytest.mark.parametrize("model", ["model1", "popularity"])
def test_tensorboard_test_scalars(experiment, model):
    test = experiment["results"]["models"][model]["test"]
    for k in KS:
        values = _tensor_values(experiment["dir"] / model, f"test/factorized_top_{k}")
        assert values == [(0, pytest.approx(test[f"factorized_top_{k}"], rel=1e-6))]


@pytest.mark.parametrize("model", ["model1", "popularity"])
def test_hparams_text_and_histograms_in_each_run(experiment, model):
    tags = EventAccumulator(str(experiment["dir"] / model)).Reload().Tags()["tensors"]
    assert {"_hparams_/session_start_info", "config", "recommendations"} <= set(tags)
    assert ("samples" in tags) == (model == "model1")  # what three users get, each epoch
    assert {"popularity/recommended", "popularity/catalogue", "custom_scalars__config__"} <= set(tags)


def test_sample_recommendations_are_unseen_titles(experiment, block_data):
    samples = experiment["results"]["models"]["model1"]["samples"]
    assert len(samples) == 3
    data = experiment["data"]
    title_of = dict(zip(block_data.items["item_id"], block_data.items["title"]))
    for sample in samples:
        user = data.vocab.user_index([sample["user_id"]])[0]
        watched = {title_of[data.vocab.item_ids[i]] for i in data.train.items[data.train.users == user]}
        top = [item["title"] for item in sample["top"]]
        assert len(top) == 10 and not set(top) & watched
        assert set(sample["watched"]) <= watched
    shares = experiment["results"]["models"]["popularity"]["popularity"]
    assert sum(shares["recommended"]) == pytest.approx(1.0) and sum(shares["catalogue"]) == pytest.approx(1.0)


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


def test_test_split_is_scored_from_train_and_validation_without_refitting(experiment):
    """EASE learns its weights from train only, then reads train + validation rows to score test."""
    data = experiment["data"]
    recommender, result = fit_and_evaluate(EaseConfig(l2=5.0), data, TrainConfig(), KS, run_dir=None)
    weights = ease_weights(data.train.to_csr(), 5.0)
    np.testing.assert_allclose(recommender.weights, weights, rtol=1e-5, atol=1e-6)
    users = np.unique(data.test.users)
    expected = np.asarray(data.seen.to_csr()[users] @ weights)  # numpy reference: rows of train + validation
    np.testing.assert_allclose(recommender.score(users), expected, rtol=1e-4, atol=1e-5)
    # the test metrics are those of these scores, not of the training rows alone
    only_train = EaseRecommender(EaseConfig(l2=5.0)).fit(data.train)
    assert result.test == pytest.approx(evaluate(recommender, data.seen, data.test, ks=KS), nan_ok=True)
    assert not np.allclose(only_train.score(users), recommender.score(users))


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


def test_the_blend_of_a_model_trained_in_epochs_runs_in_compare(block_data, tmp_path):
    """The default's ordered choice under `compare` on a leave-last-out split: its epoch hook samples
    recommendations mid-fit, before the blend has a weight (this failed: "blend is not fitted")."""
    import dataclasses

    from movierec.config import SplitConfig, to_dict
    from movierec.experiments import PRESETS

    small = dataclasses.replace(
        PRESETS["sequential"], embedding_dim=8, max_length=8, blocks=1, dropout=0.0, epochs=2, batch_size=64,
        early_stopping_patience=None,
    )  # fmt: skip
    config = ExperimentConfig(
        name="ordered",
        logdir=str(tmp_path),
        models=("blend",),
        split=SplitConfig(strategy="leave_last"),
        train=TrainConfig(epochs=2, batch_size=64, learning_rate=0.01),
        ks=KS,
        overrides={"blend": {"first": to_dict(small), "steps": 2, "refine": 0}},
    )
    result = run_experiment(config, dataset=block_data.dataset()).models["blend"]
    # the curves and budget of the member trained in epochs are the blend's record
    assert result.epochs_run == 2 and len(result.history["loss"]) == 2 and len(result.epoch_seconds) == 2
    assert result.train_config is not None and result.train_config["epochs"] == 2
    assert 0.0 <= result.test["ndcg@10"] <= 1.0
    assert result.decisions.blend is not None and result.decisions.blend.weight in (0.0, 0.5, 1.0)


def test_a_model_trained_twice_in_one_compare_trains_once(block_data, tmp_path):
    """`sequential` after the blend whose first member is the same sequential model loads that member's fit:
    the same curves and the same test scores as a compare that trains `sequential` on its own, its training
    seconds counted, its TensorBoard curves written, and the shared folder gone once the run ends."""
    import dataclasses

    from movierec.config import SplitConfig, to_dict
    from movierec.experiments import PRESETS

    small = dataclasses.replace(
        PRESETS["sequential"], embedding_dim=8, max_length=8, blocks=1, dropout=0.1, epochs=2, batch_size=64,
        early_stopping_patience=None,
    )  # fmt: skip
    fields = {key: value for key, value in to_dict(small).items() if key not in ("kind", "name")}

    def run(name: str, models: tuple[str, ...]):
        config = ExperimentConfig(
            name=name,
            logdir=str(tmp_path),
            models=models,
            split=SplitConfig(strategy="leave_last"),
            train=TrainConfig(epochs=2, batch_size=64, learning_rate=0.01),
            ks=KS,
            overrides={"blend": {"first": to_dict(small), "steps": 2, "refine": 0}, "sequential": fields},
        )
        return run_experiment(config, dataset=block_data.dataset()).models

    both = run("both", ("blend", "sequential"))
    alone = run("alone", ("sequential",))["sequential"]
    shared = both["sequential"]
    assert shared.history == both["blend"].history  # the member's curves, its epoch seconds included

    def curves(history):
        return {key: values for key, values in history.items() if key != "seconds"}

    assert curves(shared.history) == curves(alone.history)  # what training it again gives, to the last digit
    assert shared.test == alone.test  # the loaded weights score as a real fit of the same model
    assert shared.epoch_seconds == both["blend"].epoch_seconds  # the epochs that trained them
    assert shared.train_seconds >= sum(shared.epoch_seconds)  # training counted, not the load alone
    assert not (tmp_path / "both" / ".shared-fits").exists()
    ndcg = _tensor_values(tmp_path / "both" / "sequential", "validation/ndcg@10")  # the loaded fit's curves
    assert [step for step, _ in ndcg] == [1, 2]
    np.testing.assert_allclose([v for _, v in ndcg], shared.history["val_ndcg_at_10"], rtol=1e-6)
