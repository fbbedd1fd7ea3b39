"""Does the order in which people watch predict what they watch next? A check that costs seconds.

`movierec train` without a preset chooses between a factorisation (order-free) and the sequential
kind. Fitting both to find out would double the training time; instead two count-based predictors
are scored on the validation slice, the same users for both:

* order-free: item-to-item cosine of co-occurrence, summed over everything the user watched
  (an item-kNN recommender, the order-free family EASE and factorisations belong to);
* ordered: a Markov chain over the user's latest movies: how often each movie followed each of the
  user's last `ORDER_CONTEXT` movies within `ORDER_WINDOW` steps in the training sequences.

Both are built from the training rows only, with numpy and scipy (no TensorFlow), and scored with
NDCG@10 over the whole catalogue, seen movies excluded, as `movierec.evaluation` scores models. If
the ordered predictor leads by more than `margin_se` standard errors of the per-user difference,
order carries signal the factorisation cannot use, and the sequential kind is trained.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from movierec.data.interactions import Interactions
from movierec.data.sequences import context_matrix, transition_matrix
from movierec.evaluation.metrics import ndcg_at_k
from movierec.evaluation.paired import standard_error
from movierec.ranking import rank_rows
from movierec.records import OrderDecision  # the record of the decision; re-exported here

__all__ = ["OrderDecision", "decide_order", "markov_scores", "cooccurrence_scores", "ORDER_CONTEXT", "ORDER_WINDOW"]

ORDER_CONTEXT = 3  # the user's latest movies the Markov predictor reads (weights 1, 1/2, 1/3)
ORDER_WINDOW = 3  # a movie "follows" another when it comes 1 to 3 steps later (weights 1, 1/2, 1/3)
CHUNK = 500  # validation users scored at once


def markov_scorer(train: Interactions) -> Callable[[np.ndarray], np.ndarray]:
    """Builds the transitions once; returns `users -> [len(users), n_items]` scores (see `markov_scores`)."""
    transitions = transition_matrix(train, ORDER_WINDOW)
    order = train.time_order()
    owner, items = train.users[order], train.items[order].astype(np.int64)

    def score(users: np.ndarray) -> np.ndarray:
        starts, ends = np.searchsorted(owner, users, side="left"), np.searchsorted(owner, users, side="right")
        context = context_matrix([items[s:e] for s, e in zip(starts, ends)], ORDER_CONTEXT, train.n_items)
        return np.asarray((context @ transitions).todense(), dtype=np.float32)

    return score


def markov_scores(train: Interactions, users: np.ndarray) -> np.ndarray:
    """`[len(users), n_items]`: movies that followed each user's latest movies in the training sequences.

    `T[a, b]` sums `1/d` over every time a user watched `b` exactly `d <= ORDER_WINDOW` movies after `a`;
    rows are normalised to sum to 1; a user's scores are `sum_j T[a_j] / j` over their latest movies
    `a_1` (the newest) to `a_ORDER_CONTEXT`.
    """
    return markov_scorer(train)(users)


def cooccurrence_scorer(train: Interactions) -> Callable[[np.ndarray], np.ndarray]:
    """Normalises the rating matrix once; returns `users -> [len(users), n_items]` item-kNN scores."""
    matrix = train.to_csr()
    counts = np.asarray(matrix.sum(axis=0)).ravel()
    normalised = (matrix @ sp.diags(1.0 / np.sqrt(np.maximum(counts, 1.0)))).tocsr()  # unit-length columns

    def score(users: np.ndarray) -> np.ndarray:
        # X_u N^T N, multiplied left to right: [users, all users] overlaps, then back to movies, never [items, items]
        overlap = (matrix[users] @ normalised.T).toarray()
        return np.asarray(normalised.T @ overlap.T, dtype=np.float32).T.copy()

    return score


def cooccurrence_scores(train: Interactions, users: np.ndarray) -> np.ndarray:
    """`[len(users), n_items]`: item-kNN scores, `sum_a cos(a, b)` over the movies `a` each user watched."""
    return cooccurrence_scorer(train)(users)


def decide_order(
    train: Interactions, validation: Interactions | None, margin_se: float = 1.0, max_users: int = 3000, seed: int = 0
) -> OrderDecision:
    """Scores both predictors on (a sample of) the validation users and decides.

    Without a validation slice there is nothing to decide on: the order-free model is kept.
    """
    started = time.perf_counter()
    if validation is None or len(validation) == 0:
        return OrderDecision(False, 0.0, 0.0, 0.0, 0, margin_se, 0.0)
    users = np.unique(validation.users)
    if len(users) > max_users:
        users = np.sort(np.random.default_rng(seed).choice(users, max_users, replace=False))
    seen, relevant = train.to_csr(), validation.to_csr()
    per_user: list[list[np.ndarray]] = [[], []]
    scorers = (markov_scorer(train), cooccurrence_scorer(train))  # built once, then [CHUNK, n_items] at a time
    for start in range(0, len(users), CHUNK):
        chunk = users[start : start + CHUNK]
        for which, scores in enumerate(scorer(chunk) for scorer in scorers):
            lists = rank_rows(scores, 10, exclude=seen[chunk])[0]
            per_user[which].append(ndcg_at_k(lists, relevant[chunk], 10))
    ordered, unordered = np.concatenate(per_user[0]), np.concatenate(per_user[1])
    difference = ordered - unordered
    se = standard_error(difference) if len(difference) > 1 else 0.0
    used = bool(difference.mean() > margin_se * se)
    return OrderDecision(
        used=used,
        ordered=float(ordered.mean()),
        unordered=float(unordered.mean()),
        se=se,
        users=int(len(users)),
        margin_se=margin_se,
        seconds=time.perf_counter() - started,
    )
