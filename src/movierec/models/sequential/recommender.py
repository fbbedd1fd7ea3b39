"""`SequentialRecommender`: the sequential kind (`SequentialConfig`) behind the `Recommender` contract.

Explanations leave one movie out (`explanation_method` "leave_one_out"): for each of the latest
`LEAVE_ONE_OUT` distinct movies of the user's input sequence, the model is run again on the sequence
without it (every occurrence; the older movies move up, none is added), and the movie's contribution
to a recommended movie is the drop in that movie's score. All of a user's variants are scored in one
batch of the model's own `score_history`, trained weights untouched; attention weights are not used,
as they say where the model looked, not how much a movie moved the score.
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np

from movierec._env import import_tensorflow
from movierec.config import SequentialConfig, resolve_train_config
from movierec.data.interactions import Interactions
from movierec.errors import ConfigError
from movierec.explanation import Method
from movierec.models.export import ExportModule, ServingLabels
from movierec.models.keras_recommender import KerasRecommender, build_history, latest_rows, pad_histories
from movierec.models.sequential.model import SequentialModel
from movierec.models.sequential.warm_start import svd_item_vectors
from movierec.models.sequential.windows import make_sequence_dataset, sequence_windows
from movierec.recommender import FitOptions
from movierec.training import averaging_momentum, make_optimizer, set_seed

tf, tfrs = import_tensorflow()

__all__ = ["SequentialRecommender"]

logger = logging.getLogger(__name__)

LEAVE_ONE_OUT = 50  # the latest distinct movies of an input sequence that `explain` leaves out, one at a time


class SequentialRecommender(KerasRecommender):
    """A next-movie model over each user's latest movies (SASRec with a chosen retrieval loss).

    A known user is scored from their stored movies (the training movies, plus any added with
    `add_seen`), a new user from the movies they name, in the order given (the latest last).

    Args:
        config: Encoder size, loss and optional training overrides.

    Example:
        >>> rec = SequentialRecommender(SequentialConfig(max_length=50))  # doctest: +SKIP
        >>> rec.fit(train, FitOptions(validation=validation, train=TrainConfig(epochs=20)))  # doctest: +SKIP
        >>> rec.recommend(np.array([0]), k=10)  # doctest: +SKIP
    """

    kind = "sequential"
    embed_batch_size = 256  # users encoded at once: attention holds [batch, length, length] scores

    def __init__(self, config: SequentialConfig) -> None:
        super().__init__(config)
        self._recent: Interactions | None = None  # each user's latest known rows

    def _fit(self, data: Interactions, options: FitOptions) -> None:
        cfg = resolve_train_config(options.train, self.config)
        if cfg.strategy != "default":
            # its batches are whole windows of a length that varies per batch: tf.distribute cannot split them
            raise ConfigError(
                f"{self.name}: the sequential kind trains on one device only (train.strategy = 'default')"
            )
        length, latest = self.config.max_length, self.config.windows == "latest"
        targets = _targets(data, length, latest)
        if len(targets) == 0:
            raise ConfigError(f"{self.name}: next-movie training needs a user with at least two training movies")
        if self.config.min_batches_per_epoch and len(targets) < cfg.batch_size * self.config.min_batches_per_epoch:
            batch_size = max(1, -(-len(targets) // self.config.min_batches_per_epoch))  # ceil: at least that many
            logger.info("%s: %d targets: batches of %d, not %d", self.name, len(targets), batch_size, cfg.batch_size)
            cfg = dataclasses.replace(cfg, batch_size=batch_size)
        self.train_config = cfg  # the record shows the batches trained on
        set_seed(cfg.seed)
        self._recent = latest_rows(data, length)
        # how often each movie is a target: the in-batch logQ correction and the popularity sampler read it
        frequency = np.bincount(targets, minlength=data.n_items).astype(np.float64)
        self._new_model()
        self.model = SequentialModel(
            self.config, data.n_users, data.n_items, build_history(self._recent, length), frequency / frequency.sum()
        )
        self.model.compile(
            optimizer=make_optimizer(
                cfg.optimizer, cfg.learning_rate, averaging_momentum(cfg.average_epochs, len(targets) / cfg.batch_size)
            ),
            jit_compile=cfg.jit_compile,
            steps_per_execution=cfg.steps_per_execution,
        )
        self.model.build_for_training()
        if self.config.item_init == "svd":  # before a resumed fit restores its weights (Keras' BackupAndRestore)
            self.model.encoder.item_embedding.embeddings.assign(svd_item_vectors(data, self.config.embedding_dim))
        train_ds = make_sequence_dataset(
            data, length, cfg.batch_size, shuffle=True, seed=cfg.seed, latest_only=latest,
            target_window=self.config.target_window, epoch=self._data_epoch,
        )  # fmt: skip
        self._train(train_ds, data, options, cfg)

    def add_seen(self, interactions: Interactions) -> None:
        """Marks movies as seen and appends them to each user's stored sequence (their latest movies).

        `movierec train` keeps the weights of the best validation epoch; the validation movies are then
        the user's latest known ones, so the stored sequence (and the exported model's) ends with them.
        """
        super().add_seen(interactions)
        if self._recent is None or self.model is None:
            return  # a loaded export: its sequences are fixed
        length = self.config.max_length
        self._recent = latest_rows(self._recent.concat(interactions), length)
        self.model.user_tower.set_history(build_history(self._recent, length))
        self.refresh_embeddings()

    def _embedding_order(self) -> np.ndarray:
        """Users from the fewest stored movies to the most: each batch is read at its own longest history."""
        tower = self._export.user_tower if self._export is not None else self.model.user_tower
        table = np.asarray(tower.history.numpy())[: self.n_users]
        return np.argsort(np.count_nonzero(table, axis=1), kind="stable")

    @property
    def _history_length(self) -> int:
        return int(self.config.max_length)

    @property
    def explanation_method(self) -> Method:
        return "leave_one_out"

    def _histories(self, users: np.ndarray) -> list[np.ndarray]:
        """Each known user's input sequence (oldest first): the stored latest movies the model reads."""
        tower = self._export.user_tower if self._export is not None else self.model.user_tower
        table = np.asarray(tower.history.numpy())[users]  # [batch, max_length] item + 1, 0 pads
        return [row[row > 0].astype(np.int64) - 1 for row in table]

    def _contributions(
        self, histories: list[np.ndarray], items: np.ndarray, users: np.ndarray | None
    ) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
        """The score drop of each recommended movie when one of the latest input movies is left out."""
        length = self.config.max_length
        distinct, values = [], []
        for history, row_items in zip(histories, items):
            sequence = np.asarray(history, np.int64)[-length:]
            recent = _latest_distinct(sequence, LEAVE_ONE_OUT)
            variants = [sequence] + [sequence[sequence != movie] for movie in recent]
            scores = self._scorer.score_history(tf.constant(pad_histories(variants, length))).numpy()
            columns = np.maximum(row_items, 0)
            distinct.append(recent)
            values.append((scores[0, columns][:, None] - scores[1:, columns].T).astype(np.float32))
        return distinct, values, self._popular_rows(users, len(histories))

    def _export_module(self, item_vectors: np.ndarray, labels: ServingLabels | None) -> ExportModule:
        return ExportModule(self.model, item_vectors, history_length=self.config.max_length, labels=labels)


def _targets(data: Interactions, length: int, latest_only: bool) -> np.ndarray:
    """Every movie that is a next-movie target of a training window, once per window it is a target in."""
    flat, begins, ends = sequence_windows(data, length, latest_only)
    lengths = ends - begins
    starts = np.repeat(begins - np.cumsum(lengths) + lengths, lengths)
    return flat[np.arange(int(lengths.sum())) + starts]


def _latest_distinct(sequence: np.ndarray, limit: int) -> np.ndarray:
    """`[<= limit]` the distinct movies of `sequence`, the latest first."""
    backwards = sequence[::-1]
    _, first = np.unique(backwards, return_index=True)
    return backwards[np.sort(first)][:limit]
