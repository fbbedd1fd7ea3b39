"""What a model recommends to a few fixed users, and how popular its recommendations are.

Shown in TensorBoard's Text tab each epoch, and in the HTML report: three users at the 25th,
50th and 75th percentile of training activity, what they watched last, and their top 10.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from movierec.data import Interactions
from movierec.ranking import DEFAULT_K, rank_rows
from movierec.recommender import Recommender, users_per_batch

__all__ = ["showcase_users", "sample_lists", "samples_markdown", "recommended_items", "popularity_bins"]


def showcase_users(train: Interactions, count: int = 3) -> np.ndarray:
    """`[<= count]` distinct users at evenly spaced percentiles of training activity (25/50/75 for 3)."""
    counts = train.user_counts()
    active = np.nonzero(counts > 0)[0]
    if len(active) == 0:
        return np.zeros(0, np.int64)
    order = active[np.lexsort((active, counts[active]))]  # by activity, then index
    positions = np.linspace(0, len(order) - 1, count + 2)[1:-1].round().astype(int)
    return np.unique(order[positions]).astype(np.int64)


def sample_lists(
    scores: np.ndarray,
    users: np.ndarray,
    train: Interactions,
    user_ids: np.ndarray,
    titles: np.ndarray,
    k: int = DEFAULT_K,
    watched: int = 5,
) -> list[dict[str, Any]]:
    """One dict per user: id, the `watched` latest training titles, and the top-k unseen titles."""
    seen = train.to_csr()
    items, values = rank_rows(scores, k, exclude=seen[users])
    out = []
    for row, user in enumerate(users):
        mine = np.nonzero(train.users == user)[0]
        latest = mine[np.argsort(train.timestamps[mine], kind="stable")][-watched:][::-1]
        out.append(
            {
                "user_id": str(user_ids[user]),
                "watched": [str(titles[i]) for i in train.items[latest]],
                "top": [
                    {"title": str(titles[i]), "score": float(v)} for i, v in zip(items[row], values[row]) if i >= 0
                ],
            }
        )
    return out


def samples_markdown(samples: list[dict[str, Any]]) -> str:
    """A Markdown section per user: what they watched last, then their top-k as a table."""
    parts = []
    for sample in samples:
        parts.append(f"**user {sample['user_id']}** watched last: " + "; ".join(sample["watched"]))
        rows = [f"| {rank} | {item['title']} | {item['score']:.3f} |" for rank, item in enumerate(sample["top"], 1)]
        parts.append("\n".join(["| rank | recommended | score |", "|---|---|---|", *rows]))
    return "\n\n".join(parts)


def recommended_items(
    recommender: Recommender, users: np.ndarray, seen: sp.csr_matrix, k: int = DEFAULT_K
) -> np.ndarray:
    """`[len(users), k]` top-k items (seen excluded, -1 padding), scored in memory-bounded batches."""
    step = users_per_batch(recommender.n_items)
    blocks = [
        rank_rows(recommender.score(users[i : i + step]), k, exclude=seen[users[i : i + step]])[0]
        for i in range(0, len(users), step)
    ]
    return np.concatenate(blocks) if blocks else np.zeros((0, k), np.int64)


def popularity_bins(popularity: np.ndarray, recommended: np.ndarray, bins: int = 20) -> dict[str, list[float]]:
    """Histogram on shared log-spaced bins: training count of each catalogue movie vs each recommendation.

    Returns:
        `{"edges": [bins + 1], "catalogue": [bins], "recommended": [bins]}`, each count divided by
        its total so the two read as shares.
    """
    popularity = np.asarray(popularity, dtype=np.float64)
    picks = popularity[recommended[recommended >= 0]]
    edges = np.unique(np.geomspace(1.0, max(2.0, popularity.max() + 1.0), bins + 1) - 1.0)
    catalogue = np.histogram(popularity, edges)[0].astype(np.float64)
    chosen = np.histogram(picks, edges)[0].astype(np.float64)
    return {
        "edges": edges.tolist(),
        "catalogue": (catalogue / max(1.0, catalogue.sum())).tolist(),
        "recommended": (chosen / max(1.0, chosen.sum())).tolist(),
    }
