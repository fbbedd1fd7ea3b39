"""Smoke test on the real MovieLens 100k: the baselines land where the literature puts them.

Slow (reads ~100k ratings; fetches them once through the recbole wheel if nothing is cached):
run with `pytest -m slow`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from movierec.baselines import EaseRecommender, PopularityRecommender
from movierec.config import DataConfig, EaseConfig, ExperimentConfig, PopularityConfig
from movierec.data import load_dataset
from movierec.evaluation import evaluate
from movierec.experiments import prepare_data

SHARED_CACHE = Path("/tmp/mrcache")  # a scratch cache some machines keep, to avoid refetching


@pytest.mark.slow
def test_popularity_and_ease_on_ml100k(monkeypatch):
    if (SHARED_CACHE / "ml-100k").is_dir():
        monkeypatch.setenv("MOVIEREC_CACHE", str(SHARED_CACHE))
    dataset = load_dataset(DataConfig())
    assert dataset.n_ratings == 100_000
    assert dataset.ratings.user_id.nunique() == 943 and len(dataset.items) == 1682
    data = prepare_data(ExperimentConfig(), dataset)  # the default random 80/20 split, 10% validation
    assert data.sizes() == {"train": 72_000, "validation": 8_000, "test": 20_000}
    results = {}
    for rec in (PopularityRecommender(PopularityConfig()), EaseRecommender(EaseConfig())):
        rec.fit(data.train)
        results[rec.kind] = evaluate(rec, data.seen, data.test, ks=(10, 100))
    popularity, ease = results["popularity"], results["ease"]
    # measured when written: popularity top-100 0.302, NDCG@10 0.222; EASE NDCG@10 0.430 (se ~0.01)
    assert 0.27 <= popularity["factorized_top_100"] <= 0.33
    assert ease["ndcg@10"] > popularity["ndcg@10"]
