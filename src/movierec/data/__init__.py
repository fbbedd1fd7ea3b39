"""Data stage: sources (MovieLens sets, CSV, Parquet, synthetic) -> canonical `Dataset` -> splits, vocabularies, features."""

from movierec.data.catalog import MOVIELENS_SETS, MovieLensSet, movielens_set
from movierec.data.csv_source import load_csv, read_ratings
from movierec.data.dataset import Dataset
from movierec.data.features import Features, build_features
from movierec.data.grouplens import load_movielens, read_grouplens_folder, read_movielens
from movierec.data.interactions import Interactions
from movierec.data.load import load_dataset
from movierec.data.movielens100k import load_movielens_100k
from movierec.data.splits import Split, split_ratings
from movierec.data.synthetic import SyntheticConfig, write_synthetic
from movierec.data.vocab import Vocab

__all__ = [
    "Dataset",
    "Vocab",
    "Interactions",
    "Split",
    "split_ratings",
    "load_dataset",
    "load_csv",
    "read_ratings",
    "load_movielens",
    "load_movielens_100k",
    "read_movielens",
    "read_grouplens_folder",
    "MovieLensSet",
    "MOVIELENS_SETS",
    "movielens_set",
    "SyntheticConfig",
    "write_synthetic",
    "Features",
    "build_features",
]
