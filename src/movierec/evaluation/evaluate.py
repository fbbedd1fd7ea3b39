"""Evaluate any `Recommender` on held-out interactions with one batched pass.

For each batch of test users, `recommender.score` is called once; the same score
matrix feeds both metric families of `movierec.evaluation.metrics`:

* `factorized_top_{k}`: TFRS factorized top-k accuracy over every test row,
  against all items, training items included (comparable with TFRS numbers).
* `recall@k`, `ndcg@k`, `hr@k`, `mrr`, `coverage@10`, `mean_pop@10`: per test user,
  on top-k lists with the user's training items removed (the honest numbers).
"""

from __future__ import annotations

import logging

import numpy as np
from tqdm.auto import tqdm

from movierec._checks import check_k, check_ks
from movierec.data.interactions import Interactions
from movierec.errors import ConfigError, DataError
from movierec.evaluation.metrics import (
    accuracy_from_ranks,
    coverage_at_k,
    hit_rate_at_k,
    mean_popularity_at_k,
    mrr,
    ndcg_at_k,
    positive_ranks,
    recall_at_k,
)
from movierec.evaluation.paired import standard_error
from movierec.ranking import rank_rows
from movierec.recommender import Recommender, users_per_batch

__all__ = ["evaluate", "LIST_KS"]

logger = logging.getLogger(__name__)

LIST_KS = (10, 20)  # list-metric cut-offs always reported, on top of `ks`


def evaluate(
    recommender: Recommender,
    train: Interactions,
    test: Interactions,
    ks: tuple[int, ...] = (1, 5, 10, 50, 100),
    batch_size: int | None = None,
    progress: bool = False,
    per_user: dict[str, np.ndarray] | None = None,
) -> dict[str, float]:
    """Scores every test user once and returns all metrics.

    Args:
        recommender: A fitted recommender over the same vocabulary as `train`/`test`.
        train: Every interaction known before `test` (train + validation when scoring the
            test split, even for a model fitted on train alone): removed from the top-k
            lists and counted for `mean_pop@10`.
        test: Held-out interactions; every row is a positive.
        ks: Cut-offs for `factorized_top_{k}` and for `recall@k` / `ndcg@k` / `hr@k`
            (10 and 20 are always added for the list metrics).
        batch_size: Users scored at once (memory about `batch_size * n_items * 16` bytes); None
            keeps each batch near `movierec.recommender.SCORE_BUDGET` scores, so memory stays
            bounded however many users and movies there are.
        progress: Show a tqdm bar (only when stderr is a terminal).
        per_user: When given, filled with `users` (the test users' indices, ascending) and their own
            `ndcg@10`, `hr@10` and `recall@10`, so two models scored on the same test can be compared
            user by user (`movierec.report` derives paired standard errors of their difference).

    Returns:
        `factorized_top_{k}` for k in `ks`; `recall@{k}`, `ndcg@{k}`, `hr@{k}` for k in
        `ks` ∪ {10, 20}; `mrr` (over the longest list); `ndcg@10_se` (standard error over
        users); `coverage@10`; `mean_pop@10`; `n_test_users`; `n_test_rows`.

    Raises:
        ConfigError: on bad `ks` / `batch_size` or mismatched vocabularies.
        DataError: if `test` has no rows.
    """
    ks = check_ks(ks)
    batch_size = users_per_batch(test.n_items) if batch_size is None else check_k(batch_size, "batch_size")
    _check_shapes(recommender, train, test)
    list_ks = tuple(sorted(set(ks) | set(LIST_KS)))

    order = np.argsort(test.users, kind="stable")
    row_users = test.users[order].astype(np.int64)
    row_items = test.items[order].astype(np.int64)
    users = np.unique(row_users)
    seen = train.to_csr()

    ranks = np.empty(len(row_users), dtype=np.int64)
    lists = np.empty((len(users), min(list_ks[-1], test.n_items)), dtype=np.int64)
    starts = range(0, len(users), batch_size)
    for start in tqdm(starts, desc="evaluate", unit="batch", disable=None if progress else True):
        batch = users[start : start + batch_size]
        scores = np.asarray(recommender.score(batch), dtype=np.float32)
        if scores.shape != (len(batch), test.n_items):
            raise ValueError(
                f"{recommender.kind}.score returned shape {scores.shape}; expected {(len(batch), test.n_items)}"
            )
        lo = np.searchsorted(row_users, batch[0], side="left")
        hi = np.searchsorted(row_users, batch[-1], side="right")
        local = np.searchsorted(batch, row_users[lo:hi])
        ranks[lo:hi] = positive_ranks(scores, row_items[lo:hi], rows=local)
        lists[start : start + len(batch)] = rank_rows(scores, lists.shape[1], exclude=seen[batch])[0]

    relevant = test.to_csr()[users]
    results: dict[str, float] = {f"factorized_top_{k}": v for k, v in accuracy_from_ranks(ranks, ks).items()}
    for k in list_ks:
        results[f"recall@{k}"] = float(np.mean(recall_at_k(lists, relevant, k)))
        results[f"ndcg@{k}"] = float(np.mean(ndcg_at_k(lists, relevant, k)))
        results[f"hr@{k}"] = float(np.mean(hit_rate_at_k(lists, relevant, k)))
    results["mrr"] = float(np.mean(mrr(lists, relevant)))
    user_ndcg = ndcg_at_k(lists, relevant, 10)
    results["ndcg@10_se"] = standard_error(user_ndcg)
    if per_user is not None:
        per_user["users"] = users
        per_user["ndcg@10"] = user_ndcg
        per_user["hr@10"] = hit_rate_at_k(lists, relevant, 10)
        per_user["recall@10"] = recall_at_k(lists, relevant, 10)
    results["coverage@10"] = coverage_at_k(lists, test.n_items, 10)
    # nanmean: a user who has seen every item gets an all-padding list
    results["mean_pop@10"] = float(np.nanmean(mean_popularity_at_k(lists, train.item_counts(), 10)))
    results["n_test_users"] = int(len(users))
    results["n_test_rows"] = int(len(row_users))
    logger.debug(
        "%s: ndcg@10=%.4f recall@10=%.4f factorized_top_%d=%.4f (%d users)",
        recommender.name,
        results["ndcg@10"],
        results["recall@10"],
        ks[-1],
        results[f"factorized_top_{ks[-1]}"],
        len(users),
    )
    return results


def _check_shapes(recommender: Recommender, train: Interactions, test: Interactions) -> None:
    if len(test) == 0:
        raise DataError("`test` has no rows: nothing to evaluate")
    if (train.n_users, train.n_items) != (test.n_users, test.n_items):
        raise ConfigError(
            "`train` and `test` must share one vocabulary. Received: "
            f"train {train.n_users}x{train.n_items}, test {test.n_users}x{test.n_items}"
        )
    if recommender.n_items and recommender.n_items != test.n_items:
        raise ConfigError(
            f"`recommender` scores {recommender.n_items} items but `test` has {test.n_items}; "
            "fit it on the same vocabulary"
        )
