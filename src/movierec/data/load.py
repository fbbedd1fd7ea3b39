"""One entry point from a `DataConfig` to a canonical `Dataset`."""

from __future__ import annotations

import dataclasses
import logging

from movierec.config import DataConfig
from movierec.data.csv_source import load_csv
from movierec.data.dataset import Dataset
from movierec.data.movielens import load_movielens_100k
from movierec.errors import ConfigError, DataError

__all__ = ["load_dataset"]

logger = logging.getLogger(__name__)

MOVIELENS_100K = "ml-100k"


def load_dataset(config: DataConfig) -> Dataset:
    """Loads the dataset `config` names and applies its rating filter.

    Args:
        config: `source` is "ml-100k" or the path of a ratings CSV (with `items` an optional
            items CSV); `path`/`cache_dir` steer the ml-100k loader; `min_rating`, when set,
            keeps only ratings >= it (the items table keeps the full catalogue).

    Returns:
        The dataset.

    Raises:
        ConfigError: if `config` is not a `DataConfig`.
        DataError: if the source cannot be read or no rating passes `min_rating`.

    Example:
        >>> load_dataset(DataConfig(source="ml-100k", min_rating=4.0)).summary()  # doctest: +SKIP
        'ml-100k: 55,375 ratings, 942 users, 1,682 items'
    """
    if not isinstance(config, DataConfig):
        raise ConfigError(f"`config` should be a DataConfig. Received: {type(config).__name__}")
    if config.source == MOVIELENS_100K:
        if config.items is not None:
            logger.warning("data.items=%r is ignored for source ml-100k", config.items)
        dataset = load_movielens_100k(path=config.path, cache_dir=config.cache_dir)
    else:
        if config.path is not None:
            logger.warning("data.path=%r only applies to source ml-100k; ignored", config.path)
        dataset = load_csv(config.source, config.items)
    if config.min_rating is None:
        return dataset
    kept = dataset.ratings[dataset.ratings["rating"] >= config.min_rating].reset_index(drop=True)
    if kept.empty:
        raise DataError(
            f"no rating of {dataset.name} is >= data.min_rating. Received: min_rating={config.min_rating!r}"
        )
    logger.info("%s: kept %d of %d ratings >= %s", dataset.name, len(kept), dataset.n_ratings, config.min_rating)
    return dataclasses.replace(dataset, ratings=kept)
