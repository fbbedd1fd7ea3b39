"""Because you watched ...: the movies of a user's history that raise each recommended movie's score, and by how much.

Every model kind answers through one contract method, `Recommender.explain` (a known user) or
`Recommender.explain_history` (a new user's movies). The kind measures, for each recommended movie,
the contribution of every movie of the history to its score, in the model's own score units; this
module keeps the strongest positive ones (`strongest`) and holds them as arrays (`Because`).

How a contribution is measured is the kind's `explanation_method`:

* `"exact"`: the score is a sum over the history and each term is one movie's part. EASE:
  `score(i) = sum_j B[j, i]`, so movie j contributes `B[j, i]`. ALS: the user vector is
  `x_u = A_u⁻¹ (1 + alpha) sum_j y_j`, so `score(i) = sum_j (1 + alpha) y_iᵀ A_u⁻¹ y_j` (what
  implicit's `explain` computes).
* `"similarity"`: an approximation, for the two-tower models, whose user vector is learned for the
  user (an id embedding, side features), not computed from the movies they watched: movie j
  contributes `y_jᵀ y_i / n`, the share it would have in a query that is the mean of the user's n
  movies. For a new user of a model without a history feature that mean *is* the query, and the
  decomposition is exact.
* `"leave_one_out"`: the sequential kind: the drop in the score when movie j is taken out of the
  input sequence (the model run again on the shorter sequence), for the latest movies of the input.
* `"popularity"`: most-popular: no movie of the history takes part; every row is `popular`.
* `"blend"`: a blend of two models (`movierec.blend`) scores `w z(a) + (1 - w) z(b)`, each member's
  scores standardised per user; movie j contributes `w c_a(j) / sd_a + (1 - w) c_b(j) / sd_b`, each
  member's own contribution (by its own method) scaled as the blend scales its scores.

A row is also `popular` when its scores came from the popularity fallback (a user with no history).

Example:
    >>> history = np.array([7, 3, 5])
    >>> items, weights = strongest(history, np.array([[0.5, -0.2, 0.1]], np.float32), top=2)
    >>> items.tolist(), [[round(float(w), 2) for w in row] for row in weights]
    ([[7, 5]], [[0.5, 0.1]])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from movierec.errors import ConfigError, UnknownIdError

__all__ = ["Because", "Method", "METHODS", "DEFAULT_TOP", "strongest", "stack_because", "check_slots"]

Method = Literal["exact", "similarity", "leave_one_out", "popularity", "blend"]
METHODS: tuple[str, ...] = ("exact", "similarity", "leave_one_out", "popularity", "blend")
DEFAULT_TOP = 3  # history movies named per recommended movie when the caller does not say


@dataclass(frozen=True)
class Because:
    """Why each recommended movie was recommended: the history movies that raise its score most.

    Attributes:
        items: `[batch, k, top]` int64 history movie indices, the largest contribution first; -1 pads
            (fewer than `top` movies raise the score, the slot itself is -1, or the row is `popular`).
        weights: `[batch, k, top]` float32 contributions in score units, positive; 0 where `items` is -1.
        popular: `[batch]` bool: the row was ranked by popularity (most-popular, or a user without history).
        method: How contributions were measured (see the module docstring).

    Example:
        >>> because = rec.explain(np.array([0]), rec.recommend(np.array([0]), k=10)[0])  # doctest: +SKIP
        >>> because.items[0, 0], because.weights[0, 0]  # the best movie's strongest reasons  # doctest: +SKIP
    """

    items: np.ndarray
    weights: np.ndarray
    popular: np.ndarray
    method: Method

    def row(self, position: int) -> list[list[tuple[int, float]]]:
        """One user's explanation as plain lists: for each recommended slot, `(history movie, weight)` pairs."""
        return [
            [(int(item), float(weight)) for item, weight in zip(items, weights) if item >= 0]
            for items, weights in zip(self.items[position].tolist(), self.weights[position].tolist())
        ]


def strongest(history: np.ndarray, values: np.ndarray, top: int) -> tuple[np.ndarray, np.ndarray]:
    """The `top` history movies with the largest positive contribution to each recommended movie.

    Args:
        history: `[h]` distinct history movie indices.
        values: `[k, h]` contribution of each history movie to each recommended movie's score.
        top: Movies kept per recommended movie.

    Returns:
        `(items [k, top] int64, weights [k, top] float32)`, largest first (ties: earlier in `history`);
        -1 and 0 pad where fewer than `top` contributions are positive.
    """
    values = np.asarray(values, dtype=np.float32)
    k = values.shape[0]
    items = np.full((k, top), -1, np.int64)
    weights = np.zeros((k, top), np.float32)
    if values.size == 0 or top == 0:
        return items, weights
    order = np.argsort(-values, axis=1, kind="stable")[:, :top]
    chosen = np.take_along_axis(values, order, axis=1)
    keep = chosen > 0
    width = order.shape[1]
    items[:, :width] = np.where(keep, np.asarray(history, np.int64)[order], -1)
    weights[:, :width] = np.where(keep, chosen, 0.0)
    return items, weights


def stack_because(
    histories: list[np.ndarray],
    values: list[np.ndarray],
    slots: np.ndarray,
    popular: np.ndarray,
    method: Method,
    top: int,
) -> Because:
    """A `Because` from each row's `[k, h]` contributions; slots holding -1 (no movie) explain nothing.

    Args:
        histories: Per row, `[h]` distinct history movies.
        values: Per row, `[k, h]` contributions (columns in `histories` order).
        slots: `[batch, k]` the recommended movies (-1: an empty slot).
        popular: `[batch]` rows ranked by popularity.
        method: The kind's `explanation_method`.
        top: Movies kept per recommended movie.
    """
    batch, k = slots.shape
    items = np.full((batch, k, top), -1, np.int64)
    weights = np.zeros((batch, k, top), np.float32)
    for row, (history, row_values) in enumerate(zip(histories, values)):
        items[row], weights[row] = strongest(history, row_values, top)
    popular = np.asarray(popular, bool).reshape(batch)
    empty = (slots < 0) | popular[:, None]  # a row ranked by popularity owes nothing to its history
    items[empty], weights[empty] = -1, 0.0
    return Because(items=items, weights=weights, popular=popular, method=method)


def check_slots(items: np.ndarray, batch: int, n_items: int) -> np.ndarray:
    """`items` as a `[batch, k]` int64 array of item indices or -1 (an empty slot).

    Raises:
        ConfigError: on a wrong shape or dtype.
        UnknownIdError: on an index outside `[-1, n_items)`.
    """
    slots = np.asarray(items)
    if slots.ndim != 2 or slots.shape[0] != batch:
        raise ConfigError(f"`items` must be [{batch}, k] item indices, one row per user. Received shape {slots.shape}")
    if slots.size and slots.dtype.kind not in "iu":
        raise ConfigError(f"`items` must be integer item indices. Received dtype {slots.dtype}")
    slots = slots.astype(np.int64)
    if slots.size and (slots.min() < -1 or slots.max() >= n_items):
        raise UnknownIdError(
            f"`items` must be indices in [0, {n_items}) or -1. Received: min {slots.min()}, max {slots.max()}"
        )
    return slots
