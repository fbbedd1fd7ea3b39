"""`TwoTowerRecommender`: the TFRS two-tower model behind the common `Recommender` contract.

Training, cached vectors, scoring and the SavedModel export are `KerasRecommender`'s; this class
adds the towers' side tables, the recency decision and the rating head. Rating and re-rank scoring
run the exported TF functions.

Explanations are an approximation (`explanation_method` "similarity"): a known user's vector is
learned for the user, not computed from the movies they watched, so a history movie j is credited
`y_jᵀ y_i / n`, its share of a query that would be the mean of the user's n movies. For a new user
of a model without a history feature that mean is the query itself, and the split is exact.
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np

from movierec._env import import_tensorflow
from movierec.config import TwoTowerConfig, resolve_train_config, to_dict
from movierec.data.features import Features
from movierec.data.interactions import Interactions
from movierec.data.query_time import decide_query_time
from movierec.data.recency import decide_recency, weighted_stream
from movierec.errors import ConfigError, NotFittedError
from movierec.explanation import Method
from movierec.models.export import ExportModule, ServingLabels
from movierec.models.keras_recommender import KerasRecommender, build_history, latest_rows
from movierec.models.towers import TowerInputs
from movierec.models.two_tower import TwoTowerModel
from movierec.recommender import FitOptions, histories_to_csr
from movierec.records import FitRecord, QueryTimeDecision, RecencyDecision
from movierec.training import averaging_momentum, make_dataset, make_optimizer, make_strategy, set_seed

tf, tfrs = import_tensorflow()

__all__ = ["TwoTowerRecommender"]

logger = logging.getLogger(__name__)


class TwoTowerRecommender(KerasRecommender):
    """A TFRS two-tower retrieval model (`TwoTowerModel`) as a `Recommender`.

    Args:
        config: Towers, loss and optional training overrides.

    Example:
        >>> rec = TwoTowerRecommender(PRESETS["model1"])  # doctest: +SKIP
        >>> rec.fit(train, FitOptions(validation=validation, train=TrainConfig(epochs=3)))  # doctest: +SKIP
        >>> rec.recommend(np.array([0]), k=10)  # seen movies excluded  # doctest: +SKIP
    """

    kind = "two_tower"

    def __init__(self, config: TwoTowerConfig) -> None:
        super().__init__(config)
        self._recent: Interactions | None = None  # each user's latest training rows (history towers)
        self.recency: RecencyDecision | None = None  # whether the last fit counted its latest ratings more
        self.query_time: QueryTimeDecision | None = None  # query_time "validation": what the last fit decided
        self.built_config: TwoTowerConfig | None = None  # the config the last fit built its towers from

    def fit_record(self) -> FitRecord:
        """Adds the recency decision when the config asks for recency weighting (see `movierec.data.recency`)
        and the query time decided on the validation slice (`movierec.data.query_time`); the refit config then
        has both fixed to what this fit decided (a refit has no validation slice)."""
        record = super().fit_record()
        recency = self.recency if self.recency is not None and self.config.recency != "off" else None
        if recency is None and self.query_time is None:
            return record
        refit = self.built_config if self.built_config is not None else self.config
        if recency is not None and self.config.recency == "validation":
            refit = dataclasses.replace(refit, recency="on" if recency.used else "off")
        decisions = dataclasses.replace(record.decisions, recency=recency, query_time=self.query_time)
        return dataclasses.replace(record, refit_config=to_dict(refit), decisions=decisions)

    def _decide_config(self, data: Interactions, validation: Interactions | None) -> TwoTowerConfig:
        """The config the towers are built from: `query_time = "validation"` decided on the slice."""
        config, self.query_time = self.config, None
        if config.query_time == "validation":
            self.query_time = decide_query_time(data, validation)
            logger.info("%s: %s", self.name, self.query_time.summary())
            if self.query_time.used:
                config = dataclasses.replace(config, query_time="now")
            else:
                features = tuple(f for f in config.user_features if f != "time")
                config = dataclasses.replace(config, query_time="user", user_features=features)
        self.built_config = config
        return config

    @property
    def predicts_ratings(self) -> bool:
        return bool(self.config.rating_weight > 0)

    # ------------------------------------------------------------------ training
    def _tower_inputs(
        self, train: Interactions, features: Features | None, config: TwoTowerConfig
    ) -> tuple[TowerInputs, TowerInputs]:
        user_inputs, item_inputs = TowerInputs(), TowerInputs()
        self._recent = None
        user_inputs.trained = train.user_counts() > 0
        item_inputs.trained = train.item_counts() > 0
        wanted = set(config.user_features)
        if features is not None:
            for name, table, card in (
                ("age", features.user_age_bucket, features.n_age_buckets),
                ("gender", features.user_gender, features.n_genders),
                ("occupation", features.user_occupation, features.n_occupations),
            ):
                if name in wanted:
                    user_inputs.categorical[name] = (np.asarray(table), int(card))
            if "genres" in config.item_features:
                item_inputs.multi_hot["genres"] = np.asarray(features.item_genres)
            if "year" in config.item_features:
                item_inputs.categorical["year"] = (np.asarray(features.item_year_bucket), int(features.n_year_buckets))
        elif wanted - {"history", "time"} or config.item_features:
            raise ConfigError(f"{self.name}: side features requested but no `features` in the fit options")
        if "time" in wanted:
            times = train.timestamps.astype(np.float64)
            # the time each user's query is asked at: the end of the training data ("now", and for new users
            # always), or with query_time "user" each user's latest training rating
            last = np.full(train.n_users, times.max() if len(times) else 0.0)
            if config.query_time == "user":
                order = np.argsort(times, kind="stable")
                last[train.users[order]] = times[order]  # later assignments win: each user's latest time
            user_inputs.last_time = last
            user_inputs.time_range = (float(times.min()), float(times.max())) if len(times) else (0.0, 1.0)
            quantiles = np.linspace(0, 1, config.time_buckets + 1)[1:-1]
            user_inputs.time_boundaries = np.unique(np.quantile(times, quantiles)) if len(times) else np.zeros(0)
        if "history" in wanted:
            self._recent = latest_rows(train, config.history_length)
            user_inputs.history = build_history(self._recent, config.history_length)
            user_inputs.n_history_items = train.n_items
        return user_inputs, item_inputs

    def add_seen(self, interactions: Interactions) -> None:
        """Marks movies as seen and, for a tower that reads each user's latest movies, adds them to the history.

        `movierec train` keeps the weights of the best validation epoch; the validation movies are then
        the user's latest known ones too, so the stored history (and the exported model's) includes them.
        """
        super().add_seen(interactions)
        if self._recent is None or self.model is None:
            return  # no history, or a loaded export (its history is fixed)
        length = self.config.history_length
        self._recent = latest_rows(self._recent.concat(interactions), length)
        self.model.user_tower.set_history(build_history(self._recent, length))
        self.refresh_embeddings()

    def _fit(self, data: Interactions, options: FitOptions) -> None:
        cfg = resolve_train_config(options.train, self.config)
        self.train_config = cfg
        if cfg.strategy != "default" and self.config.rating_weight > 0:
            raise ConfigError(f"{self.name}: the rating head trains on one device only (train.strategy = 'default')")
        strategy = make_strategy(cfg.strategy)  # before any other TensorFlow work (multi-worker needs that)
        set_seed(cfg.seed)
        validation = options.validation if options.validation is not None and len(options.validation) else None
        config = self._decide_config(data, validation)
        user_inputs, item_inputs = self._tower_inputs(data, options.features, config)
        self.recency = decide_recency(config.recency, config.recent_share, config.recent_repeats, data, validation)
        # the rows each epoch goes through: the latest ones repeated when recency is used (not the
        # history, the seen movies or the validation metrics, which read `data` as it is)
        stream = weighted_stream(data, config.recent_share, config.recent_repeats) if self.recency.used else data
        if config.recency != "off":
            logger.info("%s: %s", self.name, self.recency.summary())
        counts = stream.item_counts().astype(np.float64)  # logQ: how often each movie appears in the stream
        self._new_model()
        with strategy.scope():
            self.model = TwoTowerModel(
                config, data.n_users, data.n_items, user_inputs, item_inputs, counts / max(1.0, counts.sum())
            )
            self.model.compile(
                optimizer=make_optimizer(
                    cfg.optimizer,
                    cfg.learning_rate,
                    averaging_momentum(cfg.average_epochs, len(stream) / cfg.batch_size),
                ),
                jit_compile=cfg.jit_compile,
                steps_per_execution=cfg.steps_per_execution,
            )
            self.model.build_for_training()
        train_ds = make_dataset(stream, cfg.batch_size, shuffle=True, seed=cfg.seed, epoch=self._data_epoch)
        # Keras' own validation pass gives the validation loss, drawn in TensorBoard; a fit that logs
        # nowhere (`movierec train`, tuning trials) skips it: early stopping reads NDCG@10.
        logged = options.run_dir is not None or bool(options.epoch_hooks)
        val_ds = (
            make_dataset(validation, cfg.batch_size, shuffle=False, seed=cfg.seed)
            if validation is not None and logged
            else None
        )
        self._train(train_ds, data, options, cfg, validation_ds=val_ds)

    @property
    def _history_length(self) -> int:
        return int(self.config.history_length)

    @property
    def scores_by_retrieval(self) -> bool:
        return self.config.scoring == "retrieval"

    def _export_module(self, item_vectors: np.ndarray, labels: ServingLabels | None) -> ExportModule:
        config = self.config
        return ExportModule(
            self.model,
            item_vectors,
            history_length=config.history_length if "history" in config.user_features else None,
            scoring=config.scoring,
            rerank_top=config.rerank_top,
            labels=labels,
        )

    def predict_ratings(self, users: np.ndarray, items: np.ndarray, batch_size: int = 65536) -> np.ndarray:
        """`[n]` predicted ratings of (user, item) pairs; needs a rating head (rating_weight > 0)."""
        if not self.predicts_ratings:
            raise NotImplementedError(f"{self.name} has no rating head")
        module = self._scorer
        users = np.asarray(users, np.int32)
        items = np.asarray(items, np.int32)
        out = [
            module.predict_rating(
                tf.constant(users[i : i + batch_size]), tf.constant(items[i : i + batch_size])
            ).numpy()
            for i in range(0, len(users), batch_size)
        ]
        return np.concatenate(out) if out else np.zeros(0, np.float32)

    @property
    def explanation_method(self) -> Method:
        return "similarity"

    def _contributions(
        self, histories: list[np.ndarray], items: np.ndarray, users: np.ndarray | None
    ) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
        """`y_jᵀ y_i` times the share of movie j in the history (see the module docstring)."""
        vectors = self.item_embeddings()
        if vectors is None:
            raise NotFittedError(f"{self.name} is not fitted; call fit() first")
        distinct, values = [], []
        for history, row_items in zip(histories, items):
            if users is None:  # a new user's latest movies, as `score_history` reads them
                history = np.asarray(history, np.int64)[-self.config.history_length :]
            movies, counts = np.unique(history, return_counts=True)
            share = counts.astype(np.float32) / np.float32(max(1, len(history)))
            distinct.append(movies)
            values.append((vectors[np.maximum(row_items, 0)] @ vectors[movies].T) * share[None, :])
        return distinct, values, self._popular_rows(users, len(histories))

    def score_history(self, histories: list[np.ndarray]) -> np.ndarray:
        vectors = self._item_vectors
        if self.config.scoring == "retrieval" and "history" not in self.config.user_features and vectors is not None:
            # Without a history tower a new user is the mean of the movies they named (as the export does).
            histories_to_csr(histories, self.n_items)  # raises UnknownIdError on bad item indices
            query = np.zeros((len(histories), vectors.shape[1]), np.float32)
            for row, items in enumerate(histories):
                items = np.asarray(items, np.int64)[-self.config.history_length :]
                if len(items):
                    query[row] = vectors[items].sum(axis=0) / np.float32(len(items))
            return query @ vectors.T
        return super().score_history(histories)
