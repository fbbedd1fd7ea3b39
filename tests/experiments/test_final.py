"""`fit_final`, what `movierec train` exports: one pass that keeps the best validation epoch."""

from __future__ import annotations

import dataclasses

import numpy as np

from movierec.config import BlendConfig, TrainConfig, to_dict
from movierec.experiments import PRESETS, fit_final
from movierec.experiments.compare import _seconds_to_reach
from movierec.experiments.final_fit import _with_epochs
from movierec.records import ModelResult

BUDGET = TrainConfig(epochs=6, batch_size=32, learning_rate=0.1, seed=3)


def test_keeps_the_best_epoch_and_counts_the_held_out_slice_as_seen(block_data):
    config = dataclasses.replace(PRESETS["model1"], early_stopping_patience=2)
    recommender, data, info = fit_final(config, block_data.dataset(), BUDGET, validation_fraction=0.2, refit=False)
    curve = info.validation_curve["val_ndcg_at_10"]
    assert info.chosen_epochs == int(np.argmax(curve)) + 1 and info.refit is False
    assert len(data.validation) > 0 and len(recommender.history["loss"]) == len(curve)  # trained once
    everything = data.train.concat(data.validation).to_csr()
    assert (recommender.seen != everything).nnz == 0  # held-out ratings are never recommended


def test_refit_trains_again_on_everything_for_the_chosen_epochs(block_data):
    config = dataclasses.replace(PRESETS["model1"], early_stopping_patience=2)
    recommender, data, info = fit_final(config, block_data.dataset(), BUDGET, validation_fraction=0.2, refit=True)
    assert info.refit is True
    assert len(data.validation) == 0 and len(data.train) == len(block_data.ratings)
    assert len(recommender.history["loss"]) == info.chosen_epochs


def test_baselines_train_once_on_everything(block_data):
    recommender, data, info = fit_final(PRESETS["ease"], block_data.dataset(), BUDGET)
    assert info is None and recommender.seen.nnz == len(block_data.ratings)


def test_seconds_to_reach_the_reference():
    models = {
        "ease": ModelResult("ease", {}, validation={"ndcg@10": 0.30}),
        "fast": ModelResult("two_tower", {}, history={"val_ndcg_at_10": [0.1, 0.31, 0.4]},
                            epoch_seconds=(2.0, 3.0, 4.0)),
        "slow": ModelResult("two_tower", {}, history={"val_ndcg_at_10": [0.1, 0.2]}, epoch_seconds=(1.0, 1.0)),
        # a chooser whose kept candidate ran these epochs, after 11 s of other work (a check, other candidates)
        "chooser": ModelResult("auto", {}, history={"val_ndcg_at_10": [0.1, 0.31, 0.4]},
                               epoch_seconds=(2.0, 3.0, 4.0), train_seconds=20.0),
    }  # fmt: skip
    models = {name: result.to_dict() for name, result in _seconds_to_reach(models, "ease").items()}
    assert models["fast"]["seconds_to_ease"] == 5.0  # reached after the second epoch
    assert models["chooser"]["seconds_to_ease"] == 16.0  # 11 s outside the epochs count first
    assert models["slow"]["seconds_to_ease"] is None
    assert "seconds_to_ease" not in models["ease"]


def test_a_refit_keeps_the_recency_decided_on_the_validation_slice(block_data):
    """The refit has no validation slice: it trains with the recency the first fit decided, and says so."""
    config = dataclasses.replace(PRESETS["fast"], recency="validation", epochs=None, early_stopping_patience=2)
    recommender, _, info = fit_final(config, block_data.dataset(), BUDGET, validation_fraction=0.2, refit=True)
    decided = info.decisions.recency.to_dict()
    assert decided["mode"] == "validation" and decided["plain"] is not None  # decided on the slice
    assert recommender.config.recency == ("on" if decided["used"] else "off")
    # the refit's own record: "on" trains on the weighted stream; "off" has nothing to say
    assert recommender.fit_record().decisions.to_dict() == ({"recency": {**decided, "mode": "on", "plain": None,
        "weighted": None, "gain_se": None}} if decided["used"] else {})  # fmt: skip


def test_a_temporal_validation_split_holds_out_the_latest_ratings(block_data):
    config = dataclasses.replace(PRESETS["fast"], early_stopping_patience=1)
    _, data, info = fit_final(config, block_data.dataset(), BUDGET, validation_fraction=0.25,
                              validation_split="temporal", refit=False)  # fmt: skip
    assert len(data.validation) == 80  # a quarter of the 320 ratings
    assert data.validation.timestamps.min() >= data.train.timestamps.max()
    assert info.decisions.recency.plain is not None  # the default's recency was decided on that slice


def test_a_temporal_or_random_slice_refits_on_everything_by_default(block_data):
    """A temporal slice holds the newest ratings, a random one 10% of the data: the model trains again on them."""
    config = dataclasses.replace(PRESETS["fast"], epochs=None, early_stopping_patience=1)
    recommender, data, info = fit_final(config, block_data.dataset(), BUDGET, validation_fraction=0.25,
                                        validation_split="temporal")  # fmt: skip
    assert info.refit is True and len(data.validation) == 0 and len(data.train) == len(block_data.ratings)
    assert len(recommender.history["loss"]) == info.chosen_epochs
    assert fit_final(config, block_data.dataset(), BUDGET, validation_fraction=0.25)[2].refit is True  # random
    # each user's latest rating: the weights of the best epoch are kept, the slice counted as watched
    kept, data, latest = fit_final(config, block_data.dataset(), BUDGET, validation_split="leave_last")
    assert latest.refit is False and len(data.validation) == block_data.ratings["user_id"].nunique()
    assert len(kept.history["loss"]) > 0 and (kept.seen != data.train.concat(data.validation).to_csr()).nnz == 0


def test_a_blend_refits_with_its_weight_fixed_and_its_epoch_member_at_the_chosen_epochs(block_data):
    fast = to_dict(dataclasses.replace(PRESETS["fast"], epochs=None, early_stopping_patience=1))
    config = BlendConfig(name="mix", first=fast, second=to_dict(PRESETS["ease"]))
    recommender, data, info = fit_final(config, block_data.dataset(), BUDGET, validation_fraction=0.25,
                                        validation_split="temporal")  # fmt: skip
    assert info.refit is True and len(data.validation) == 0
    assert recommender.config.weight == info.decisions.blend.weight  # chosen on the slice, then fixed
    first = recommender.config.first
    assert (first["epochs"], first["early_stopping_patience"]) == (info.chosen_epochs, 0)
    assert len(recommender.members[0].history["loss"]) == info.chosen_epochs


def test_a_blend_of_a_blend_refits_its_inner_epoch_member_at_the_chosen_epochs(block_data):
    fast = to_dict(dataclasses.replace(PRESETS["fast"], epochs=None, early_stopping_patience=1))
    inner = to_dict(BlendConfig(name="inner", first=fast, second=to_dict(PRESETS["ease"])))
    config = BlendConfig(name="outer", first=inner, second={"kind": "popularity", "recent_share": 0.2})
    recommender, data, info = fit_final(config, block_data.dataset(), BUDGET, validation_fraction=0.25,
                                        validation_split="temporal")  # fmt: skip
    assert info.refit is True and len(data.validation) == 0
    # both weights chosen on the slice, then fixed; the outer record holds the inner one
    assert recommender.config.weight == info.decisions.blend.weight
    (inner_record,) = info.decisions.blend.members
    assert recommender.config.first["weight"] == inner_record.weight and inner_record.first == "fast"
    first = recommender.config.first["first"]
    assert (first["epochs"], first["early_stopping_patience"]) == (info.chosen_epochs, 0)
    assert len(recommender.members[0].members[0].history["loss"]) == info.chosen_epochs


def test_what_a_refit_trains():
    two_tower = {"kind": "two_tower", "epochs": None, "early_stopping_patience": 2}
    ease = {"kind": "ease", "l2": 250.0}
    assert _with_epochs(two_tower, 4) == {"kind": "two_tower", "epochs": 4, "early_stopping_patience": 0}
    assert _with_epochs(ease, 4) == ease  # trains once on everything anyway
    blend = {"kind": "blend", "first": ease, "second": two_tower, "weight": 0.3}
    assert _with_epochs(blend, 4) == {**blend, "second": _with_epochs(two_tower, 4)}
    # two members trained in epochs, one curve: no refit, the validated weights are kept
    assert _with_epochs({"kind": "blend", "first": two_tower, "second": two_tower, "weight": 0.5}, 4) is None
    # a blend whose member is a blend: the epochs reach the model trained in epochs inside it
    popularity = {"kind": "popularity", "recent_share": 0.1}
    nested = {"kind": "blend", "first": blend, "second": popularity, "weight": 0.6}
    refit = _with_epochs(nested, 4)
    assert refit == {**nested, "first": {**blend, "second": {**two_tower, "epochs": 4, "early_stopping_patience": 0}}}
    two = {"kind": "blend", "first": two_tower, "second": two_tower, "weight": 0.5}
    assert _with_epochs({"kind": "blend", "first": two, "second": popularity, "weight": 0.5}, 4) is None
    assert _with_epochs({"kind": "blend", "first": blend, "second": two_tower, "weight": 0.5}, 4) is None
