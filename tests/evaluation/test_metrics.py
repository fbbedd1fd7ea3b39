"""Metrics against hand-worked examples and direct, loop-based reference computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from movierec.errors import ConfigError
from movierec.evaluation.metrics import (
    accuracy_from_ranks,
    coverage_at_k,
    factorized_top_k_accuracy,
    hit_rate_at_k,
    mean_popularity_at_k,
    mrr,
    ndcg_at_k,
    positive_ranks,
    recall_at_k,
)

# ----------------------------------------------------------------------------- hand-worked


def test_factorized_hand_worked():
    # scores [0.1, 0.9, 0.5], positive item 2 (0.5): one item (0.9) is strictly higher
    # -> rank 1 -> not in top-1, in top-2 and top-3.
    scores = np.array([[0.1, 0.9, 0.5]])
    assert positive_ranks(scores, np.array([2])).tolist() == [1]
    assert factorized_top_k_accuracy(scores, np.array([2]), (1, 2, 3)) == {1: 0.0, 2: 1.0, 3: 1.0}


def test_factorized_ties_count_as_hits():
    # positive item 0 ties with item 1 at the top: no item is strictly higher -> rank 0,
    # a hit at k=1 (tf.math.in_top_k semantics), even though top_k would list item 0 first only by index.
    scores = np.array([[0.7, 0.7, 0.1], [0.2, 0.7, 0.7]])
    assert positive_ranks(scores, np.array([0, 2])).tolist() == [0, 0]
    assert factorized_top_k_accuracy(scores, np.array([0, 2]), (1,)) == {1: 1.0}


def test_factorized_averages_over_rows_and_nan_is_a_miss():
    # rows: rank 0, rank 2, NaN positive -> rank 3. top-1: 1/3, top-3: 2/3.
    scores = np.array([[3.0, 1.0, 2.0], [3.0, 1.0, 2.0], [np.nan, 1.0, 2.0]])
    ranks = positive_ranks(scores, np.array([0, 1, 0]))
    assert ranks.tolist() == [0, 2, 3]
    acc = factorized_top_k_accuracy(scores, np.array([0, 1, 0]), (1, 3))
    assert acc[1] == pytest.approx(1 / 3) and acc[3] == pytest.approx(2 / 3)


def test_list_metrics_hand_worked():
    # list [a, b, c] = [0, 1, 2], relevant {a, c} = {0, 2}
    top = np.array([[0, 1, 2]])
    relevant = [{0, 2}]
    # recall@3 = 2/2; recall@1 = 1/2 (plain hits / |relevant|)
    assert recall_at_k(top, relevant, 3)[0] == pytest.approx(1.0)
    assert recall_at_k(top, relevant, 1)[0] == pytest.approx(0.5)
    # ndcg@3 = (1/log2(2) + 1/log2(4)) / (1/log2(2) + 1/log2(3)) = 1.5 / 1.6309 = 0.91972
    assert ndcg_at_k(top, relevant, 3)[0] == pytest.approx((1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3)))
    assert ndcg_at_k(top, relevant, 3)[0] == pytest.approx(0.919720, abs=1e-6)
    # ndcg@1: DCG 1, ideal over min(1, 2) = 1 slot -> 1.0
    assert ndcg_at_k(top, relevant, 1)[0] == pytest.approx(1.0)
    assert hit_rate_at_k(top, relevant, 1)[0] == 1.0
    # relevant {b}: first hit at position 2 -> MRR 1/2; nothing in top-1
    assert mrr(top, [{1}])[0] == pytest.approx(0.5)
    assert mrr(top, [{1}], k=1)[0] == 0.0
    assert hit_rate_at_k(top, [{1}], 1)[0] == 0.0


def test_rows_without_relevant_items_are_nan_and_padding_never_hits():
    top = np.array([[3, -1, -1], [0, 1, 2]])
    relevant = [set(), {2, 3}]
    for fn in (recall_at_k, ndcg_at_k, hit_rate_at_k):
        values = fn(top, relevant, 3)
        assert math.isnan(values[0]) and not math.isnan(values[1])
    # second row: item 2 at position 3 -> recall 1/2, ndcg (1/log2 4) / (1 + 1/log2 3)
    assert recall_at_k(top, relevant, 3)[1] == pytest.approx(0.5)
    assert ndcg_at_k(top, relevant, 3)[1] == pytest.approx(0.5 / (1 + 1 / math.log2(3)))


def test_coverage_and_popularity_hand_worked():
    top = np.array([[0, 1, 5], [1, 2, -1]])
    # top-2 items {0, 1, 2} out of 10 -> 0.3; padding -1 is not an item
    assert coverage_at_k(top, 10, 2) == pytest.approx(0.3)
    assert coverage_at_k(top, 10, 3) == pytest.approx(0.4)
    counts = np.array([10, 20, 30, 0, 0, 40, 0, 0, 0, 0])
    # row 0: (10 + 20 + 40) / 3; row 1: (20 + 30) / 2 (padding ignored)
    np.testing.assert_allclose(mean_popularity_at_k(top, counts, 3), [70 / 3, 25.0])


@pytest.mark.parametrize("bad", [0, -3, 1.5, True, "10"])
def test_bad_k_raises_naming_k(bad):
    with pytest.raises(ConfigError, match="`k` should be a positive integer"):
        recall_at_k(np.array([[0]]), [{0}], bad)
    with pytest.raises(ConfigError, match="`ks` should be a positive integer"):
        accuracy_from_ranks(np.array([0]), (1, bad))


def test_shape_mismatch_raises():
    with pytest.raises(ConfigError, match="one row per positive"):
        positive_ranks(np.zeros((2, 3)), np.array([0]))
    with pytest.raises(ConfigError, match="item indices"):
        positive_ranks(np.zeros((1, 3)), np.array([3]))
    with pytest.raises(ConfigError, match="one row per row"):
        recall_at_k(np.array([[0], [1]]), [{0}], 1)


# ----------------------------------------------------------------------------- vs loops


def _random_case(seed: int, n_users: int = 30, n_items: int = 25, list_len: int = 12):
    rng = np.random.default_rng(seed)
    top = np.stack([rng.permutation(n_items)[:list_len] for _ in range(n_users)])
    relevant = [set(rng.choice(n_items, size=rng.integers(1, 8), replace=False).tolist()) for _ in range(n_users)]
    return top, relevant


def _reference(top_row, rel, k):
    hits = [1.0 if item in rel else 0.0 for item in top_row[:k]]
    dcg = sum(h / math.log2(j + 2) for j, h in enumerate(hits))
    idcg = sum(1 / math.log2(j + 2) for j in range(min(k, len(rel))))
    first = next((j for j, h in enumerate(hits) if h), None)
    return {
        "recall": sum(hits) / len(rel),
        "ndcg": dcg / idcg,
        "hr": float(any(hits)),
        "mrr": 0.0 if first is None else 1.0 / (first + 1),
    }


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("k", [1, 5, 10, 20])
@pytest.mark.parametrize("as_sparse", [False, True])
def test_list_metrics_match_loops(seed, k, as_sparse):
    top, relevant = _random_case(seed)
    expected = [_reference(row, rel, k) for row, rel in zip(top, relevant)]
    if as_sparse:
        rows = [u for u, rel in enumerate(relevant) for _ in rel]
        cols = [i for rel in relevant for i in rel]
        relevant = sp.csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(len(top), 25))
    np.testing.assert_allclose(recall_at_k(top, relevant, k), [e["recall"] for e in expected])
    np.testing.assert_allclose(ndcg_at_k(top, relevant, k), [e["ndcg"] for e in expected])
    np.testing.assert_allclose(hit_rate_at_k(top, relevant, k), [e["hr"] for e in expected])
    np.testing.assert_allclose(mrr(top, relevant, k), [e["mrr"] for e in expected])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_coverage_and_popularity_match_loops(seed):
    top, _ = _random_case(seed)
    counts = np.random.default_rng(seed).integers(0, 100, size=25)
    for k in (1, 5, 12):
        assert coverage_at_k(top, 25, k) == pytest.approx(len({i for row in top for i in row[:k]}) / 25)
        np.testing.assert_allclose(
            mean_popularity_at_k(top, counts, k), [np.mean([counts[i] for i in row[:k]]) for row in top]
        )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_factorized_matches_loops(seed):
    rng = np.random.default_rng(seed)
    # integer-valued scores so ties are frequent
    scores = rng.integers(0, 6, size=(40, 15)).astype(np.float32)
    positives = rng.integers(0, 15, size=40)
    ks = (1, 3, 5, 15)
    expected_ranks = [sum(1 for s in scores[r] if s > scores[r, positives[r]]) for r in range(40)]
    assert positive_ranks(scores, positives).tolist() == expected_ranks
    accuracy = factorized_top_k_accuracy(scores, positives, ks)
    for k in ks:
        assert accuracy[k] == pytest.approx(np.mean([rank < k for rank in expected_ranks]))
