"""Test helpers shipped with the package: the shared `Recommender` contract (needs pytest)."""

from movierec.testing.contract import (
    ALL_USERS,
    BLOCK,
    CYCLIC,
    N_ITEMS,
    N_USERS,
    OWN_BLOCK,
    TRAIN,
    WITHHELD,
    RecommenderContract,
    block_data,
    cyclic_blocks,
)

__all__ = [
    "ALL_USERS",
    "BLOCK",
    "CYCLIC",
    "N_ITEMS",
    "N_USERS",
    "OWN_BLOCK",
    "TRAIN",
    "WITHHELD",
    "RecommenderContract",
    "block_data",
    "cyclic_blocks",
]
