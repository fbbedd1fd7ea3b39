"""A trained-model directory: the exported recommender plus what serving needs.

Layout of `MODEL_DIR` (written to a temporary folder, then renamed):

* `model.json`: format marker, model and training config, dataset summary;
* `recommender/`: `Recommender.save` output (a TF SavedModel for TFRS models, `.npz` for baselines);
* `vocab.json`: user and movie ids in index order;
* `items.csv`: movie id, title, genres in index order (titles for output).

The movies each user has seen (excluded from recommendations) are part of the saved
recommender (`recommender/seen.npz`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from movierec._io import atomic_dir
from movierec.config import to_dict
from movierec.data import Dataset, Vocab
from movierec.errors import ModelDirError, UnknownIdError
from movierec.recommender import Recommender
from movierec.registry import load_recommender

__all__ = ["TrainedModel", "save_model_dir", "load_model_dir", "FORMAT"]

FORMAT = "movierec-model/2"  # 2: seen movies moved into the saved recommender


@dataclass
class TrainedModel:
    """A loaded model directory: recommend by id, for known or brand-new users."""

    recommender: Recommender
    vocab: Vocab
    items: pd.DataFrame
    meta: dict[str, Any]

    def recommend_users(
        self, user_ids: list[str], k: int, include_seen: bool = False, batch_size: int = 1024
    ) -> pd.DataFrame:
        """Top-k per user as a long table `user_id, rank, item_id, title, score`.

        Raises:
            UnknownIdError: if a user id is not in the model.
        """
        users = self.vocab.user_index(user_ids)
        items, scores = self.recommender.recommend(users, k, exclude_seen=not include_seen, batch_size=batch_size)
        return self._table(np.asarray(user_ids, dtype=object), items, scores)

    def recommend_new_user(self, item_ids: list[str], k: int) -> pd.DataFrame:
        """Top-k for someone not in the training data, from movies they liked (excluded from output)."""
        known = self.vocab.item_index(item_ids, missing="mask")
        if (known < 0).any():
            bad = [i for i, pos in zip(item_ids, known) if pos < 0]
            raise UnknownIdError(f"unknown item id {', '.join(repr(b) for b in bad[:5])}")
        items, values = self.recommender.recommend_history([known], k)
        return self._table(np.asarray(["(new user)"], dtype=object), items, values)

    def _table(self, user_ids: np.ndarray, items: np.ndarray, scores: np.ndarray) -> pd.DataFrame:
        n, width = items.shape
        flat_items = items.reshape(-1)
        valid = flat_items >= 0
        frame = pd.DataFrame(
            {
                "user_id": np.repeat(user_ids, width),
                "rank": np.tile(np.arange(1, width + 1), n),
                "item_id": self.vocab.item_ids[np.maximum(flat_items, 0)],
                "title": self.items["title"].to_numpy()[np.maximum(flat_items, 0)],
                "score": scores.reshape(-1),
            }
        )
        return frame[valid].reset_index(drop=True)


def save_model_dir(
    directory: str | Path,
    recommender: Recommender,
    vocab: Vocab,
    dataset: Dataset,
    meta: dict[str, Any],
) -> None:
    """Writes a model directory atomically (a temporary sibling folder, then rename)."""
    with atomic_dir(directory) as tmp:
        recommender.save(tmp / "recommender")
        (tmp / "vocab.json").write_text(json.dumps(vocab.to_dict()))
        items = dataset.items.set_index("item_id").reindex(list(vocab.item_ids))
        items.reset_index()[["item_id", "title", "genres"]].to_csv(tmp / "items.csv", index=False)
        (tmp / "model.json").write_text(json.dumps({"format": FORMAT, **to_dict(meta)}, indent=2) + "\n")


def load_model_dir(directory: str | Path) -> TrainedModel:
    """Loads a model directory written by `save_model_dir`.

    Raises:
        ModelDirError: if `directory` is missing or is not a movierec model directory.
    """
    directory = Path(directory)
    meta_path = directory / "model.json"
    if not directory.is_dir():
        raise ModelDirError(f"model directory not found: {directory}")
    try:
        meta = json.loads(meta_path.read_text())
    except (FileNotFoundError, json.JSONDecodeError) as e:
        raise ModelDirError(f"{directory} is not a movierec model directory (no valid model.json)") from e
    if meta.get("format") != FORMAT:
        raise ModelDirError(f"{directory}: unsupported model format {meta.get('format')!r}; expected {FORMAT!r}")
    try:
        vocab = Vocab.from_dict(json.loads((directory / "vocab.json").read_text()))
        items = pd.read_csv(
            directory / "items.csv", dtype={"item_id": str, "title": str, "genres": str}, keep_default_na=False
        )
    except (OSError, KeyError, ValueError) as e:
        raise ModelDirError(f"{directory} is incomplete or corrupt: {e}") from e
    recommender = load_recommender(directory / "recommender")
    return TrainedModel(recommender=recommender, vocab=vocab, items=items, meta=meta)
