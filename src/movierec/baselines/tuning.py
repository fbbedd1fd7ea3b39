"""Grid search for baseline hyper-parameters on the validation split only.

Each grid point is fitted on `train` and scored on `validation` (with `train`
as the seen-items mask); the test split is never looked at, so the tuned
baseline stays an honest competitor for the TFRS models.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import math
from typing import Any

from movierec.baselines.als import AlsConfig, AlsRecommender
from movierec.baselines.ease import EaseConfig, EaseRecommender
from movierec.baselines.popularity import PopularityConfig, PopularityRecommender
from movierec.data.interactions import Interactions
from movierec.errors import ConfigError
from movierec.evaluation.evaluate import evaluate
from movierec.recommender import Recommender

__all__ = ["DEFAULT_GRIDS", "tune_baseline"]

logger = logging.getLogger(__name__)

_BASELINES: dict[str, tuple[type, type[Recommender]]] = {
    "popularity": (PopularityConfig, PopularityRecommender),
    "ease": (EaseConfig, EaseRecommender),
    "als": (AlsConfig, AlsRecommender),
}

# Small on purpose: 5 EASE points, 12 ALS points (factors x regularization x alpha). On ML-100k
# validation, ALS is best along regularization / alpha ≈ 10; these points straddle that ridge.
DEFAULT_GRIDS: dict[str, dict[str, list[Any]]] = {
    "popularity": {},
    "ease": {"l2": [100.0, 250.0, 500.0, 1000.0, 2000.0]},
    "als": {"factors": [32, 64, 128], "regularization": [20.0, 50.0], "alpha": [2.0, 5.0]},
}


def tune_baseline(
    kind: str,
    train: Interactions,
    validation: Interactions,
    grid: dict[str, list[Any]] | None = None,
    metric: str = "ndcg@10",
    base: Any = None,
) -> tuple[Any, list[dict[str, Any]]]:
    """Fits every point of `grid` on `train`, keeps the best `metric` on `validation`.

    Args:
        kind: "popularity", "ease" or "als".
        train: Interactions to fit on (and to mask as seen when evaluating).
        validation: Held-out interactions used for selection; never the test split.
        grid: `{field: [values]}` over config fields; None uses `DEFAULT_GRIDS[kind]`.
            An empty grid evaluates `base` alone.
        metric: Key of `evaluate`'s result to maximise.
        base: Config whose other fields are kept; defaults to the kind's default config.

    Returns:
        `(best_config, table)`; `table` has one dict per grid point, in grid order:
        the point's values plus `metric` (ties keep the earlier point).

    Raises:
        ConfigError: on an unknown `kind`, an unknown grid field or an empty value list.
    """
    if kind not in _BASELINES:
        raise ConfigError(f"`kind` must be one of {sorted(_BASELINES)}. Received: `kind` = {kind!r}")
    config_cls, recommender_cls = _BASELINES[kind]
    base = config_cls() if base is None else base
    grid = DEFAULT_GRIDS[kind] if grid is None else grid
    fields = {f.name for f in dataclasses.fields(config_cls)}
    for key, values in grid.items():
        if key not in fields or key in ("kind", "name"):
            raise ConfigError(f"`grid` key {key!r} is not a tunable field of {config_cls.__name__}")
        if not values:
            raise ConfigError(f"`grid[{key!r}]` should list at least one value. Received: {values!r}")

    keys = list(grid)
    best_config, best_value, table = base, -math.inf, []
    for values in itertools.product(*(grid[k] for k in keys)):
        point = dict(zip(keys, values))
        config = dataclasses.replace(base, **point)
        recommender = recommender_cls(config).fit(train)
        results = evaluate(recommender, train, validation)
        if metric not in results:
            raise ConfigError(f"`metric` must be one of {sorted(results)}. Received: `metric` = {metric!r}")
        value = results[metric]
        table.append({**point, metric: value})
        logger.info("tune %s %s: %s=%.4f", kind, point, metric, value)
        if value > best_value:
            best_config, best_value = config, value
    return best_config, table
