"""Test helpers shipped with the package: the shared `Recommender` contract (needs pytest)."""

from movierec.testing.contract import (
    ALL_USERS,
    BLOCK,
    N_ITEMS,
    N_USERS,
    OWN_BLOCK,
    TRAIN,
    WITHHELD,
    RecommenderContract,
    block_data,
)

__all__ = [
    "ALL_USERS",
    "BLOCK",
    "N_ITEMS",
    "N_USERS",
    "OWN_BLOCK",
    "TRAIN",
    "WITHHELD",
    "RecommenderContract",
    "block_data",
]
