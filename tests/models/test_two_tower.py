"""The TFRS two-tower model on the two-block data: known answers, Model 2's failure, export, configs."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable

import numpy as np
import pytest

from movierec.config import USER_FEATURES, TrainConfig, TwoTowerConfig, from_dict, to_dict
from movierec.data import Interactions, Vocab
from movierec.errors import ConfigError
from movierec.experiments import PRESETS
from movierec.models import TwoTowerModel, TwoTowerRecommender, build_history
from movierec.recommender import FitOptions
from movierec.registry import config_from_dict as model_config_from_dict
from movierec.registry import load_recommender

# Small batches so the 320 ratings make 5 steps per epoch; Adagrad(0.1) as in the TFRS tutorial.
FAST = TrainConfig(epochs=20, batch_size=64, learning_rate=0.1, seed=42)
UNSEEN_OWN = 7  # each user rated 8 of the 15 movies of their block

CONFIGS = {
    "model1": PRESETS["model1"],
    "model1_history": dataclasses.replace(PRESETS["model1"], name="model1_history", user_features=("history",)),
}


@pytest.fixture(scope="module")
def encoded(block_data):
    """`(vocab, train interactions, [n_users] group, [n_items] block)` of the block data."""
    vocab = Vocab.build(block_data.ratings.user_id, block_data.items.item_id)
    train = Interactions.from_frame(block_data.ratings, vocab)
    groups = np.array([block_data.user_group[u] for u in vocab.user_ids])
    blocks = np.array([block_data.item_block[i] for i in vocab.item_ids])
    return vocab, train, groups, blocks


@pytest.fixture(scope="module")
def fitted_configs(encoded) -> Callable[[str], TwoTowerRecommender]:
    """Each of `CONFIGS` fitted once (on first use) for the module: several tests read the same model."""
    _, train, _, _ = encoded
    fitted: dict[str, TwoTowerRecommender] = {}

    def get(name: str) -> TwoTowerRecommender:
        if name not in fitted:
            fitted[name] = TwoTowerRecommender(CONFIGS[name]).fit(train, FitOptions(train=FAST))
        return fitted[name]

    return get


@pytest.fixture(scope="module", params=sorted(CONFIGS))
def trained(request, fitted_configs) -> TwoTowerRecommender:
    return fitted_configs(request.param)


def test_recommends_own_block_first(trained, encoded):
    _, train, groups, blocks = encoded
    users = np.arange(train.n_users)
    # the 7 unseen movies of a user's own block must fill their top 7
    items, _ = trained.recommend(users, k=UNSEEN_OWN)
    assert np.all(blocks[items] == groups[:, None])
    # and, seen movies included, all 15 movies of the own block outscore the other block
    scores = trained.score(users)
    own = np.where(blocks[None, :] == groups[:, None], scores, np.inf).min(axis=1)
    other = np.where(blocks[None, :] != groups[:, None], scores, -np.inf).max(axis=1)
    assert np.all(own > other)


def test_new_user_history_gets_that_block(trained, encoded):
    vocab, _, _, blocks = encoded
    liked = vocab.item_index(["m1", "m2", "m3", "m4", "m5"])  # block 0
    scores = trained.score_history([liked])
    assert scores.shape == (1, len(blocks))
    assert scores.dtype == np.float32
    ranked = [i for i in np.argsort(-scores[0], kind="stable") if i not in set(liked)]
    assert set(blocks[ranked[:10]]) == {0}  # the 10 other block-0 movies come first


def test_export_gives_the_same_scores_and_top_k(trained, encoded, tmp_path):
    _, train, _, _ = encoded
    trained.save(tmp_path / "model")
    loaded = load_recommender(tmp_path / "model")
    assert isinstance(loaded, TwoTowerRecommender)
    assert loaded.config == trained.config
    assert (loaded.n_users, loaded.n_items) == (trained.n_users, trained.n_items)
    users = np.arange(train.n_users)
    np.testing.assert_allclose(loaded.score(users), trained.score(users), rtol=1e-5, atol=1e-5)
    for k in (1, 5, 22):  # 22 = every unseen movie
        np.testing.assert_array_equal(loaded.recommend(users, k=k)[0], trained.recommend(users, k=k)[0])
    histories = [np.array([0, 1, 2]), np.array([29]), np.array([], dtype=np.int64)]
    np.testing.assert_allclose(loaded.score_history(histories), trained.score_history(histories), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(loaded.item_embeddings(), trained.item_embeddings(), rtol=1e-6, atol=1e-6)


def test_model2_softmax_head_cannot_learn(encoded, fitted_configs):
    """The report's Model 2: softmax outputs crowd into a simplex corner, so scores barely differ."""
    _, train, _, _ = encoded
    rec = TwoTowerRecommender(PRESETS["model2"]).fit(train, FitOptions(train=FAST))
    scores = rec.score(np.arange(train.n_users))
    assert np.std(scores, axis=1).max() < 1e-5
    # Equal scores make the in-batch softmax uniform: the loss of a batch of 64 is
    # 64 * ln(64) = 266.168 (sum reduction) and stays there, epoch after epoch.
    assert rec.history["loss"][-1] == pytest.approx(64 * math.log(64), rel=1e-4)
    fixed = fitted_configs("model1")  # model1 on the same data and budget (shared with the tests above)
    assert np.std(fixed.score(np.arange(train.n_users)), axis=1).min() > 0.1


def test_same_seed_same_history(encoded):
    _, train, _, _ = encoded
    validation = train.subset(np.arange(len(train)) % 10 == 0)
    rest = train.subset(np.arange(len(train)) % 10 != 0)
    budget = dataclasses.replace(FAST, epochs=4)
    runs = [
        TwoTowerRecommender(PRESETS["model1"]).fit(rest, FitOptions(validation=validation, train=budget)).history
        for _ in range(2)
    ]
    assert {"loss", "val_factorized_top_10", "val_recall_at_10", "val_ndcg_at_10"} <= set(runs[0])
    assert len(runs[0]["loss"]) == 4
    rounded = [{k: np.round(v, 3).tolist() for k, v in run.items() if k != "seconds"} for run in runs]
    assert rounded[0] == rounded[1]
    other = TwoTowerRecommender(PRESETS["model1"]).fit(
        rest, FitOptions(validation=validation, train=dataclasses.replace(budget, seed=7))
    )
    assert np.round(other.history["loss"], 3).tolist() != rounded[0]["loss"]  # the seed does matter


def test_build_history_known_table():
    # rows deliberately out of order; timestamps decide "newest"
    users = [0, 1, 0, 3, 0, 3, 0]
    items = [4, 3, 1, 5, 2, 0, 0]
    stamps = [30, 5, 10, 9, 20, 8, 40]
    train = Interactions.from_arrays(users, items, timestamps=stamps, n_users=4, n_items=6)
    table = build_history(train, length=3)
    expected = [
        [3, 5, 1],  # user 0 watched 1, 2, 4, 0 (by time): last three, +1
        [0, 0, 4],  # user 1: one item, left-padded with zeros
        [0, 0, 0],  # user 2: nothing
        [0, 1, 6],  # user 3: item 0 at t=8, then item 5 at t=9
    ]
    assert table.dtype == np.int32
    assert table.tolist() == expected


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_preset_config_round_trip(preset):
    config = PRESETS[preset]
    assert from_dict(type(config), to_dict(config)) == config
    assert model_config_from_dict(to_dict(config)) == config
    # through JSON, as written into recommender.json (tuples come back from lists)
    assert model_config_from_dict(json.loads(json.dumps(to_dict(config)))) == config


@pytest.mark.parametrize(
    ("changes", "phrase"),
    [
        ({"embedding_dim": 0}, "embedding_dim should be a positive integer"),
        ({"activation": "nope"}, "activation must be one of"),
        ({"head_size": 8, "head_activation": "nope"}, "head_activation must be one of"),
        ({"user_features": ["shoe_size"]}, "user_features must be among"),
        ({"item_features": ["budget"]}, "item_features must be among"),
        ({"layer_sizes": [64, 0]}, "layer_sizes must all be positive"),
        ({"temperature": 0.0}, "temperature must be > 0"),
        ({"layer_sizes": [], "item_features": ["genres"]}, "side features need at least one dense layer"),
        ({"embedding_dim": "32"}, "expected int"),
        ({"shoe_size": 3}, "unknown key"),
        ({"feature_combiner": "sum", "user_features": ["age"], "feature_dim": 8}, "feature_dim must equal"),
        ({"query_time": "later"}, "query_time must be 'user', 'now' or 'validation'"),
        ({"query_time": "now"}, "needs the 'time' user feature"),
        ({"feature_combiner": "product"}, "feature_combiner must be"),
        ({"logq_exponent": -1.0}, "must be >= 0"),
        ({"output_l2": -0.1}, "must be >= 0"),
    ],
)
def test_invalid_config_raises(changes, phrase):
    data = {**to_dict(PRESETS["model1"]), **changes}
    with pytest.raises(ConfigError, match=phrase):
        model_config_from_dict(data)


def test_invalid_config_raises_from_constructor():
    with pytest.raises(ConfigError, match="embedding_dim should be a positive integer"):
        TwoTowerConfig(embedding_dim=0)
    with pytest.raises(ConfigError, match="Received: 'nope'"):
        TwoTowerConfig(activation="nope")
    with pytest.raises(ConfigError, match="Received: \\['age_group'\\]"):
        TwoTowerConfig(user_features=("age", "age_group"))


def test_logq_exponent_and_output_l2_enter_the_loss_as_written():
    """Loss of one batch by hand: in-batch softmax with logits q·c - e·log p, plus l2 · (|q|² + |c|²)."""
    import tensorflow as tf

    from movierec.models import TowerInputs, TwoTowerModel

    config = TwoTowerConfig(
        layer_sizes=(), embedding_dim=4, popularity_correction=True, logq_exponent=1.5, output_l2=0.1
    )
    probability = np.array([0.5, 0.3, 0.2])
    tf.keras.utils.set_random_seed(0)
    model = TwoTowerModel(config, 2, 3, TowerInputs(), TowerInputs(), probability)
    np.testing.assert_allclose(model.item_probability.numpy(), probability**1.5, rtol=1e-6)
    batch = {
        "user": tf.constant([0, 1]),
        "item": tf.constant([2, 0]),
        "rating": tf.ones(2),
        "timestamp": tf.zeros(2, tf.int64),
    }
    loss = float(model.compute_loss(batch))
    query = model.user_tower(tf.constant([0, 1])).numpy().astype(np.float64)
    items = model.movie_tower(tf.constant([2, 0])).numpy().astype(np.float64)
    logits = query @ items.T - np.log(probability[[2, 0]] ** 1.5)[None, :]
    softmax = np.sum(np.log(np.exp(logits).sum(axis=1)) - np.diag(logits))
    expected = softmax + 0.1 * (np.sum(query**2) + np.sum(items**2))
    assert loss == pytest.approx(expected, rel=1e-5)


def test_users_unseen_in_training_get_popularity_not_noise(encoded):
    """An id-only model knows nothing of a user without training rows: zero query, popularity scores."""
    _, train, _, _ = encoded
    warm = train.subset(train.users != 0)  # user 0 has no training rows
    rec = TwoTowerRecommender(PRESETS["fast"]).fit(warm, FitOptions(train=FAST))
    cold = rec.score(np.array([0]))[0]
    counts = warm.item_counts()
    assert np.all(np.diff(cold[np.argsort(-counts, kind="stable")]) <= 0)  # ordered by popularity
    assert len(np.unique(rec.score(np.array([1]))[0])) > 1  # a trained user is scored by the model


def test_a_diverging_loss_stops_training_naming_the_epoch(encoded):
    from movierec.errors import ModelFitError

    _, train, _, _ = encoded
    # embeddings only: with relu towers the loss can stay finite while the weights are not (seen on a
    # Zen 4 CPU under TensorFlow's oneDNN ops: every batch's loss 64 ln 64 = 266.17, all scores equal,
    # movie embeddings NaN), and then only the check after fit notices
    rec = TwoTowerRecommender(PRESETS["mf"])
    budget = TrainConfig(epochs=3, batch_size=64, learning_rate=1e30, optimizer="sgd")
    with pytest.raises(ModelFitError, match=r"training loss became .* at epoch 1, by (batch \d+|its last batch)"):
        rec.fit(train, FitOptions(train=budget))
    assert not rec.is_fitted


def test_grouped_steps_train_as_keras_one_step_at_a_time(encoded):
    """`make_train_function` (steps in groups of 3, one traced step) gives Keras' own per-step updates."""
    _, train, _, _ = encoded
    budget = dataclasses.replace(FAST, epochs=3, optimizer="adam", learning_rate=0.01)
    histories = {
        group: TwoTowerRecommender(PRESETS["model1"])
        .fit(train, FitOptions(train=dataclasses.replace(budget, steps_per_execution=group)))
        .history["loss"]
        for group in (1, 3)  # 1: Keras' own function; 3: 5 steps per epoch = a group of 3, then of 2
    }
    np.testing.assert_allclose(histories[3], histories[1], rtol=1e-5)


def test_the_train_step_is_traced_once(encoded, monkeypatch):
    """Weights and optimiser slots exist before `fit` and the step loop starts from known outputs:
    neither makes `tf.function` trace the (slow to trace) train step a second time."""
    _, train, _, _ = encoded
    traces = []
    original = TwoTowerModel.train_step

    def counted(self, inputs):
        traces.append(1)  # Python runs only while TensorFlow traces the step
        return original(self, inputs)

    monkeypatch.setattr(TwoTowerModel, "train_step", counted)
    TwoTowerRecommender(PRESETS["model1"]).fit(train, FitOptions(train=dataclasses.replace(FAST, epochs=2)))
    assert len(traces) == 1


@pytest.mark.parametrize(
    ("changes", "phrase"),
    [
        ({"recency": "sometimes"}, "recency must be 'off', 'on' or 'validation'"),
        ({"recent_share": 0.0}, "recent_share must be in \\(0, 1\\]"),
        ({"recent_share": 1.5}, "recent_share must be in \\(0, 1\\]"),
        ({"recent_repeats": 0}, "recent_repeats should be a positive integer"),
    ],
)
def test_invalid_recency_raises(changes, phrase):
    with pytest.raises(ConfigError, match=phrase):
        dataclasses.replace(PRESETS["fast"], **changes)


def test_recency_on_trains_on_the_weighted_stream(encoded):
    """recency="on" is the same model as recency="off" fitted on the stream with the latest rows repeated."""
    from movierec.data.recency import weighted_stream

    _, train, _, _ = encoded
    budget = dataclasses.replace(FAST, epochs=2)
    on = dataclasses.replace(PRESETS["fast"], recency="on", recent_share=0.25, recent_repeats=3)
    off = dataclasses.replace(on, recency="off")
    weighted = TwoTowerRecommender(on).fit(train, FitOptions(train=budget))
    by_hand = TwoTowerRecommender(off).fit(weighted_stream(train, 0.25, 3), FitOptions(train=budget))
    users = np.arange(train.n_users)
    np.testing.assert_array_equal(weighted.score(users), by_hand.score(users))
    assert weighted.history["loss"] == by_hand.history["loss"]
    plain = TwoTowerRecommender(off).fit(train, FitOptions(train=budget))
    assert plain.history["loss"] != weighted.history["loss"]  # the stream differs, so does training
    assert weighted.fit_record().decisions.recency.used and not plain.fit_record().decisions


def test_recency_decided_on_validation_is_recorded_and_kept_for_a_refit(encoded):
    _, train, _, _ = encoded
    order = np.argsort(train.timestamps, kind="stable")
    early = train.subset(np.isin(np.arange(len(train)), order[:240]))
    late = train.subset(np.isin(np.arange(len(train)), order[240:]))
    config = dataclasses.replace(PRESETS["fast"], recency="validation")
    budget = dataclasses.replace(FAST, epochs=2)
    rec = TwoTowerRecommender(config).fit(early, FitOptions(train=budget, validation=late))
    record = rec.fit_record().decisions.recency
    # the decision is the drift check's, made on the same rows
    from movierec.data.recency import decide_recency

    expected = decide_recency("validation", config.recent_share, config.recent_repeats, early, late)
    assert record == expected
    assert rec.fit_record().summary() == expected.summary()
    refit_config = model_config_from_dict(rec.fit_record().refit_config)
    assert refit_config.recency == ("on" if expected.used else "off")
    assert dataclasses.replace(refit_config, recency="validation") == config


@pytest.mark.parametrize("later", [True, False])
def test_query_time_decided_on_validation_is_recorded_and_kept_for_a_refit(encoded, later):
    """A validation slice after the training ratings: the tower reads the time, asked at the end of the data;
    one from the same months (here the earliest ratings): the time is left out, the model of `best` before."""
    _, train, _, _ = encoded
    order = np.argsort(train.timestamps, kind="stable")
    held = order[240:] if later else order[:80]
    rest = train.subset(~np.isin(np.arange(len(train)), held))
    validation = train.subset(np.isin(np.arange(len(train)), held))
    config = dataclasses.replace(
        PRESETS["fast"], user_features=("time",), time_buckets=4, query_time="validation", recency="validation"
    )
    rec = TwoTowerRecommender(config).fit(
        rest, FitOptions(train=dataclasses.replace(FAST, epochs=2), validation=validation)
    )
    record = rec.fit_record()
    assert record.decisions.query_time.used is later
    assert record.decisions.query_time.later == (1.0 if later else 0.0)
    refit = model_config_from_dict(record.refit_config)
    assert refit.user_features == (("time",) if later else ())
    assert refit.query_time == ("now" if later else "user")
    assert refit.recency in ("on", "off")  # the recency decision is fixed alongside
    assert dataclasses.replace(refit, user_features=("time",), query_time="validation", recency="validation") == config
    assert record.decisions.query_time.summary() in record.summary()
    # the towers were built from the decided config: asked "now", every stored query time is the latest rating
    tower = rec.model.user_tower
    assert (tower._last_time is not None) is later
    if later:
        np.testing.assert_array_equal(tower._last_time.numpy(), np.full(train.n_users + 1, rest.timestamps.max()))


def test_the_two_tower_kind_knows_no_sequences():
    # the sequential kind is its own (movierec.models.sequential); the old user_features flag is refused
    assert "sequence" not in USER_FEATURES
    assert not [f.name for f in dataclasses.fields(TwoTowerConfig) if "sequence" in f.name]
    with pytest.raises(ConfigError, match="user_features must be among"):
        TwoTowerConfig(user_features=("sequence",), user_id_embedding=False)


def test_string_id_signatures_take_non_ascii_ids(tmp_path):
    # MovieLens 1M's copy names movies by title ("Café au lait (1993)"): the export's string tables are UTF-8
    from movierec.models import load_export
    from movierec.testing import N_ITEMS, N_USERS, TRAIN

    rec = TwoTowerRecommender(PRESETS["mf"]).fit(TRAIN, FitOptions(train=dataclasses.replace(FAST, epochs=1)))
    users = np.array([f"usér{u}" for u in range(N_USERS)])
    items = np.array([f"Café {i}" for i in range(N_ITEMS)])
    rec.set_serving_labels(users, items)
    rec.save(tmp_path / "m")
    export = load_export(tmp_path / "m" / "saved_model")
    import tensorflow as tf

    answer = export.recommend(tf.constant(["usér3"]), tf.constant(2))
    expected, _ = rec.recommend(np.array([3]), k=2)
    assert [i.decode("utf-8") for i in answer["item_ids"].numpy()[0]] == [items[j] for j in expected[0]]


def test_explain_by_similarity_on_hand_built_movie_vectors():
    # A new user of a model without a history feature is the mean of their movies' vectors, so movie j's share
    # of movie i's score is y_jᵀ y_i / n. Vectors: y0 = (1, 0), y1 = (0, 1), y2 = (1, 1), y3 = (2, -1).
    # History [0, 1, 0] (0 twice: n = 3): movie 2 gets 2/3 from 0 and 1/3 from 1 (score 1);
    # movie 3 gets 2 * 2/3 = 4/3 from 0 and -1/3 from 1 (score 1; 1 is not named).
    rec = TwoTowerRecommender(PRESETS["model1"])
    rec.n_users, rec.n_items = 0, 4
    rec._item_vectors = np.array([[1, 0], [0, 1], [1, 1], [2, -1]], np.float32)
    rec._is_fitted = True
    history = [np.array([0, 1, 0])]
    np.testing.assert_allclose(rec.score_history(history)[0, 2:], [1.0, 1.0], rtol=1e-6)
    because = rec.explain_history(history, np.array([[2, 3]]), top=2)
    assert because.method == "similarity" and not because.popular.any()
    np.testing.assert_array_equal(because.items[0], [[0, 1], [0, -1]])
    np.testing.assert_allclose(because.weights[0], [[2 / 3, 1 / 3], [4 / 3, 0]], rtol=1e-6)


@pytest.mark.parametrize("query_time", ["user", "now"])
def test_the_time_feature_summed_is_its_bucket_vector_asked_at_the_query_time(query_time):
    """Summed into a plain factorisation, "time" adds the embedding of the rating time's bucket to the id
    vector; a query is asked at each user's latest rating ("user") or at the end of the training data ("now")."""
    users = [0, 0, 1, 1, 2, 2, 2, 3]
    items = [0, 1, 2, 3, 0, 2, 4, 1]
    stamps = [10, 20, 30, 40, 50, 60, 70, 80]  # user 0 rated early, user 3 last
    train = Interactions.from_arrays(users, items, timestamps=stamps, n_users=4, n_items=5)
    config = TwoTowerConfig(
        name="time_sum", layer_sizes=(), embedding_dim=4, feature_dim=4, feature_combiner="sum",
        user_features=("time",), time_buckets=4, query_time=query_time,
    )  # fmt: skip
    rec = TwoTowerRecommender(config).fit(train, FitOptions(train=dataclasses.replace(FAST, epochs=1, batch_size=4)))
    tower = rec.model.user_tower
    boundaries = np.quantile(np.array(stamps, dtype=np.float64), [0.25, 0.5, 0.75])
    np.testing.assert_allclose(tower._time_boundaries, boundaries)
    asked = np.array([20, 40, 70, 80]) if query_time == "user" else np.full(4, 80)
    buckets = np.searchsorted(boundaries, asked, side="right")  # TF's Bucketize: a value on a boundary goes up
    expected = tower.id_embedding.embeddings.numpy()[:4] + tower.time_embedding.embeddings.numpy()[buckets]
    np.testing.assert_allclose(tower(np.arange(4)).numpy(), expected, rtol=1e-6)
    # an explicit time overrides the stored one: the same user asked early gets the first bucket's vector
    early = tower(np.array([3]), times=np.array([10])).numpy()
    np.testing.assert_allclose(early[0], expected[3] - tower.time_embedding.embeddings.numpy()[buckets[3]]
                               + tower.time_embedding.embeddings.numpy()[0], rtol=1e-6)  # fmt: skip
