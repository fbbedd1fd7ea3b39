"""`TwoTowerRecommender`: the TFRS two-tower model behind the common `Recommender` contract.

`fit` trains with Keras (epoch hooks for logging, early stopping on validation, checkpoints);
`save` exports a TF SavedModel whose `score` / `score_history` / `top_k` / `embed_users`
functions hold the movie embeddings (the index), so serving needs no Python model code and
no pickles.

Retrieval scores are one numpy product of cached vectors: the user vectors come from the same
`embed_users` function in memory (after each refresh) and after a load (once, for every known
user), so a loaded model scores a user in microseconds, and exactly as the in-memory one.
Rating and re-rank scoring keep running the exported TF functions.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import numpy as np

from movierec._env import import_tensorflow
from movierec.config import TwoTowerConfig, resolve_train_config
from movierec.data.features import Features
from movierec.data.interactions import Interactions
from movierec.data.recency import RecencyDecision, decide_recency, weighted_stream
from movierec.errors import ConfigError, NotFittedError
from movierec.models.export import ExportModule, ServingLabels, load_export
from movierec.models.towers import TowerInputs
from movierec.models.two_tower import TwoTowerModel
from movierec.recommender import FitOptions, Recommender, check_users, cold_start_fallback, histories_to_csr
from movierec.training import (
    EpochProgress,
    EpochTimer,
    StopOnNonFiniteLoss,
    ValidationMetrics,
    make_dataset,
    make_optimizer,
    make_strategy,
    set_seed,
)
from movierec.training.loop import make_sequence_dataset

tf, tfrs = import_tensorflow()

__all__ = ["TwoTowerRecommender", "build_history", "latest_rows"]

logger = logging.getLogger(__name__)


def latest_rows(data: Interactions, length: int) -> Interactions:
    """Each user's last `length` rows by time (ties by item, as `build_history` orders them)."""
    order = np.lexsort((data.items, data.timestamps, data.users))
    users = data.users[order]
    rank_from_end = np.searchsorted(users, users, side="right") - np.arange(len(users))  # 1 = the latest
    return data.subset(order[rank_from_end <= length])


def build_history(train: Interactions, length: int) -> np.ndarray:
    """`[n_users, length]` each user's last `length` training items (+1; 0 pads), newest last.

    Ordered by (user, time, item), as the next-movie windows of `make_sequence_dataset` are.
    """
    order = np.lexsort((train.items, train.timestamps, train.users))
    users, items = train.users[order], train.items[order]
    table = np.zeros((train.n_users, length), np.int32)
    starts = np.searchsorted(users, np.arange(train.n_users))
    ends = np.searchsorted(users, np.arange(train.n_users), side="right")
    for user in np.nonzero(ends > starts)[0]:
        recent = items[max(starts[user], ends[user] - length) : ends[user]] + 1
        table[user, length - len(recent) :] = recent
    return table


class TwoTowerRecommender(Recommender):
    """A TFRS two-tower retrieval model (`TwoTowerModel`) as a `Recommender`.

    Args:
        config: Towers, loss and optional training overrides.

    Example:
        >>> rec = TwoTowerRecommender(PRESETS["model1"])  # doctest: +SKIP
        >>> rec.fit(train, FitOptions(validation=validation, train=TrainConfig(epochs=3)))  # doctest: +SKIP
        >>> rec.recommend(np.array([0]), k=10)  # seen movies excluded  # doctest: +SKIP
    """

    kind = "two_tower"
    _serving_ids: tuple[np.ndarray, np.ndarray] | None = None  # see set_serving_labels

    def __init__(self, config: TwoTowerConfig) -> None:
        super().__init__(config)
        self.model: TwoTowerModel | None = None
        self._user_vectors: np.ndarray | None = None
        self._item_vectors: np.ndarray | None = None
        self._export: Any = None  # a loaded SavedModel, when restored with load_recommender
        self._module_cache: ExportModule | None = None
        self._recent: Interactions | None = None  # each user's latest training rows (history towers)
        self.recency: RecencyDecision | None = None  # whether the last fit counted its latest ratings more

    @property
    def trains_in_epochs(self) -> bool:
        return True

    def fit_record(self) -> dict[str, Any]:
        """`{"recency": ...}` when the config asks for recency weighting (see `movierec.data.recency`)."""
        if self.recency is None or self.config.recency == "off":
            return {}
        return {"recency": self.recency.to_dict()}

    def fit_summary(self) -> str | None:
        if self.recency is None or self.config.recency == "off":
            return None
        return self.recency.summary()

    @property
    def refit_config(self) -> TwoTowerConfig:
        """The config, with recency fixed to what this fit decided (a refit has no validation slice)."""
        if self.recency is None or self.config.recency != "validation":
            return self.config
        return dataclasses.replace(self.config, recency="on" if self.recency.used else "off")

    @property
    def predicts_ratings(self) -> bool:
        return bool(self.config.rating_weight > 0)

    # ------------------------------------------------------------------ training
    def _tower_inputs(self, train: Interactions, features: Features | None) -> tuple[TowerInputs, TowerInputs]:
        user_inputs, item_inputs = TowerInputs(), TowerInputs()
        self._recent = None
        user_inputs.trained = train.user_counts() > 0
        item_inputs.trained = train.item_counts() > 0
        wanted = set(self.config.user_features)
        if features is not None:
            for name, table, card in (
                ("age", features.user_age_bucket, features.n_age_buckets),
                ("gender", features.user_gender, features.n_genders),
                ("occupation", features.user_occupation, features.n_occupations),
            ):
                if name in wanted:
                    user_inputs.categorical[name] = (np.asarray(table), int(card))
            if "genres" in self.config.item_features:
                item_inputs.multi_hot["genres"] = np.asarray(features.item_genres)
            if "year" in self.config.item_features:
                item_inputs.categorical["year"] = (np.asarray(features.item_year_bucket), int(features.n_year_buckets))
        elif wanted - {"history", "time", "sequence"} or self.config.item_features:
            raise ConfigError(f"{self.name}: side features requested but no `features` in the fit options")
        if "time" in wanted:
            times = train.timestamps.astype(np.float64)
            last = np.full(train.n_users, times.max() if len(times) else 0.0)
            order = np.argsort(times, kind="stable")
            last[train.users[order]] = times[order]  # later assignments win: each user's latest time
            user_inputs.last_time = last
            user_inputs.time_range = (float(times.min()), float(times.max())) if len(times) else (0.0, 1.0)
            quantiles = np.linspace(0, 1, self.config.time_buckets + 1)[1:-1]
            user_inputs.time_boundaries = np.unique(np.quantile(times, quantiles)) if len(times) else np.zeros(0)
        if "history" in wanted or "sequence" in wanted:
            self._recent = latest_rows(train, self.config.history_length)
            user_inputs.history = build_history(self._recent, self.config.history_length)
            user_inputs.n_history_items = train.n_items
        return user_inputs, item_inputs

    @property
    def _reads_sequence(self) -> bool:
        return "sequence" in self.config.user_features

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
        if cfg.strategy != "default" and self._reads_sequence:
            # its batches are whole windows of a length that varies per batch: tf.distribute cannot split them
            raise ConfigError(
                f"{self.name}: the 'sequence' tower trains on one device only (train.strategy = 'default')"
            )
        strategy = make_strategy(cfg.strategy)  # before any other TensorFlow work (multi-worker needs that)
        set_seed(cfg.seed)
        user_inputs, item_inputs = self._tower_inputs(data, options.features)
        validation = options.validation if options.validation is not None and len(options.validation) else None
        config = self.config
        self.recency = decide_recency(config.recency, config.recent_share, config.recent_repeats, data, validation)
        # the rows each epoch goes through: the latest ones repeated when recency is used (not the
        # history, the seen movies or the validation metrics, which read `data` as it is)
        stream = weighted_stream(data, config.recent_share, config.recent_repeats) if self.recency.used else data
        if config.recency != "off":
            logger.info("%s: %s", self.name, self.recency.summary())
        counts = stream.item_counts().astype(np.float64)  # logQ: how often each movie appears in the stream
        self._module_cache = None  # a new model needs a new export wrapper
        self._export = None
        with strategy.scope():
            self.model = TwoTowerModel(
                self.config, data.n_users, data.n_items, user_inputs, item_inputs, counts / max(1.0, counts.sum())
            )
            self.model.compile(
                optimizer=make_optimizer(cfg.optimizer, cfg.learning_rate),
                jit_compile=cfg.jit_compile,
                steps_per_execution=cfg.steps_per_execution,
            )
            self.model.build_for_training()
        has_validation = validation is not None
        run_dir = options.run_dir
        callbacks: list[Any] = [StopOnNonFiniteLoss()]
        if options.backup_dir is not None:
            # Keras' own fault tolerance: weights, optimizer and epoch after each epoch, restored on a restart.
            callbacks.append(tf.keras.callbacks.BackupAndRestore(str(options.backup_dir), delete_checkpoint=True))
        if validation is not None:
            callbacks.append(
                ValidationMetrics(self, data, validation, ks=cfg.validation_ks, max_users=cfg.validation_users)
            )
        timer = EpochTimer()
        callbacks += list(options.callbacks)
        if options.epoch_hooks:

            def run_hooks(epoch: int, logs: dict[str, float] | None) -> None:
                if validation is None:
                    self.refresh_embeddings()  # ValidationMetrics does it otherwise: hooks may score users
                for hook in options.epoch_hooks:
                    hook(epoch + 1, dict(logs or {}))

            # after ValidationMetrics, which adds the val_* entries to the logs
            callbacks.append(tf.keras.callbacks.LambdaCallback(on_epoch_end=run_hooks))
        if has_validation and cfg.early_stopping_patience > 0:
            callbacks.append(
                tf.keras.callbacks.EarlyStopping(
                    monitor=cfg.monitor, mode="max", patience=cfg.early_stopping_patience, restore_best_weights=True
                )
            )
        if has_validation and run_dir is not None:
            callbacks.append(
                tf.keras.callbacks.ModelCheckpoint(
                    str(Path(run_dir) / "checkpoints" / "best.weights"),
                    monitor=cfg.monitor,
                    mode="max",
                    save_best_only=True,
                    save_weights_only=True,
                )
            )
        callbacks.append(timer)
        callbacks.append(EpochProgress(self.name, cfg.epochs))
        if self._reads_sequence:
            length = self.config.history_length
            train_ds = make_sequence_dataset(data, length, cfg.batch_size, shuffle=True, seed=cfg.seed)
        else:
            train_ds = make_dataset(stream, cfg.batch_size, shuffle=True, seed=cfg.seed)
        # Keras' own validation pass gives the validation loss, drawn in TensorBoard; a fit that logs
        # nowhere (`movierec train`, tuning trials) skips it: early stopping reads NDCG@10.
        logged = run_dir is not None or bool(options.epoch_hooks)
        val_ds = (
            make_dataset(validation, cfg.batch_size, shuffle=False, seed=cfg.seed)
            if validation is not None and logged
            else None
        )
        result = self.model.fit(train_ds, validation_data=val_ds, epochs=cfg.epochs, callbacks=callbacks, verbose=0)
        self.history = {k: [float(v) for v in vals] for k, vals in result.history.items()}
        self.epoch_seconds = timer.seconds
        self.refresh_embeddings()

    def _learned_arrays(self) -> dict[str, np.ndarray]:
        arrays = {}
        if self._user_vectors is not None:
            arrays["user embeddings"] = self._user_vectors
        if self._item_vectors is not None:
            arrays["movie embeddings"] = self._item_vectors
        return arrays

    def refresh_embeddings(self) -> None:
        """Recomputes the cached user and movie embeddings from the current weights."""
        if self.model is None:
            return
        self._item_vectors = self.model.item_embeddings()
        if self._module_cache is not None:
            # Same towers, new index: update in place so the traced functions are reused.
            self._module_cache.item_embeddings.assign(self._item_vectors)
        # Through the export's own function, so in-memory and loaded user vectors agree bit for bit.
        self._user_vectors = _embed_users(self._module.embed_users, self.n_users)

    def set_serving_labels(self, user_ids: np.ndarray, item_ids: np.ndarray) -> None:
        """Ids in index order: the next `save` adds TF Serving signatures over string ids."""
        if len(user_ids) != self.n_users or len(item_ids) != self.n_items:
            raise ConfigError(
                f"labels must match the model: {self.n_users} users and {self.n_items} items. "
                f"Received: {len(user_ids)} and {len(item_ids)}"
            )
        self._serving_ids = (np.asarray(user_ids), np.asarray(item_ids))

    @property
    def _module(self) -> ExportModule:
        """The export wrapper over the current weights (built on first use after each refresh)."""
        if self._module_cache is None:
            if self.model is None or self._item_vectors is None:
                raise NotFittedError(f"{self.name} is not fitted; call fit() first")
            self._module_cache = ExportModule(self.model, self._item_vectors, self.config)
        return self._module_cache

    # ------------------------------------------------------------------ scoring
    def score(self, users: np.ndarray) -> np.ndarray:
        users = check_users(users, self.n_users)
        user_vectors, item_vectors = self._user_vectors, self._item_vectors
        if self.config.scoring == "retrieval" and user_vectors is not None and item_vectors is not None:
            scores = user_vectors[users] @ item_vectors.T
        else:
            module = self._export if self._export is not None else self._module
            scores = module.score(tf.constant(users.astype(np.int32))).numpy()
        # A user the towers know nothing about (no training rows, no features) has a zero query:
        # every movie ties. Most-popular is the sensible answer (as for EASE and ALS).
        tied = scores.max(axis=1, initial=-np.inf) == scores.min(axis=1, initial=np.inf)
        if tied.any():
            sizes = np.where(tied, 0, 1)
            scores = cold_start_fallback(scores, sizes, np.asarray(self.seen.getnnz(axis=0)))
        return scores

    def predict_ratings(self, users: np.ndarray, items: np.ndarray, batch_size: int = 65536) -> np.ndarray:
        """`[n]` predicted ratings of (user, item) pairs; needs a rating head (rating_weight > 0)."""
        if not self.predicts_ratings:
            raise NotImplementedError(f"{self.name} has no rating head")
        module = self._export if self._export is not None else self._module
        users = np.asarray(users, np.int32)
        items = np.asarray(items, np.int32)
        out = [
            module.predict_rating(
                tf.constant(users[i : i + batch_size]), tf.constant(items[i : i + batch_size])
            ).numpy()
            for i in range(0, len(users), batch_size)
        ]
        return np.concatenate(out) if out else np.zeros(0, np.float32)

    def score_history(self, histories: list[np.ndarray]) -> np.ndarray:
        histories_to_csr(histories, self.n_items)  # raises UnknownIdError on bad item indices
        length = self.config.history_length
        vectors = self._item_vectors
        reads_history = "history" in self.config.user_features or self._reads_sequence
        if self.config.scoring == "retrieval" and not reads_history and vectors is not None:
            # Without a history tower a new user is the mean of the movies they named (as the export does).
            query = np.zeros((len(histories), vectors.shape[1]), np.float32)
            for row, items in enumerate(histories):
                items = np.asarray(items, np.int64)[-length:]
                if len(items):
                    query[row] = vectors[items].sum(axis=0) / np.float32(len(items))
            return query @ vectors.T
        padded = _pad_histories(histories, length)
        if self._export is not None:
            return self._export.score_history(tf.constant(padded)).numpy()
        return self._module.score_history(tf.constant(padded)).numpy()

    def item_embeddings(self) -> np.ndarray | None:
        if self._item_vectors is None and self._export is not None:
            self._item_vectors = self._export.item_embeddings.numpy()
        return self._item_vectors

    # ------------------------------------------------------------------ persistence
    def _save_state(self, directory: Path) -> None:
        if self._export is not None:
            raise RuntimeError("re-saving a loaded export is not supported; copy the directory instead")
        if self._serving_ids is None or self.model is None or self._item_vectors is None:
            self._module.save(directory / "saved_model")
            return
        labels = ServingLabels(user_ids=self._serving_ids[0], item_ids=self._serving_ids[1], seen=self.seen)
        ExportModule(self.model, self._item_vectors, self.config, labels).save(directory / "saved_model")

    def _load_state(self, directory: Path) -> None:
        self._export = load_export(directory / "saved_model")
        self._item_vectors = self._export.item_embeddings.numpy()
        if self._item_vectors.shape[0] != self.n_items:
            raise ValueError(f"the exported index has {self._item_vectors.shape[0]} movies; expected {self.n_items}")
        if hasattr(self._export, "embed_users"):  # exports written before embed_users score through TF
            self._user_vectors = _embed_users(self._export.embed_users, self.n_users)


def _embed_users(embed, n_users: int, batch_size: int = 4096) -> np.ndarray:
    """`[n_users, dim]` float32 query vectors of every known user, from an `embed_users` function."""
    out = [
        embed(tf.range(start, min(start + batch_size, n_users), dtype=tf.int32)).numpy()
        for start in range(0, n_users, batch_size)
    ]
    if not out:
        return np.zeros((0, int(embed(tf.zeros([0], tf.int32)).shape[1])), np.float32)
    return np.concatenate(out).astype(np.float32, copy=False)


def _pad_histories(histories: list[np.ndarray], length: int) -> np.ndarray:
    """`[n, length]` int32 of item indices + 1, most recent last, 0 = padding."""
    out = np.zeros((len(histories), length), np.int32)
    for row, items in enumerate(histories):
        items = np.asarray(items, np.int64)[-length:]
        if len(items):
            out[row, length - len(items) :] = items + 1
    return out
