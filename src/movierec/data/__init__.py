"""Data stage: sources (MovieLens 100k, CSV) -> canonical `Dataset` -> splits, vocabularies, features."""

from movierec.data.csv_source import load_csv
from movierec.data.dataset import Dataset
from movierec.data.features import Features, build_features
from movierec.data.interactions import Interactions
from movierec.data.load import load_dataset
from movierec.data.movielens import load_movielens_100k
from movierec.data.splits import Split, split_ratings
from movierec.data.vocab import Vocab

__all__ = [
    "Dataset",
    "Vocab",
    "Interactions",
    "Split",
    "split_ratings",
    "load_dataset",
    "load_csv",
    "load_movielens_100k",
    "Features",
    "build_features",
]
