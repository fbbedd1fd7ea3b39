"""`KerasRecommender`: what every TFRS model kind shares behind the `Recommender` contract.

A subclass builds its Keras model and training batches in `_fit` and hands them to `_train`; this
class runs Keras `fit` with the callbacks every kind wants (validation metrics, early stopping on
them, backups to resume from, checkpoints, epoch hooks, progress), caches the movie and user vectors,
scores with numpy, and saves / loads the `ExportModule` SavedModel (never a pickle).

Retrieval scores are one numpy product of cached vectors: the user vectors come from the export's
own `embed_users` function in memory (after each refresh) and after a load (once, for every known
user), so a loaded model scores exactly as the in-memory one.
"""

from __future__ import annotations

import abc
import contextlib
import dataclasses
import errno
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from movierec._env import import_tensorflow
from movierec.config import TrainConfig, to_dict
from movierec.data.interactions import Interactions
from movierec.data.sequences import latest_rows
from movierec.errors import ConfigError, NotFittedError
from movierec.models.export import ExportModule, ServingLabels, load_export
from movierec.recommender import (
    TRAINED,
    FitOptions,
    Recommender,
    SharedFit,
    check_users,
    cold_start_fallback,
    histories_to_csr,
)
from movierec.records import FitRecord, PrecisionDecision
from movierec.training import (
    AveragedWeights,
    DataEpoch,
    EpochBackup,
    EpochProgress,
    EpochRandomState,
    EpochTimer,
    StopOnNonFiniteLoss,
    ValidationMetrics,
    learning_rate_callback,
)

tf, tfrs = import_tensorflow()

logger = logging.getLogger(__name__)

__all__ = ["KerasRecommender", "latest_rows", "build_history", "pad_histories"]


def build_history(train: Interactions, length: int) -> np.ndarray:
    """`[n_users, length]` each user's last `length` training items (+1; 0 pads), newest last.

    Ordered by `Interactions.time_order` (ties keep row order), as the sequential kind's windows are.
    """
    order = train.time_order()
    users, items = train.users[order], train.items[order]
    table = np.zeros((train.n_users, length), np.int32)
    starts = np.searchsorted(users, np.arange(train.n_users))
    ends = np.searchsorted(users, np.arange(train.n_users), side="right")
    for user in np.nonzero(ends > starts)[0]:
        recent = items[max(starts[user], ends[user] - length) : ends[user]] + 1
        table[user, length - len(recent) :] = recent
    return table


def pad_histories(histories: list[np.ndarray], length: int) -> np.ndarray:
    """`[n, length]` int32 of item indices + 1, most recent last, 0 = padding."""
    out = np.zeros((len(histories), length), np.int32)
    for row, items in enumerate(histories):
        items = np.asarray(items, np.int64)[-length:]
        if len(items):
            out[row, length - len(items) :] = items + 1
    return out


class KerasRecommender(Recommender):
    """Base of the TFRS model kinds: Keras training, cached vectors, SavedModel export.

    Subclasses implement `_fit` (build `self.model`, call `_train`) and `_export_module`.
    """

    _serving_ids: tuple[np.ndarray, np.ndarray] | None = None  # see set_serving_labels
    embed_batch_size = 4096  # users whose query vectors are computed at once

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        self.model: Any = None
        self._user_vectors: np.ndarray | None = None
        self._item_vectors: np.ndarray | None = None
        self._export: Any = None  # a loaded SavedModel, when restored with load_recommender
        self._module_cache: ExportModule | None = None
        # the epoch the training batches are drawn for; made by _new_model, after any tf.distribute set-up
        self._data_epoch: DataEpoch | None = None

    @property
    def trains_in_epochs(self) -> bool:
        return True

    @property
    def scores_by_retrieval(self) -> bool:
        """Whether a score is the dot product of the cached user and movie vectors."""
        return True

    def fit_record(self) -> FitRecord:
        """Adds, for a loss whose `logits_dtype` is not "float32", the type its products ran in on this CPU."""
        record = super().fit_record()
        task = getattr(self.model, "task", None)  # None on a loaded model: it keeps the record its training wrote
        if task is None or task.config.logits_dtype == "float32":
            return record
        precision = PrecisionDecision(requested=task.config.logits_dtype, used=task.logits_dtype)
        return dataclasses.replace(record, decisions=dataclasses.replace(record.decisions, precision=precision))

    @abc.abstractmethod
    def _export_module(self, item_vectors: np.ndarray, labels: ServingLabels | None) -> ExportModule:
        """The SavedModel wrapper over the current weights and the index `item_vectors`."""

    # ------------------------------------------------------------------ training
    def _train(
        self, train_ds: Any, data: Interactions, options: FitOptions, cfg: TrainConfig, validation_ds: Any = None
    ) -> None:
        """Runs Keras `fit` on `self.model` with the shared callbacks; records history and epoch times.

        With a backup folder, the trained weights and history are saved there once `fit` is done, and a run
        that finds them (killed after training, during the export) loads them instead of training again.
        """
        shared = self._shared_fit_dir(data, options, cfg)
        loaded = self._load_trained(shared) if shared is not None else None
        if loaded is not None:
            self.shared_fit = SharedFit(train_seconds=float(loaded.get("train_seconds", 0.0)))
            logger.info("%s: an identical fit earlier in this run trained these weights; loaded", self.name)
            return
        if options.backup_dir is not None and self._load_trained(Path(options.backup_dir)) is not None:
            logger.info("%s: training had finished before the run was stopped; its weights are loaded", self.name)
            return
        started = time.perf_counter()
        validation = options.validation if options.validation is not None and len(options.validation) else None
        early_stopping = checkpoint = backup = None
        if validation is not None and cfg.early_stopping_patience > 0:
            early_stopping = tf.keras.callbacks.EarlyStopping(
                monitor=cfg.monitor, mode="max", patience=cfg.early_stopping_patience, restore_best_weights=True
            )
        if validation is not None and options.run_dir is not None:
            checkpoint = tf.keras.callbacks.ModelCheckpoint(
                str(Path(options.run_dir) / "checkpoints" / "best.weights"),
                monitor=cfg.monitor,
                mode="max",
                save_best_only=True,
                save_weights_only=True,
            )
        callbacks: list[Any] = [StopOnNonFiniteLoss()]
        schedule = learning_rate_callback(cfg.learning_rate_schedule, cfg.learning_rate, cfg.epochs)
        if schedule is not None:
            callbacks.append(schedule)
        if options.backup_dir is not None:
            # Keras' fault tolerance (weights, optimizer and epoch after each epoch, restored on a restart), plus
            # the history and early stopping's state, so a resumed fit continues the interrupted one. The last
            # epoch's checkpoint stays until the trained weights are saved beside it (`_save_trained`).
            backup = EpochBackup(options.backup_dir, early_stopping=early_stopping, checkpoint=checkpoint)
            callbacks.append(backup)
        if self._data_epoch is not None:  # after the restore: a resumed run draws its epoch's batch order
            callbacks.append(self._data_epoch)
        callbacks.append(EpochRandomState(cfg.seed))  # and its epoch's dropout masks
        averaged = AveragedWeights() if cfg.average_epochs > 0 else None
        if averaged is not None:  # what follows sees the averaged weights at each epoch's end
            callbacks.append(averaged.swap_in)
        if validation is not None:
            callbacks.append(
                ValidationMetrics(self, data, validation, ks=cfg.validation_ks, max_users=cfg.validation_users)
            )
        callbacks += list(options.callbacks)
        if options.epoch_hooks:

            def run_hooks(epoch: int, logs: dict[str, float] | None) -> None:
                if validation is None:
                    self.refresh_embeddings()  # ValidationMetrics does it otherwise: hooks may score users
                for hook in options.epoch_hooks:  # with the batch size trained on: `loss` sums over a batch
                    hook(epoch + 1, {**(logs or {}), "batch_size": float(cfg.batch_size)})

            # after ValidationMetrics, which adds the val_* entries to the logs
            callbacks.append(tf.keras.callbacks.LambdaCallback(on_epoch_end=run_hooks))
        callbacks += [c for c in (early_stopping, checkpoint) if c is not None]
        timer = EpochTimer()
        callbacks += [timer, EpochProgress(self.name, cfg.epochs)]
        if averaged is not None:  # training and the backup go on from the raw weights
            callbacks.append(averaged.swap_back)
        if backup is not None:
            callbacks.append(backup.writer)  # last: the epoch's complete logs and early stopping's decision
        # a resumed run whose saved epochs had stopped training trains no further than that epoch
        epochs = cfg.epochs if backup is None else backup.planned_epochs(cfg.epochs)
        with disk_errors(options.backup_dir):
            result = self.model.fit(
                train_ds, validation_data=validation_ds, epochs=epochs, callbacks=callbacks, verbose=0
            )
        before = {} if backup is None else backup.history_before()  # the epochs trained before a resume
        self.history = {key: list(values) for key, values in before.items()}
        for key, values in result.history.items():
            self.history.setdefault(key, []).extend(float(v) for v in values)
        self.epoch_seconds = before.get("seconds", []) + timer.seconds
        seconds = time.perf_counter() - started
        if options.backup_dir is not None:
            self._save_trained(Path(options.backup_dir), seconds)
        if shared is not None:
            shared.mkdir(parents=True, exist_ok=True)
            self._save_trained(shared, seconds)
        self.refresh_embeddings()

    def _shared_fit_dir(self, data: Interactions, options: FitOptions, cfg: TrainConfig) -> Path | None:
        """This fit's folder in `options.shared_fits`: one per model config (its name aside), budget and data."""
        if options.shared_fits is None:
            return None
        model = {key: value for key, value in to_dict(self.config).items() if key != "name"}
        digest = hashlib.sha1(
            json.dumps(
                {"model": model, "train": to_dict(cfg), "features": options.features is not None}, sort_keys=True
            ).encode()
        )
        for part in (data, options.validation):
            if part is not None:
                for column in (part.users, part.items, part.ratings, part.timestamps):
                    digest.update(np.ascontiguousarray(column).tobytes())
                digest.update(f"{part.n_users},{part.n_items};".encode())
        return Path(options.shared_fits) / digest.hexdigest()[:20]

    def _save_trained(self, backup_dir: Path, train_seconds: float) -> None:
        """Saves the trained weights (the best epoch's, after early stopping), history and seconds into the backup."""
        done = backup_dir / TRAINED
        partial = backup_dir / f"{TRAINED}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        self.model.save_weights(str(partial / "weights"))
        record = {"history": self.history, "epoch_seconds": self.epoch_seconds, "train_seconds": train_seconds}
        (partial / "history.json").write_text(json.dumps(record))
        partial.rename(done)  # complete or absent

    def _load_trained(self, backup_dir: Path) -> dict[str, Any] | None:
        """Loads what `_save_trained` saved, if it is there (training is then done): its record, else None."""
        done = backup_dir / TRAINED
        if not (done / "history.json").is_file():
            return None
        record = json.loads((done / "history.json").read_text())
        self.model.load_weights(str(done / "weights")).assert_existing_objects_matched()
        self.history = {k: [float(v) for v in vals] for k, vals in record["history"].items()}
        self.epoch_seconds = [float(v) for v in record["epoch_seconds"]]
        self.refresh_embeddings()
        return record

    def _new_model(self) -> None:
        """Forgets the export wrapper and any loaded export (call before building a new model and its data)."""
        self._module_cache = None
        self._export = None
        self._data_epoch = DataEpoch()

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
        self._user_vectors = embed_users(
            self._module.embed_users, self.n_users, self.embed_batch_size, self._embedding_order()
        )

    def _embedding_order(self) -> np.ndarray | None:
        """The order users are embedded in (batches of similar users cost less), or None for index order."""
        return None

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
            self._module_cache = self._export_module(self._item_vectors, None)
        return self._module_cache

    @property
    def _scorer(self) -> Any:
        """The TF functions that score: the loaded export, or the wrapper over the in-memory model."""
        return self._export if self._export is not None else self._module

    # ------------------------------------------------------------------ scoring
    def score(self, users: np.ndarray) -> np.ndarray:
        users = check_users(users, self.n_users)
        scores = self._model_scores(users)
        # A user the model knows nothing about (no training rows, no features) has a zero query:
        # every movie ties. Most-popular is the sensible answer (as for EASE and ALS).
        tied = _tied(scores)
        if tied.any():
            sizes = np.where(tied, 0, 1)
            scores = cold_start_fallback(scores, sizes, np.asarray(self.seen.getnnz(axis=0)))
        return scores

    def _model_scores(self, users: np.ndarray) -> np.ndarray:
        """`[batch, n_items]` the model's own scores of checked `users` (no popularity fallback)."""
        user_vectors, item_vectors = self._user_vectors, self._item_vectors
        if self.scores_by_retrieval and user_vectors is not None and item_vectors is not None:
            return user_vectors[users] @ item_vectors.T
        return self._scorer.score(tf.constant(users.astype(np.int32))).numpy()

    def _popular_rows(self, users: np.ndarray | None, batch: int) -> np.ndarray:
        """`[batch]` bool: the known `users` whose scores all tie, so `score` ranks them by popularity."""
        return np.zeros(batch, bool) if users is None else _tied(self._model_scores(users))

    def score_history(self, histories: list[np.ndarray]) -> np.ndarray:
        histories_to_csr(histories, self.n_items)  # raises UnknownIdError on bad item indices
        padded = pad_histories(histories, self._history_length)
        return self._scorer.score_history(tf.constant(padded)).numpy()

    @property
    @abc.abstractmethod
    def _history_length(self) -> int:
        """How many of a new user's latest movies `score_history` reads."""

    def item_embeddings(self) -> np.ndarray | None:
        if self._item_vectors is None and self._export is not None:
            self._item_vectors = self._export.item_embeddings.numpy()
        return self._item_vectors

    # ------------------------------------------------------------------ persistence
    def _save_state(self, directory: Path) -> None:
        if self._export is not None:
            raise RuntimeError("re-saving a loaded export is not supported; copy the directory instead")
        with disk_errors(directory):
            if self._serving_ids is None or self.model is None or self._item_vectors is None:
                self._module.save(directory / "saved_model")
                return
            labels = ServingLabels(user_ids=self._serving_ids[0], item_ids=self._serving_ids[1], seen=self.seen)
            self._export_module(self._item_vectors, labels).save(directory / "saved_model")

    def _load_state(self, directory: Path) -> None:
        self._export = load_export(directory / "saved_model")
        self._item_vectors = self._export.item_embeddings.numpy()
        if self._item_vectors.shape[0] != self.n_items:
            raise ValueError(f"the exported index has {self._item_vectors.shape[0]} movies; expected {self.n_items}")
        self._user_vectors = embed_users(
            self._export.embed_users, self.n_users, self.embed_batch_size, self._embedding_order()
        )


def _tied(scores: np.ndarray) -> np.ndarray:
    """`[batch]` bool: rows whose scores are all equal."""
    return np.asarray(scores.max(axis=1, initial=-np.inf) == scores.min(axis=1, initial=np.inf))


@contextlib.contextmanager
def disk_errors(where: str | Path | None) -> Iterator[None]:
    """TensorFlow's error for a full disk (or quota) while writing under `where`, as the `OSError` it is.

    TensorFlow reports a failed write (ENOSPC, EDQUOT) as a `ResourceExhaustedError` with a long message;
    as an `OSError` it reaches the CLI's one line for machine errors, and callers clean up what was half-written.
    """
    try:
        yield
    except tf.errors.OpError as e:
        text = str(e)
        for code in (errno.ENOSPC, errno.EDQUOT):
            if os.strerror(code) in text:
                raise OSError(code, os.strerror(code), None if where is None else str(where)) from e
        raise


def embed_users(embed: Any, n_users: int, batch_size: int = 4096, order: np.ndarray | None = None) -> np.ndarray:
    """`[n_users, dim]` float32 query vectors of every known user, from an `embed_users` function.

    Users are embedded in batches of `batch_size`, taken in `order` (a permutation of the user
    indices; default index order); row `u` of the result is user `u` whatever the order.
    """
    users = np.arange(n_users, dtype=np.int32) if order is None else np.asarray(order, np.int32)
    if order is not None and not np.array_equal(np.sort(users), np.arange(n_users)):
        raise ValueError(f"order must list each of the {n_users} users once. Received {len(users)} indices")
    out = [embed(tf.constant(users[start : start + batch_size])).numpy() for start in range(0, n_users, batch_size)]
    if not out:
        return np.zeros((0, int(embed(tf.zeros([0], tf.int32)).shape[1])), np.float32)
    vectors = np.concatenate(out).astype(np.float32, copy=False)
    if order is None:
        return vectors
    result = np.empty_like(vectors)
    result[users] = vectors
    return result
