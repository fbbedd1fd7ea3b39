"""The one contract shared by the TFRS models and every baseline.

Evaluation, reports, the CLI and serving only talk to `Recommender`, so a
popularity baseline and a two-tower TFRS model are interchangeable. A subclass
implements `fit`, `score` and the two persistence hooks; `recommend`,
`similar_items` and `score_history` have working defaults.

Saved layout (a directory): `recommender.json` with `{"kind", "name", "config"}`
plus whatever the subclass writes (numpy `.npz` arrays, a TF SavedModel); never
pickles.
"""

from __future__ import annotations

import abc
import importlib
import json
import shutil
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from movierec.config import model_config_from_dict, to_dict
from movierec.data.interactions import Interactions
from movierec.errors import ConfigError, ModelDirError, UnknownIdError

__all__ = [
    "Recommender",
    "RECOMMENDERS",
    "register_recommender",
    "load_recommender",
    "top_k",
    "mask_rows",
    "check_users",
    "histories_to_csr",
    "cold_start_fallback",
]

# Where each kind's class lives, so a fresh process can load any saved recommender.
_KIND_MODULES = {
    "two_tower": "movierec.models.recommender",
    "popularity": "movierec.baselines",
    "ease": "movierec.baselines",
    "als": "movierec.baselines",
}

RECOMMENDERS: dict[str, type["Recommender"]] = {}


def register_recommender(cls: type["Recommender"]) -> type["Recommender"]:
    """Class decorator: makes `load_recommender` able to restore `cls` by its `kind`."""
    RECOMMENDERS[cls.kind] = cls
    return cls


class Recommender(abc.ABC):
    """Base class: fit on interactions, score all items for users, recommend top-k.

    Subclasses set `kind` and take a frozen config dataclass. All user and item
    arguments are integer indices from `movierec.data.Vocab`.

    Example:
        >>> rec = PopularityRecommender(PopularityConfig()).fit(train)   # doctest: +SKIP
        >>> items, scores = rec.recommend(np.array([0, 1]), k=10, exclude=train.to_csr())  # doctest: +SKIP
    """

    kind: ClassVar[str] = ""

    def __init__(self, config: Any) -> None:
        self.config = config
        self.n_users = 0
        self.n_items = 0

    @property
    def name(self) -> str:
        return getattr(self.config, "name", self.kind)

    # --------------------------------------------------------------- to implement
    @abc.abstractmethod
    def fit(
        self,
        train: Interactions,
        validation: Interactions | None = None,
        features: Any = None,
    ) -> "Recommender":
        """Learns from `train`; may read `validation` (never test) for early stopping.

        Args:
            train: Training interactions; sets `n_users` / `n_items`.
            validation: Held-out slice of train for early stopping, or None.
            features: Optional `movierec.data.features.Features` (side information).

        Returns:
            self.
        """

    @abc.abstractmethod
    def score(self, users: np.ndarray) -> np.ndarray:
        """Scores every item for each user.

        Args:
            users: `[batch]` user indices.

        Returns:
            `[batch, n_items]` float32 scores; higher is better. Seen items are not masked.
        """

    @abc.abstractmethod
    def _save_state(self, directory: Path) -> None:
        """Writes the learned state (not the config) into `directory`."""

    @abc.abstractmethod
    def _load_state(self, directory: Path) -> None:
        """Restores what `_save_state` wrote."""

    # --------------------------------------------------------------- defaults
    def score_history(self, histories: list[np.ndarray]) -> np.ndarray:
        """Scores every item for users not seen in training, from the items they liked.

        Args:
            histories: One `[n_i]` array of item indices per new user.

        Returns:
            `[len(histories), n_items]` float32 scores.
        """
        raise NotImplementedError(f"{self.kind} cannot score users from a history")

    def recommend(
        self,
        users: np.ndarray,
        k: int,
        exclude: sp.csr_matrix | None = None,
        batch_size: int = 1024,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k items per user, best first.

        Args:
            users: `[batch]` user indices.
            k: Number of items per user (capped at `n_items`).
            exclude: Optional `[n_users, n_items]` matrix; non-zero entries (seen items)
                are never recommended.
            batch_size: Users scored at once.

        Returns:
            `(items, scores)`, both `[batch, k]`; where fewer than k items are allowed,
            the tail has item -1 and score -inf.
        """
        users = np.asarray(users, dtype=np.int64).reshape(-1)
        _check_k(k)
        out_items, out_scores = [], []
        for start in range(0, len(users), batch_size):
            chunk = users[start : start + batch_size]
            scores = np.asarray(self.score(chunk), dtype=np.float32)
            if exclude is not None:
                scores = mask_rows(scores, exclude[chunk])
            items, top = top_k(scores, k)
            out_items.append(items)
            out_scores.append(top)
        if not out_items:
            kk = min(k, self.n_items)
            return np.zeros((0, kk), np.int64), np.zeros((0, kk), np.float32)
        return np.concatenate(out_items), np.concatenate(out_scores)

    def item_embeddings(self) -> np.ndarray | None:
        """`[n_items, dim]` item vectors used by `similar_items`, or None."""
        return None

    def similar_items(self, items: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k most similar items (cosine of `item_embeddings`), excluding the item itself."""
        _check_k(k)
        vectors = self.item_embeddings()
        if vectors is None:
            raise NotImplementedError(f"{self.kind} has no item embeddings")
        items = np.asarray(items, dtype=np.int64).reshape(-1)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        unit = vectors / np.maximum(norms, 1e-12)
        scores = unit[items] @ unit.T
        scores[np.arange(len(items)), items] = -np.inf
        return top_k(scores.astype(np.float32), k)

    # --------------------------------------------------------------- persistence
    def save(self, directory: str | Path) -> None:
        """Saves config and state into `directory` atomically (temp dir, then rename)."""
        directory = Path(directory)
        tmp = directory.with_name(f".{directory.name}.tmp")
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        meta = {"kind": self.kind, "n_users": self.n_users, "n_items": self.n_items, "config": to_dict(self.config)}
        (tmp / "recommender.json").write_text(json.dumps(meta, indent=2) + "\n")
        self._save_state(tmp)
        if directory.exists():
            shutil.rmtree(directory)
        tmp.rename(directory)


def load_recommender(directory: str | Path) -> Recommender:
    """Restores any recommender saved with `Recommender.save`.

    Raises:
        ModelDirError: if `directory` holds no saved recommender.
    """
    directory = Path(directory)
    meta_path = directory / "recommender.json"
    if not meta_path.is_file():
        raise ModelDirError(f"{directory} is not a saved recommender (no recommender.json)")
    try:
        meta = json.loads(meta_path.read_text())
        if meta.get("kind") not in RECOMMENDERS and meta.get("kind") in _KIND_MODULES:
            importlib.import_module(_KIND_MODULES[meta["kind"]])
        cls = RECOMMENDERS[meta["kind"]]
        config = model_config_from_dict(meta["config"], where=str(meta_path))
    except (json.JSONDecodeError, KeyError, ConfigError) as e:
        raise ModelDirError(f"{meta_path} is not a valid recommender description: {e}") from e
    rec = cls(config)
    rec.n_users, rec.n_items = int(meta["n_users"]), int(meta["n_items"])
    rec._load_state(directory)
    return rec


def check_users(users: np.ndarray, n_users: int) -> np.ndarray:
    """`users` as a `[batch]` int64 array, or UnknownIdError if an index is outside `[0, n_users)`.

    Shared by the baselines: negative indices would otherwise wrap around silently.
    """
    users = np.asarray(users)
    if users.dtype.kind not in "iu":
        raise ConfigError(f"`users` must be integer indices. Received dtype {users.dtype}")
    users = users.astype(np.int64).reshape(-1)
    if len(users) and (users.min() < 0 or users.max() >= n_users):
        raise UnknownIdError(f"`users` must be indices in [0, {n_users}). Received: min {users.min()}, max {users.max()}")
    return users


def histories_to_csr(histories: list[np.ndarray], n_items: int) -> sp.csr_matrix:
    """`[len(histories), n_items]` binary CSR matrix, one row per history of item indices.

    Raises:
        UnknownIdError: if an item index is outside `[0, n_items)`.
    """
    arrays = [np.asarray(h, dtype=np.int64).reshape(-1) for h in histories]
    cols = np.concatenate(arrays) if arrays else np.zeros(0, np.int64)
    if len(cols) and (cols.min() < 0 or cols.max() >= n_items):
        raise UnknownIdError(
            f"`histories` must hold item indices in [0, {n_items}). Received: min {cols.min()}, max {cols.max()}"
        )
    rows = np.repeat(np.arange(len(arrays)), [len(a) for a in arrays])
    matrix = sp.csr_matrix((np.ones(len(cols), np.float32), (rows, cols)), shape=(len(arrays), n_items))
    matrix.data[:] = 1.0  # a repeated item counts once
    return matrix


def cold_start_fallback(scores: np.ndarray, history_sizes: np.ndarray, item_counts: np.ndarray) -> np.ndarray:
    """Rows of users with no history get popularity scores instead of all-equal ones.

    A model whose scores come only from a user's history (EASE, ALS) gives a user without one
    the same score for every movie: arbitrary lists, and a perfect factorized top-k under
    TFRS's rule that ties count as hits. Most-popular is the sensible answer for them.

    Args:
        scores: `[batch, n_items]` model scores.
        history_sizes: `[batch]` number of training items of each user.
        item_counts: `[n_items]` training interactions per item.

    Returns:
        `[batch, n_items]` float32, rows with `history_sizes == 0` replaced.
    """
    scores = np.asarray(scores, dtype=np.float32)
    cold = np.asarray(history_sizes) == 0
    if cold.any():
        scores = scores.copy()
        scores[cold] = item_counts.astype(np.float32) / max(1.0, float(item_counts.max()))
    return scores


def _check_k(k: int) -> None:
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k <= 0:
        raise ConfigError(f"`k` should be a positive integer. Received: `k` = {k!r}")


def mask_rows(scores: np.ndarray, exclude: sp.csr_matrix) -> np.ndarray:
    """Sets `scores[r, c] = -inf` wherever `exclude[r, c]` is non-zero (copying)."""
    scores = np.array(scores, dtype=np.float32, copy=True)
    rows, cols = exclude.nonzero()
    scores[rows, cols] = -np.inf
    return scores


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the `k` largest entries per row, sorted descending.

    Ties are broken by lower item index. Entries equal to -inf come back as item -1.

    Args:
        scores: `[batch, n_items]`.
        k: Cut-off; capped at `n_items`.

    Returns:
        `(items [batch, k] int64, scores [batch, k] float32)`.
    """
    scores = np.asarray(scores, dtype=np.float32)
    n_items = scores.shape[1]
    k = min(int(k), n_items)
    if k < n_items:
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        # argpartition picks an arbitrary item among ties at the cut; redo those rows exactly.
        kth = np.take_along_axis(scores, part, axis=1).min(axis=1)
        tied = (scores == kth[:, None]).sum(axis=1) > (np.take_along_axis(scores, part, axis=1) == kth[:, None]).sum(axis=1)
        for row in np.nonzero(tied)[0]:
            part[row] = np.lexsort((np.arange(n_items), -scores[row]))[:k]
    else:
        part = np.broadcast_to(np.arange(n_items), scores.shape).copy()
    part_scores = np.take_along_axis(scores, part, axis=1)
    # lexsort: primary key -score, secondary key item index (stable tie-break)
    order = np.lexsort((part, -part_scores), axis=1)
    items = np.take_along_axis(part, order, axis=1).astype(np.int64)
    values = np.take_along_axis(part_scores, order, axis=1)
    items[~np.isfinite(values) & (values < 0)] = -1
    return items, values
