"""One entry point from a `DataConfig` to a canonical `Dataset`."""

from __future__ import annotations

import logging
from pathlib import Path

from movierec.config import DataConfig
from movierec.data.catalog import MOVIELENS_SETS, is_movielens_name, movielens_set
from movierec.data.csv_source import load_csv
from movierec.data.dataset import Dataset
from movierec.data.grouplens import load_movielens, read_grouplens_folder
from movierec.errors import ConfigError, DataError

__all__ = ["load_dataset"]

logger = logging.getLogger(__name__)


def load_dataset(config: DataConfig) -> Dataset:
    """Loads the dataset `config` names and applies its rating filter.

    Args:
        config: `source` is a MovieLens set name ("ml-100k", "ml-1m", "ml-10m", "ml-20m", "ml-25m",
            "ml-32m", "ml-latest-small"), a folder in a GroupLens layout (e.g. written by
            `movierec data synth`), or the path of a ratings CSV or `.parquet` file (with `items`
            an optional items CSV); `path`/`cache_dir` steer the MovieLens loaders; `min_rating`,
            when set, keeps only ratings >= it (the items table keeps the full catalogue).

    Returns:
        The dataset.

    Raises:
        ConfigError: if `config` is not a `DataConfig`.
        DataError: if the source cannot be read, a MovieLens name is unknown (the message lists
            the known ones) or no rating passes `min_rating`.

    Example:
        >>> load_dataset(DataConfig(source="ml-100k", min_rating=4.0)).summary()  # doctest: +SKIP
        'ml-100k: 55,375 ratings, 942 users, 1,682 items'
    """
    if not isinstance(config, DataConfig):
        raise ConfigError(f"`config` should be a DataConfig. Received: {type(config).__name__}")
    source = config.source
    if source in MOVIELENS_SETS or (is_movielens_name(source) and not Path(source).exists()):
        movielens_set(source)  # an unknown "ml-..." name: one line listing the known names
        if config.items is not None:
            logger.warning("data.items=%r is ignored for source %s", config.items, source)
        dataset = load_movielens(source, path=config.path, cache_dir=config.cache_dir)
    else:
        if config.path is not None:
            logger.warning("data.path=%r only applies to a MovieLens source; ignored", config.path)
        if Path(source).expanduser().is_dir():
            if config.items is not None:
                logger.warning("data.items=%r is ignored for the folder %s (it holds its movies)", config.items, source)
            dataset = read_grouplens_folder(source)
        else:
            dataset = load_csv(source, config.items)
    if config.min_rating is None:
        return dataset
    kept = dataset.ratings[dataset.ratings["rating"] >= config.min_rating].reset_index(drop=True)
    if kept.empty:
        raise DataError(
            f"no rating of {dataset.name} is >= data.min_rating. Received: min_rating={config.min_rating!r}"
        )
    logger.info("%s: kept %d of %d ratings >= %s", dataset.name, len(kept), dataset.n_ratings, config.min_rating)
    return Dataset.create(dataset.name, kept, dataset.items, dataset.users)
