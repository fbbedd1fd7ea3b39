"""The one contract shared by the TFRS models and every baseline.

Evaluation, reports, the CLI and serving only talk to `Recommender`, so a most-popular
baseline and a two-tower TFRS model are interchangeable. A subclass is built from its
config alone and implements `_fit`, `score`, `_learned_arrays` and the two persistence
hooks; everything run-specific (validation slice, side features, budget, run folder,
callbacks) reaches it through `FitOptions` (LensKit's `Trainable.train(data, options)`).

`fit` remembers what each user has seen, so `recommend` excludes seen items by default,
and checks the learned arrays for NaN (implicit's `ModelFitError`). `explain` says, for each
recommended item, which items of the user's history raise its score and by how much; a kind
implements `_contributions` and names its `explanation_method` (see `movierec.explanation`).

Saved layout (a directory): `recommender.json` (`kind`, sizes, config), `seen.npz` (the
fit data as a sparse matrix) and whatever the subclass writes (numpy `.npz`, a TF
SavedModel); never pickles. `movierec.registry.load_recommender` restores any kind.
"""

from __future__ import annotations

import abc
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, overload

import numpy as np
import scipy.sparse as sp

from movierec._checks import check_k
from movierec._io import atomic_dir
from movierec.config import TrainConfig, to_dict
from movierec.data.features import Features
from movierec.data.interactions import Interactions
from movierec.errors import ConfigError, ModelFitError, NotExplainableError, NotFittedError, UnknownIdError
from movierec.explanation import DEFAULT_TOP, Because, Method, check_slots, stack_because
from movierec.ranking import rank_rows, top_k
from movierec.records import FitRecord
from movierec.user_rows import SCORE_BUDGET, check_users, cold_start_fallback, histories_to_csr, users_per_batch

__all__ = [  # the user-row helpers are `movierec.user_rows`'s, re-exported where kinds have always found them
    "SCORE_BUDGET",
    "FitOptions",
    "Recommender",
    "check_users",
    "histories_to_csr",
    "cold_start_fallback",
    "users_per_batch",
    "SharedFit",
    "TRAINED",
]

TRAINED = "trained"  # a finished fit's weights and history, in its FitOptions.backup_dir (until the export)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FitOptions:
    """What one training run needs besides the data; the recommender's config stays untouched.

    Example:
        >>> FitOptions(train=TrainConfig(epochs=3)).train.epochs
        3
    """

    validation: Interactions | None = None  # held-out slice of the training data (early stopping); never test
    features: Features | None = None  # side features aligned with the vocabulary (models that use them)
    train: TrainConfig = field(default_factory=TrainConfig)  # budget of trainable models; model overrides win
    run_dir: Path | None = None  # checkpoints of trainable models go here (None: none)
    callbacks: tuple[Any, ...] = ()  # extra Keras callbacks (TFRS models only)
    # called after each epoch with (epoch from 1, the epoch's logs: loss summed over a batch, val_* metrics, and
    # batch_size, the targets a batch held); plain Python, so logging and progress need no TensorFlow
    epoch_hooks: tuple[Callable[[int, dict[str, float]], None], ...] = ()
    # trainable models back up their state here after each epoch; a fit killed midway and started again
    # with the same backup_dir (and the same data and config) resumes from the last finished epoch; a finished
    # fit keeps its weights in backup_dir/TRAINED, so a run killed while exporting loads them instead of training
    backup_dir: Path | None = None
    # trainable models leave each finished fit here (a folder per model config, budget and data), and a fit that
    # finds its own there loads the weights and curves instead of training: a compare that trains the same model
    # twice (`sequential`, and the default's sequential member) trains it once. Training is seeded, so the loaded
    # fit is the one this fit would have made (compare records show the two curves equal to the last digit).
    shared_fits: Path | None = None


@dataclass(frozen=True)
class SharedFit:
    """A fit that loaded its weights from `FitOptions.shared_fits` instead of training.

    Example:
        >>> SharedFit(train_seconds=12.5).train_seconds
        12.5
    """

    train_seconds: float  # what training them took in the fit that saved them


class Recommender(abc.ABC):
    """Base class: fit on interactions, score all items for users, recommend top-k.

    Subclasses set `kind` (the registry key) and take a frozen config dataclass. All user
    and item arguments are integer indices from `movierec.data.Vocab`.

    Attributes:
        config: The frozen config the recommender was built from.
        n_users, n_items: Vocabulary sizes seen by `fit`.
        seen: `[n_users, n_items]` binary CSR of the fit data; `recommend` excludes it.
        history: Per-epoch training curves (`loss`, `val_ndcg_at_10`, ...); empty for closed forms.
        epoch_seconds: Wall time of each epoch (or sweep).
        train_config: The budget actually used (model overrides applied), or None.

    Example:
        >>> rec = build_recommender(PopularityConfig()).fit(train)   # doctest: +SKIP
        >>> items, scores = rec.recommend(np.array([0, 1]), k=10)    # seen items excluded  # doctest: +SKIP
    """

    kind: ClassVar[str] = ""

    def __init__(self, config: Any) -> None:
        self.config = config
        self.n_users = 0
        self.n_items = 0
        self.seen: sp.csr_matrix = sp.csr_matrix((0, 0), dtype=np.float32)
        self.history: dict[str, list[float]] = {}
        self.epoch_seconds: list[float] = []
        self.train_config: TrainConfig | None = None
        self.shared_fit: SharedFit | None = None  # set when `fit` loaded an identical earlier fit (shared_fits)
        self._is_fitted = False

    @property
    def name(self) -> str:
        return str(getattr(self.config, "name", self.kind))

    @property
    def trains_in_epochs(self) -> bool:
        """Whether `fit` runs epochs under a `TrainConfig` budget (and calls `FitOptions.epoch_hooks`)."""
        return False

    @property
    def predicts_ratings(self) -> bool:
        """Whether `predict_ratings` is meaningful (models with a rating head)."""
        return False

    @property
    def is_fitted(self) -> bool:
        """True after a successful `fit` or a load."""
        return self._is_fitted

    def fit_record(self) -> FitRecord:
        """What the last `fit` produced besides the weights (`movierec.records.FitRecord`).

        The model trained (this one; a chooser such as `auto` gives the candidate it kept), its curves, the
        config that trains it again without a validation slice, and what the fit decided: nothing for most
        models, `recency` for a two-tower model that weighs its latest ratings, `selection` / `choice` for the
        choosers. The one hook for run records (`results.json`, `model.json`) and what `train` prints.

        Raises:
            NotFittedError: before `fit` (or a load).
        """
        self._check_fitted()
        return FitRecord(
            model=self.name,
            kind=self.kind,
            refit_config=to_dict(self.config),
            history={key: [float(v) for v in values] for key, values in self.history.items()},
            epoch_seconds=tuple(float(s) for s in self.epoch_seconds),
            train_config=to_dict(self.train_config) if self.train_config is not None else None,
        )

    # --------------------------------------------------------------- training
    def fit(self, data: Interactions, options: FitOptions | None = None) -> Recommender:
        """Learns from `data`; may read `options.validation` (never test) for early stopping.

        Raises:
            ModelFitError: if a learned array holds NaN or infinite values.
        """
        options = options if options is not None else FitOptions()
        self._is_fitted = False
        self.shared_fit = None
        self.n_users, self.n_items = data.n_users, data.n_items
        self.seen = data.to_csr()
        self._fit(data, options)
        for array_name, values in self._learned_arrays().items():
            bad = int(np.size(values) - np.isfinite(values).sum())
            if bad:
                raise ModelFitError(
                    f"{self.name}: fit produced {bad} non-finite value(s) in {array_name}; "
                    "lower the learning rate or raise the regularization"
                )
        self._is_fitted = True
        return self

    def add_seen(self, interactions: Interactions) -> None:
        """Marks more items as seen (excluded by `recommend`, read as history by EASE/ALS) without refitting.

        `movierec train` keeps the weights of the best validation epoch rather than refitting on
        everything; the validation slice is still what those users watched.
        """
        self._check_fitted()
        extra = interactions.to_csr()
        if extra.shape != self.seen.shape:
            raise ConfigError(f"`interactions` must be {self.seen.shape} like the fit data. Received: {extra.shape}")
        merged = (self.seen + extra).tocsr()
        merged.data[:] = 1.0
        self.seen = merged

    @abc.abstractmethod
    def _fit(self, data: Interactions, options: FitOptions) -> None:
        """Learns the state; `n_users`, `n_items` and `seen` are already set."""

    @abc.abstractmethod
    def _learned_arrays(self) -> dict[str, np.ndarray]:
        """The learned arrays, by name, checked for NaN after `fit`."""

    @abc.abstractmethod
    def score(self, users: np.ndarray) -> np.ndarray:
        """Scores every item for each user.

        Args:
            users: `[batch]` user indices.

        Returns:
            `[batch, n_items]` float32 scores; higher is better. Seen items are not masked.
        """

    def score_history(self, histories: list[np.ndarray]) -> np.ndarray:
        """Scores every item for users not seen in training, from the items they liked.

        Args:
            histories: One `[n_i]` array of item indices per new user, oldest first.

        Returns:
            `[len(histories), n_items]` float32 scores.
        """
        raise NotImplementedError(f"{self.kind} cannot score users from a history")

    def predict_ratings(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """`[n]` predicted ratings of (user, item) pairs; only where `predicts_ratings`."""
        raise NotImplementedError(f"{self.name} does not predict ratings")

    def item_embeddings(self) -> np.ndarray | None:
        """`[n_items, dim]` item vectors used by `similar_items`, or None."""
        return None

    # --------------------------------------------------------------- recommending
    @overload
    def recommend(
        self,
        users: np.ndarray,
        k: int,
        *,
        exclude_seen: bool = ...,
        items: np.ndarray | None = ...,
        filter_items: np.ndarray | None = ...,
        batch_size: int | None = ...,
        explain: Literal[False] = ...,
        top: int = ...,
    ) -> tuple[np.ndarray, np.ndarray]: ...

    @overload
    def recommend(
        self,
        users: np.ndarray,
        k: int,
        *,
        exclude_seen: bool = ...,
        items: np.ndarray | None = ...,
        filter_items: np.ndarray | None = ...,
        batch_size: int | None = ...,
        explain: Literal[True],
        top: int = ...,
    ) -> tuple[np.ndarray, np.ndarray, Because]: ...

    def recommend(
        self,
        users: np.ndarray,
        k: int,
        *,
        exclude_seen: bool = True,
        items: np.ndarray | None = None,
        filter_items: np.ndarray | None = None,
        batch_size: int | None = None,
        explain: bool = False,
        top: int = DEFAULT_TOP,
    ) -> tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, Because]:
        """Top-k items per user, best first.

        Args:
            users: `[batch]` user indices.
            k: Number of items per user (capped at `n_items`).
            exclude_seen: Never recommend an item the user had in the fit data.
            items: Only recommend among these item indices (None: every item).
            filter_items: Never recommend these item indices.
            batch_size: Users scored at once; None keeps a batch's scores near `SCORE_BUDGET`.
            explain: Also say why: a third element, `explain(users, items, top=top)`'s `Because`.
            top: With `explain`, history items named per recommended item.

        Returns:
            `(items, scores)`, both `[batch, k]`; where fewer than k items are allowed,
            the tail has item -1 and score -inf. With `explain`, `(items, scores, because)`.
        """
        self._check_fitted()
        users = check_users(users, self.n_users)
        k = check_k(k)
        blocked = self._blocked(items, filter_items)
        out_items, out_scores = [], []
        batch_size = users_per_batch(self.n_items) if batch_size is None else check_k(batch_size, "batch_size")
        for start in range(0, len(users), batch_size):
            chunk = users[start : start + batch_size]
            exclude = self.seen[chunk] if exclude_seen else None
            chunk_items, chunk_scores = rank_rows(self.score(chunk), k, exclude=exclude, blocked=blocked)
            out_items.append(chunk_items)
            out_scores.append(chunk_scores)
        if not out_items:
            width = min(k, self.n_items)
            out_items, out_scores = [np.zeros((0, width), np.int64)], [np.zeros((0, width), np.float32)]
        ranked, scores = np.concatenate(out_items), np.concatenate(out_scores)
        if explain:
            return ranked, scores, self.explain(users, ranked, top=top)
        return ranked, scores

    @overload
    def recommend_history(
        self,
        histories: list[np.ndarray],
        k: int,
        *,
        exclude_history: bool = ...,
        items: np.ndarray | None = ...,
        filter_items: np.ndarray | None = ...,
        explain: Literal[False] = ...,
        top: int = ...,
    ) -> tuple[np.ndarray, np.ndarray]: ...

    @overload
    def recommend_history(
        self,
        histories: list[np.ndarray],
        k: int,
        *,
        exclude_history: bool = ...,
        items: np.ndarray | None = ...,
        filter_items: np.ndarray | None = ...,
        explain: Literal[True],
        top: int = ...,
    ) -> tuple[np.ndarray, np.ndarray, Because]: ...

    def recommend_history(
        self,
        histories: list[np.ndarray],
        k: int,
        *,
        exclude_history: bool = True,
        items: np.ndarray | None = None,
        filter_items: np.ndarray | None = None,
        explain: bool = False,
        top: int = DEFAULT_TOP,
    ) -> tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, Because]:
        """Top-k items for users not in the fit data, from the items they liked (see `recommend`).

        With `explain`, `(items, scores, explain_history(histories, items, top=top))`.
        """
        self._check_fitted()
        k = check_k(k)
        rows = histories_to_csr(histories, self.n_items)
        scores = self.score_history(histories)
        ranked, values = rank_rows(
            scores, k, exclude=rows if exclude_history else None, blocked=self._blocked(items, filter_items)
        )
        if explain:
            return ranked, values, self.explain_history(histories, ranked, top=top)
        return ranked, values

    # --------------------------------------------------------------- explaining
    @property
    def explanation_method(self) -> Method:
        """How `explain` measures a history item's contribution (see `movierec.explanation`).

        Raises:
            NotExplainableError: for a kind that cannot explain its scores.
        """
        raise NotExplainableError(f"{self.kind} cannot say why it recommends an item (no explanation method)")

    def explain(self, users: np.ndarray, items: np.ndarray, *, top: int = DEFAULT_TOP) -> Because:
        """For each user and each of their items, the history items that raise its score most, and by how much.

        Args:
            users: `[batch]` user indices.
            items: `[batch, k]` item indices to explain (usually `recommend`'s); -1 marks an empty slot.
            top: History items named per item, at most.

        Returns:
            A `Because`: `[batch, k, top]` history items (-1 pads) and their positive contributions.

        Raises:
            NotExplainableError: for a kind that cannot explain its scores.
        """
        self._check_fitted()
        users = check_users(users, self.n_users)
        slots = check_slots(items, len(users), self.n_items)
        top = check_k(top, "top")
        method = self.explanation_method
        histories, values, popular = self._contributions(self._histories(users), slots, users)
        return stack_because(histories, values, slots, popular, method, top)

    def explain_history(self, histories: list[np.ndarray], items: np.ndarray, *, top: int = DEFAULT_TOP) -> Because:
        """`explain` for users not in the fit data, from the items they liked (as `score_history` reads them)."""
        self._check_fitted()
        histories_to_csr(histories, self.n_items)  # raises UnknownIdError on bad item indices
        slots = check_slots(items, len(histories), self.n_items)
        top = check_k(top, "top")
        method = self.explanation_method
        rows = [np.asarray(h, dtype=np.int64).reshape(-1) for h in histories]
        distinct, values, popular = self._contributions(rows, slots, None)
        return stack_because(distinct, values, slots, popular, method, top)

    def user_history(self, user: int) -> np.ndarray:
        """`[h]` the items `explain` reads for a known user: oldest first where the model keeps their order
        (the sequential kind: its input sequence), else the user's fit items by index."""
        self._check_fitted()
        return self._histories(check_users(np.array([user]), self.n_users))[0]

    def _histories(self, users: np.ndarray) -> list[np.ndarray]:
        """Each known user's history as `explain` reads it: their seen items (subclasses may keep an order)."""
        seen = self.seen
        return [seen.indices[seen.indptr[u] : seen.indptr[u + 1]].astype(np.int64) for u in users]

    def _contributions(
        self, histories: list[np.ndarray], items: np.ndarray, users: np.ndarray | None
    ) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
        """What each history item adds to each item's score; every kind that can explain implements it.

        Args:
            histories: Per row, `[n_i]` history item indices (oldest first where known; may repeat).
            items: `[batch, k]` items to explain; -1 marks an empty slot (its values are ignored).
            users: `[batch]` the known users of the rows, or None for new users.

        Returns:
            `(distinct, values, popular)`: per row the `[h]` distinct history items considered, per row
            `[k, h]` contributions in score units, and `[batch]` bool rows ranked by popularity.
        """
        raise NotExplainableError(f"{self.kind} cannot say why it recommends an item (no explanation method)")

    def similar_items(self, items: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k most similar items to each of `items`, the item itself excluded.

        The default is the cosine of `item_embeddings`; kinds without embeddings override it.

        Returns:
            `(items [n, k] int64, similarity [n, k] float32)`.
        """
        self._check_fitted()
        k = check_k(k)
        items = self._check_items(items)
        vectors = self.item_embeddings()
        if vectors is None:
            raise NotImplementedError(f"{self.kind} has no item embeddings")
        unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        scores = (unit[items] @ unit.T).astype(np.float32)
        scores[np.arange(len(items)), items] = -np.inf
        return top_k(scores, k)

    def _blocked(self, items: np.ndarray | None, filter_items: np.ndarray | None) -> np.ndarray | None:
        """`[n_items]` bool mask of items that may not be recommended, or None when all may."""
        if items is None and filter_items is None:
            return None
        blocked = np.zeros(self.n_items, dtype=bool)
        if items is not None:
            blocked[:] = True
            blocked[self._check_items(items, "items")] = False
        if filter_items is not None:
            blocked[self._check_items(filter_items, "filter_items")] = True
        return blocked

    def _check_items(self, items: np.ndarray, name: str = "items") -> np.ndarray:
        items = np.asarray(items)
        if len(items) and items.dtype.kind not in "iu":
            raise ConfigError(f"`{name}` must be integer item indices. Received dtype {items.dtype}")
        items = items.astype(np.int64).reshape(-1)
        if len(items) and (items.min() < 0 or items.max() >= self.n_items):
            raise UnknownIdError(
                f"`{name}` must be indices in [0, {self.n_items}). Received: min {items.min()}, max {items.max()}"
            )
        return items

    def _check_fitted(self) -> None:
        if not self._is_fitted:
            raise NotFittedError(f"{self.name} is not fitted; call fit() first")

    # --------------------------------------------------------------- persistence
    def save(self, directory: str | Path) -> None:
        """Saves config, seen items and state into `directory` atomically (temp dir, then rename)."""
        self._check_fitted()
        with atomic_dir(directory) as tmp:
            meta = {"kind": self.kind, "n_users": self.n_users, "n_items": self.n_items, "config": to_dict(self.config)}
            (tmp / "recommender.json").write_text(json.dumps(meta, indent=2) + "\n")
            sp.save_npz(tmp / "seen.npz", self.seen)
            self._save_state(tmp)

    def _restore(self, directory: Path, n_users: int, n_items: int) -> None:
        """Called by `load_recommender`: sizes, seen items and the subclass state."""
        self.n_users, self.n_items = n_users, n_items
        self.seen = sp.load_npz(directory / "seen.npz").tocsr()
        if self.seen.shape != (n_users, n_items):
            raise ValueError(f"seen.npz has shape {self.seen.shape}; expected {(n_users, n_items)}")
        self._load_state(directory)
        self._is_fitted = True

    @abc.abstractmethod
    def _save_state(self, directory: Path) -> None:
        """Writes the learned state (not the config) into `directory`."""

    @abc.abstractmethod
    def _load_state(self, directory: Path) -> None:
        """Restores what `_save_state` wrote."""
