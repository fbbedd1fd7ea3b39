"""The data every model of an experiment shares: loaded, split and encoded once."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pandas as pd

from movierec.config import ExperimentConfig
from movierec.data import Dataset, Features, Interactions, Split, Vocab, build_features, load_dataset, split_ratings

__all__ = ["PreparedData", "items_in_vocab_order", "prepare_data"]


@dataclass(frozen=True)
class PreparedData:
    """Everything models need, encoded once: vocab, split interactions, side features."""

    dataset: Dataset
    vocab: Vocab
    split: Split
    train: Interactions
    validation: Interactions
    test: Interactions
    features: Features

    @functools.cached_property
    def seen(self) -> Interactions:
        """Train + validation: the items a user had rated before the test period."""
        return self.train.concat(self.validation)

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "validation": len(self.validation), "test": len(self.test)}


def prepare_data(config: ExperimentConfig, dataset: Dataset | None = None) -> PreparedData:
    """Loads (unless given), splits and encodes the experiment's data.

    The vocabulary covers every user and movie of the dataset (ids only, no labels), so
    test movies nobody rated in train are still candidates, as in the TFRS tutorial.
    """
    dataset = dataset if dataset is not None else load_dataset(config.data)
    split = split_ratings(dataset.ratings, config.split)
    # Dataset.create lists every rated movie in `items`, so the items table alone fixes the movie vocabulary
    vocab = Vocab.build(dataset.ratings["user_id"], dataset.items["item_id"])
    return PreparedData(
        dataset=dataset,
        vocab=vocab,
        split=split,
        train=Interactions.from_frame(split.train, vocab),
        validation=Interactions.from_frame(split.validation, vocab),
        test=Interactions.from_frame(split.test, vocab),
        features=build_features(dataset, vocab),
    )


def items_in_vocab_order(data: PreparedData) -> pd.DataFrame:
    """The dataset's items table (`item_id`, `title`, `genres`, ...) with one row per vocabulary movie, in its order."""
    items = data.dataset.items.set_index("item_id")
    return items.reindex(list(data.vocab.item_ids)).reset_index()
