"""`evaluate` on a fixed-score fake recommender, with the expected numbers worked by hand."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from movierec.data.interactions import Interactions
from movierec.errors import ConfigError, DataError
from movierec.evaluation.evaluate import evaluate
from movierec.evaluation.metrics import ndcg_at_k, recall_at_k
from movierec.ranking import top_k
from movierec.recommender import Recommender

# 3 users x 4 items. Every user ranks items in the same order: 3 > 2 > 1 > 0.
FIXED_SCORES = np.array([[0.0, 1.0, 2.0, 3.0]] * 3, dtype=np.float32)


class FixedRecommender(Recommender):
    """Returns `FIXED_SCORES` rows; counts calls to check batching."""

    kind = "fixed_for_tests"

    def __init__(self, scores: np.ndarray = FIXED_SCORES) -> None:
        super().__init__(None)
        self.scores = scores
        self.n_users, self.n_items = scores.shape
        self.calls: list[list[int]] = []

    def _fit(self, data, options):
        pass

    def _learned_arrays(self):
        return {"scores": self.scores}

    def score(self, users: np.ndarray) -> np.ndarray:
        self.calls.append(list(np.asarray(users)))
        return self.scores[users]

    def _save_state(self, directory: Path) -> None:  # pragma: no cover - not saved
        pass

    def _load_state(self, directory: Path) -> None:  # pragma: no cover - not saved
        pass


def _data():
    # user 0 saw item 3 in train and has test item 1; user 1 saw nothing, test items 3 and 0;
    # user 2 has no test rows.
    train = Interactions.from_arrays([0, 2], [3, 2], n_users=3, n_items=4)
    test = Interactions.from_arrays([1, 0, 1], [3, 1, 0], n_users=3, n_items=4)
    return train, test


def test_known_values():
    train, test = _data()
    result = evaluate(FixedRecommender(), train, test, ks=(1, 2))
    # factorized (no masking), rows: (u1, i3) rank 0; (u0, i1) rank 2 (items 3, 2 higher); (u1, i0) rank 3.
    assert result["factorized_top_1"] == pytest.approx(1 / 3)
    assert result["factorized_top_2"] == pytest.approx(1 / 3)
    # lists with train removed: user 0 -> [2, 1, 0] (3 seen), user 1 -> [3, 2, 1, 0].
    # user 0: relevant {1} at position 2; user 1: relevant {3, 0} at positions 1 and 4.
    assert result["recall@1"] == pytest.approx((0 + 0.5) / 2)
    assert result["recall@2"] == pytest.approx((1 + 0.5) / 2)
    assert result["hr@1"] == pytest.approx(0.5)
    assert result["hr@10"] == pytest.approx(1.0)
    assert result["recall@10"] == pytest.approx(1.0)
    # ndcg@10: user 0 -> (1/log2 3) / 1; user 1 -> (1 + 1/log2 5) / (1 + 1/log2 3)
    ndcg_u0 = 1 / math.log2(3)
    ndcg_u1 = (1 + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert result["ndcg@10"] == pytest.approx((ndcg_u0 + ndcg_u1) / 2)
    assert result["ndcg@10_se"] == pytest.approx(np.std([ndcg_u0, ndcg_u1], ddof=1) / math.sqrt(2))
    # mrr: user 0 -> 1/2, user 1 -> 1
    assert result["mrr"] == pytest.approx(0.75)
    # all 4 items appear in some top-10 list; train counts [0, 0, 1, 1]:
    # user 0's [2, 1, 0] -> (1 + 0 + 0) / 3, user 1's [3, 2, 1, 0] -> (1 + 1 + 0 + 0) / 4
    assert result["coverage@10"] == pytest.approx(1.0)
    assert result["mean_pop@10"] == pytest.approx((1 / 3 + 2 / 4) / 2)
    assert result["n_test_users"] == 2 and result["n_test_rows"] == 3


@pytest.mark.parametrize("batch_size", [1, 2, 5])
def test_batching_does_not_change_results_and_scores_each_user_once(batch_size):
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(9, 30)).astype(np.float32)
    train = Interactions.from_arrays(rng.integers(0, 9, 40), rng.integers(0, 30, 40), n_users=9, n_items=30)
    test = Interactions.from_arrays(rng.integers(0, 8, 25), rng.integers(0, 30, 25), n_users=9, n_items=30)
    rec = FixedRecommender(scores)
    result = evaluate(rec, train, test, ks=(1, 5, 10), batch_size=batch_size)
    called = [u for call in rec.calls for u in call]
    assert sorted(called) == sorted(set(test.users.tolist()))
    assert all(len(call) <= batch_size for call in rec.calls)

    # reference: direct numpy over all rows / users at once
    users = np.unique(test.users)
    positive = scores[test.users, test.items]
    ranks = (scores[test.users] > positive[:, None]).sum(axis=1)
    masked = np.where(train.to_csr().toarray() > 0, -np.inf, scores)
    lists = top_k(masked[users], 20)[0]
    relevant = test.to_csr()[users]
    for k in (1, 5, 10):
        assert result[f"factorized_top_{k}"] == pytest.approx(np.mean(ranks < k))
        assert result[f"recall@{k}"] == pytest.approx(np.mean(recall_at_k(lists, relevant, k)))
    assert result["ndcg@20"] == pytest.approx(np.mean(ndcg_at_k(lists, relevant, 20)))


def test_bad_inputs():
    train, test = _data()
    with pytest.raises(ConfigError, match="`ks` should be a positive integer"):
        evaluate(FixedRecommender(), train, test, ks=(0,))
    with pytest.raises(ConfigError, match="`batch_size` should be a positive integer"):
        evaluate(FixedRecommender(), train, test, batch_size=0)
    with pytest.raises(DataError, match="no rows"):
        evaluate(FixedRecommender(), train, test.subset(np.zeros(3, bool)))
    other = Interactions.from_arrays([0], [0], n_users=3, n_items=5)
    with pytest.raises(ConfigError, match="share one vocabulary"):
        evaluate(FixedRecommender(), train, other)


def test_evaluate_per_user_values_average_to_the_reported_means():
    # 3 users x 4 items, every user ranks 3 > 2 > 1 > 0; nothing seen.
    scores = np.array([[0.0, 1.0, 2.0, 3.0]] * 3, np.float32)
    empty = Interactions.from_arrays(np.zeros(0, int), np.zeros(0, int), n_users=3, n_items=4)
    # user 0 holds item 3 (rank 1), user 2 holds items 0 and 2 (ranks 4 and 2); user 1 has no test rows
    test = Interactions.from_arrays(np.array([0, 2, 2]), np.array([3, 0, 2]), n_users=3, n_items=4)
    per_user: dict[str, np.ndarray] = {}
    results = evaluate(FixedRecommender(scores), empty, test, ks=(1, 10), per_user=per_user)
    np.testing.assert_array_equal(per_user["users"], [0, 2])
    # NDCG@10 user 2: DCG 1/log2(3) + 1/log2(5), ideal 1 + 1/log2(3)
    user2 = (1 / np.log2(3) + 1 / np.log2(5)) / (1 + 1 / np.log2(3))
    np.testing.assert_allclose(per_user["ndcg@10"], [1.0, user2])
    np.testing.assert_allclose(per_user["hr@10"], [1.0, 1.0])
    np.testing.assert_allclose(per_user["recall@10"], [1.0, 1.0])
    assert results["ndcg@10"] == pytest.approx(per_user["ndcg@10"].mean())
    assert results["ndcg@10_se"] == pytest.approx(per_user["ndcg@10"].std(ddof=1) / np.sqrt(2))
