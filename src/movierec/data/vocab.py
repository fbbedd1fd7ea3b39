"""Map string ids to contiguous integer indices, once, in the data pipeline.

Models and metrics only ever see indices `0..n-1`; the `Vocab` turns them back
into ids and titles at the edges (CLI, HTTP, reports).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from movierec.errors import UnknownIdError

__all__ = ["Vocab"]


@dataclass(frozen=True)
class Vocab:
    """Id ↔ index maps for users and items.

    Attributes:
        user_ids: `[n_users]` array of user id strings; position = index.
        item_ids: `[n_items]` array of item id strings; position = index.

    Example:
        >>> v = Vocab.build(["u2", "u1"], ["m1"])
        >>> v.user_index(["u1"]).tolist()
        [1]
    """

    user_ids: np.ndarray
    item_ids: np.ndarray

    @classmethod
    def build(cls, user_ids, item_ids) -> "Vocab":
        """Builds a vocabulary from iterables of ids, keeping first-seen order, deduplicated."""
        users = pd.unique(pd.Series(list(user_ids), dtype=str)).astype(object)
        items = pd.unique(pd.Series(list(item_ids), dtype=str)).astype(object)
        return cls(user_ids=np.asarray(users, dtype=object), item_ids=np.asarray(items, dtype=object))

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def _user_map(self) -> pd.Index:
        return pd.Index(self.user_ids)

    def _item_map(self) -> pd.Index:
        return pd.Index(self.item_ids)

    def user_index(self, ids, *, missing: str = "raise") -> np.ndarray:
        """Indices of user ids.

        Args:
            ids: Iterable of user ids (converted to str).
            missing: "raise" to raise `UnknownIdError` on an unknown id, "mask" to return -1.
        """
        return _lookup(self._user_map(), ids, "user", missing)

    def item_index(self, ids, *, missing: str = "raise") -> np.ndarray:
        """Indices of item ids; see `user_index`."""
        return _lookup(self._item_map(), ids, "item", missing)

    def to_dict(self) -> dict:
        return {"user_ids": [str(u) for u in self.user_ids], "item_ids": [str(i) for i in self.item_ids]}

    @classmethod
    def from_dict(cls, data: dict) -> "Vocab":
        return cls(
            user_ids=np.asarray(data["user_ids"], dtype=object),
            item_ids=np.asarray(data["item_ids"], dtype=object),
        )


def _lookup(index: pd.Index, ids, kind: str, missing: str) -> np.ndarray:
    keys = pd.Series(list(ids) if not isinstance(ids, (pd.Series, np.ndarray)) else ids).astype(str)
    positions = index.get_indexer(keys)
    if missing == "raise" and (positions < 0).any():
        unknown = keys[positions < 0].tolist()
        shown = ", ".join(repr(u) for u in unknown[:5])
        more = f" (and {len(unknown) - 5} more)" if len(unknown) > 5 else ""
        raise UnknownIdError(f"unknown {kind} id {shown}{more}")
    return positions.astype(np.int64)
