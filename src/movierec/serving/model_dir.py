"""A trained-model directory: the exported recommender plus what serving needs.

Layout of `MODEL_DIR` (written to a temporary folder, then renamed):

* `model.json`: format marker, model and training config, dataset summary (`movierec.records.ModelMeta`);
* `recommender/`: `Recommender.save` output (a TF SavedModel for TFRS models, `.npz` for baselines);
* `vocab.json`: user and movie ids in index order;
* `items.csv`: movie id, title, genres in index order (titles for output);
* `manifest.json`: size and SHA-256 of every other file, checked at load (a file it does not list is refused);
* `SIGNATURE`: the manifest's HMAC under this user's key (`movierec._trust`): a folder without a valid one was
  not written by this installation, and loads only with `trust=True` (`--trust`), since a SavedModel is a
  program that runs when loaded.

The movies each user has seen (excluded from recommendations) are part of the saved
recommender (`recommender/seen.npz`). A directory that fails its manifest, or whose parts
disagree in size, is refused with one `ModelDirError` line rather than served.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from movierec._io import atomic_dir, file_sha256, output_problem
from movierec._trust import SIGNATURE, key_path, signature, signature_matches
from movierec.data import Dataset, Vocab
from movierec.errors import ConfigError, DataError, ModelDirError, MovierecError, UnknownIdError
from movierec.explanation import Because
from movierec.recommender import Recommender
from movierec.records import MODEL_FORMAT, ModelMeta
from movierec.registry import load_recommender

__all__ = [
    "TrainedModel", "save_model_dir", "load_model_dir", "verify_model_dir", "check_model_out", "FORMAT", "shown_id",
]  # fmt: skip

FORMAT = MODEL_FORMAT
READABLE_FORMATS = (FORMAT, "movierec-model/2")  # 2 loads without verification (it has no manifest)
MANIFEST = "manifest.json"
SLOW_SECONDS = 2.0  # steps that take longer report their time

logger = logging.getLogger(__name__)


def shown_id(value: str, limit: int = 60) -> str:
    """`repr` of an id for an error message, cut to `limit` characters (ids come from requests)."""
    return repr(value) if len(value) <= limit else repr(value[:limit]) + f"... ({len(value):,} characters)"


@dataclass
class TrainedModel:
    """A loaded model directory: recommend by id, for known or brand-new users."""

    recommender: Recommender
    vocab: Vocab
    items: pd.DataFrame
    meta: ModelMeta

    @property
    def name(self) -> str:
        return self.meta.name

    def describe(self) -> dict[str, Any]:
        """What `model.json` records, for listing served models: kind, configs, data summary, metrics.

        `data.users` and `data.items` are the model's vocabulary; `data.ratings` is the rating count
        of the training data set as `model.json` records it (None in directories written before it did).
        `metrics` is the validation record of the epoch search (`chosen_epochs`, `validation_curve`)
        of models trained with early stopping, else None: a model directory stores no test metrics.
        """
        search = self.meta.epoch_search
        return {
            "model": self.name,
            "kind": self.recommender.kind,
            "config": self.meta.model,
            "train": self.meta.train,
            "data": {
                "dataset": self.meta.dataset or None,
                "users": self.vocab.n_users,
                "items": self.vocab.n_items,
                "ratings": self.meta.ratings,
            },
            "metrics": search.to_dict() if search is not None else None,
        }

    def recommend_users(
        self, user_ids: list[str], k: int, include_seen: bool = False, batch_size: int = 1024, explain: bool = False
    ) -> pd.DataFrame:
        """Top-k per user as a long table `user_id, rank, item_id, title, score`.

        With `explain`, two more columns (`Recommender.explain`): `because`, a list of `(item_id, title, weight)`
        of the user's movies that raise the movie's score most, and `explanation`, how that was measured
        ("popularity" for a list ranked by popularity).

        Raises:
            UnknownIdError: if a user id is not in the model.
            NotExplainableError: with `explain`, for a kind that cannot explain.
        """
        users = self.vocab.user_index(user_ids)
        ids = np.asarray(user_ids, dtype=object)
        if not explain:
            items, scores = self.recommender.recommend(users, k, exclude_seen=not include_seen, batch_size=batch_size)
            return self._table(ids, items, scores)
        items, scores, because = self.recommender.recommend(
            users, k, exclude_seen=not include_seen, batch_size=batch_size, explain=True
        )
        return self._table(ids, items, scores, because)

    def iter_recommendations(
        self, users: np.ndarray, k: int, include_seen: bool = False, batch_size: int = 4096
    ) -> Iterator[pd.DataFrame]:
        """`recommend_users` over user indices, one table per batch, logging progress (every user: minutes)."""
        started, done = time.perf_counter(), 0
        for start in range(0, len(users), batch_size):
            chunk = users[start : start + batch_size]
            items, scores = self.recommender.recommend(chunk, k, exclude_seen=not include_seen)
            yield self._table(self.vocab.user_ids[chunk], items, scores)
            done += len(chunk)
            if len(users) > batch_size:
                elapsed = time.perf_counter() - started
                logger.info("  %s/%s users (%.0f s, about %.0f s left)", f"{done:,}", f"{len(users):,}", elapsed,
                            elapsed / done * (len(users) - done))  # fmt: skip

    def recommend_new_user(self, item_ids: list[str], k: int, explain: bool = False) -> pd.DataFrame:
        """Top-k for someone not in the training data, from movies they liked (excluded from output);
        `explain` as in `recommend_users`."""
        known = self.vocab.item_index(item_ids, missing="mask")
        if (known < 0).any():
            bad = [i for i, pos in zip(item_ids, known) if pos < 0]
            raise UnknownIdError(f"unknown item id {', '.join(shown_id(b) for b in bad[:5])}")
        ids = np.asarray(["(new user)"], dtype=object)
        if not explain:
            items, values = self.recommender.recommend_history([known], k)
            return self._table(ids, items, values)
        items, values, because = self.recommender.recommend_history([known], k, explain=True)
        return self._table(ids, items, values, because)

    def similar_items(self, item_id: str, k: int) -> pd.DataFrame:
        """The k movies most similar to `item_id` as a table `rank, item_id, title, score` (best first)."""
        [index] = self.vocab.item_index([item_id])
        items, scores = self.recommender.similar_items(np.array([index]), k)
        return self._table(np.asarray([item_id], dtype=object), items, scores).drop(columns="user_id")

    def _table(
        self, user_ids: np.ndarray, items: np.ndarray, scores: np.ndarray, because: Because | None = None
    ) -> pd.DataFrame:
        n, width = items.shape
        flat_items = items.reshape(-1)
        valid = flat_items >= 0
        titles = self.items["title"].to_numpy()
        frame = pd.DataFrame(
            {
                "user_id": np.repeat(user_ids, width),
                "rank": np.tile(np.arange(1, width + 1), n),
                "item_id": self.vocab.item_ids[np.maximum(flat_items, 0)],
                "title": titles[np.maximum(flat_items, 0)],
                "score": scores.reshape(-1),
            }
        )
        if because is not None:
            ids = self.vocab.item_ids
            frame["because"] = [
                [(str(ids[j]), str(titles[j]), weight) for j, weight in reasons]
                for row in range(n)
                for reasons in because.row(row)
            ]
            frame["explanation"] = np.repeat(np.where(because.popular, "popularity", because.method), width)
        return frame[valid].reset_index(drop=True)


def check_model_out(directory: str | Path) -> bool:
    """Checks, before training, that `directory` may receive a model; True if it replaces one.

    A movierec model directory is replaced (once the new one is complete); a new or empty
    folder is written; anything else (a file, a folder holding other files, an unwritable
    place) is refused, so `train --out` can never delete files that are not a model.

    Raises:
        ConfigError: naming the problem.
    """
    directory = Path(directory)
    problem = output_problem(directory, folder=True)
    if problem:
        raise ConfigError(problem)
    if not directory.is_dir() or not any(directory.iterdir()):
        return False
    if _is_model_dir(directory):
        return True
    raise ConfigError(
        f"{directory} is a folder that holds other files, not a movierec model; "
        "choose a new or empty folder (it is never emptied)"
    )


def _is_model_dir(directory: Path) -> bool:
    try:
        meta = json.loads((directory / "model.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and str(meta.get("format", "")).startswith("movierec-model/")


def save_model_dir(
    directory: str | Path,
    recommender: Recommender,
    vocab: Vocab,
    dataset: Dataset,
    meta: ModelMeta,
) -> None:
    """Writes a model directory atomically (a temporary sibling folder, then rename).

    Raises:
        ConfigError: if `directory` is neither new, empty nor a model directory (see `check_model_out`).
        ModelDirError: if writing fails (full disk, permissions), with the folder left as it was.
    """
    check_model_out(directory)
    set_labels = getattr(recommender, "set_serving_labels", None)
    if callable(set_labels):  # two-tower exports get TF Serving signatures over string ids
        set_labels(np.asarray(vocab.user_ids, dtype=str), np.asarray(vocab.item_ids, dtype=str))
    try:
        with atomic_dir(directory) as tmp:
            recommender.save(tmp / "recommender")
            (tmp / "vocab.json").write_text(json.dumps(vocab.to_dict()))
            items = dataset.items.set_index("item_id").reindex(list(vocab.item_ids))
            items = items.reset_index()[["item_id", "title", "genres"]].fillna({"title": "", "genres": ""})
            items.to_csv(tmp / "items.csv", index=False)
            written = meta if meta.format == FORMAT else dataclasses.replace(meta, format=FORMAT)
            (tmp / "model.json").write_text(json.dumps(written.to_dict(), indent=2) + "\n")
            files = {
                path.relative_to(tmp).as_posix(): {"bytes": path.stat().st_size, "sha256": file_sha256(path)}
                for path in sorted(tmp.rglob("*"))
                if path.is_file()
            }
            manifest = (json.dumps({"files": files}, indent=1) + "\n").encode()
            (tmp / MANIFEST).write_bytes(manifest)
            (tmp / SIGNATURE).write_text(signature(manifest) + "\n")
    except OSError as e:
        raise ModelDirError(f"cannot write the model to {directory}: {e.strerror or e}") from e


def verify_model_dir(directory: str | Path, trust: bool = False) -> ModelMeta:
    """Checks `directory` against its manifest and signature without loading the model; returns its `model.json`.

    Args:
        directory: A model directory.
        trust: Load a folder this installation did not sign (from another machine or user, or changed since).

    Raises:
        ModelDirError: as `load_model_dir`.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ModelDirError(f"model directory not found: {directory}")
    try:
        meta = json.loads((directory / "model.json").read_text())
    except (OSError, ValueError) as e:
        raise ModelDirError(f"{directory} is not a movierec model directory (no valid model.json)") from e
    if not isinstance(meta, dict):
        raise ModelDirError(f"{directory}/model.json is not a JSON object (got a {type(meta).__name__})")
    if meta.get("format") not in READABLE_FORMATS:
        raise ModelDirError(f"{directory}: unsupported model format {meta.get('format')!r}; expected {FORMAT!r}")
    if meta["format"] == FORMAT:
        _verify_manifest(directory)
    else:
        logger.warning("%s has no manifest (format %s): loaded without verification", directory, meta["format"])
    if not trust:
        _verify_signature(directory, meta["format"] == FORMAT)
    try:
        return ModelMeta.from_dict(meta, where=f"{directory}/model.json")
    except DataError as e:
        raise ModelDirError(str(e)) from e


def load_model_dir(directory: str | Path, trust: bool = False) -> TrainedModel:
    """Loads a model directory written by `save_model_dir`, verified against its manifest and signature.

    Args:
        directory: A model directory.
        trust: Load it even if this installation did not sign it (see `verify_model_dir`).

    Raises:
        ModelDirError: if `directory` is missing, is not a movierec model directory, or is
            incomplete, corrupt or inconsistent (one line naming the file).
    """
    directory = Path(directory)
    started = time.perf_counter()
    meta = verify_model_dir(directory, trust=trust)
    try:
        vocab = Vocab.from_dict(json.loads((directory / "vocab.json").read_text()))
        items = pd.read_csv(
            directory / "items.csv", dtype={"item_id": str, "title": str, "genres": str}, keep_default_na=False
        )
        items = items[["item_id", "title", "genres"]]
    except (OSError, KeyError, TypeError, ValueError) as e:
        raise ModelDirError(f"{directory} is incomplete or corrupt: {type(e).__name__}: {e}") from e
    try:
        recommender = load_recommender(directory / "recommender")
    except MovierecError:
        raise
    except Exception as e:  # a truncated array or SavedModel surfaces as many kinds of error
        raise ModelDirError(f"{directory}/recommender is corrupt: {type(e).__name__}: {_first_line(e)}") from e
    _check_consistent(directory, vocab, items, recommender)
    _check_same_model(directory, meta, recommender)
    model = TrainedModel(recommender=recommender, vocab=vocab, items=items, meta=meta)
    seconds = time.perf_counter() - started
    # a slow load (a large catalogue) is reported, a quick one stays quiet
    logger.log(logging.INFO if seconds > SLOW_SECONDS else logging.DEBUG, "loaded %s from %s in %.1f s",
               model.name, directory, seconds)  # fmt: skip
    return model


def _verify_manifest(directory: Path) -> None:
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
        files = manifest["files"]
        if not isinstance(files, dict):
            raise TypeError("files is not an object")
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ModelDirError(f"{directory}/{MANIFEST} is missing or unreadable: {e}") from e
    if not files:
        raise ModelDirError(f"{directory}/{MANIFEST} lists no files: it verifies nothing")
    on_disk = {path.relative_to(directory).as_posix() for path in directory.rglob("*") if not path.is_dir()}
    unlisted = sorted(on_disk - set(files) - {MANIFEST, SIGNATURE})
    if unlisted:
        raise ModelDirError(
            f"{directory} holds files its {MANIFEST} does not list ({', '.join(unlisted[:3])}"
            f"{', ...' if len(unlisted) > 3 else ''}): it was changed after it was written"
        )
    for name, expected in files.items():
        if not isinstance(expected, dict):
            raise ModelDirError(f"{directory}/{MANIFEST} is unreadable: the entry of {name} is not an object")
        path = directory / name
        if not path.is_file():
            raise ModelDirError(f"{directory} is incomplete: {name} is missing")
        size = path.stat().st_size
        if size != expected.get("bytes"):
            raise ModelDirError(
                f"{directory} is corrupt: {name} has {size:,} bytes, expected {expected.get('bytes'):,}"
            )
        if file_sha256(path) != expected.get("sha256"):
            raise ModelDirError(f"{directory} is corrupt: {name} does not match its checksum in {MANIFEST}")


def _verify_signature(directory: Path, has_manifest: bool) -> None:
    """Refuses, in one line, a folder this installation's key did not sign."""
    try:
        signed = (directory / SIGNATURE).read_text() if has_manifest else ""
        good = bool(signed) and signature_matches((directory / MANIFEST).read_bytes(), signed)
    except (OSError, UnicodeDecodeError):
        good = False
    if not good:
        raise ModelDirError(
            f"{directory} was not signed by this installation of movierec (no valid {SIGNATURE} for the key in "
            f"{key_path()}); a model folder holds a TensorFlow program that runs when it is loaded: pass --trust "
            "if you trust where it came from"
        )


def _check_same_model(directory: Path, meta: ModelMeta, recommender: Recommender) -> None:
    """model.json must describe the recommender the folder holds (not another kind's model.json copied in)."""
    config = recommender.config
    described = (meta.model.get("kind"), meta.model.get("name"))
    held = (getattr(config, "kind", None), getattr(config, "name", None))
    if described != held:
        raise ModelDirError(
            f"{directory} is inconsistent: model.json describes {described[0]} model {described[1]!r}, "
            f"recommender/ holds {held[0]} model {held[1]!r}"
        )


def _check_consistent(directory: Path, vocab: Vocab, items: pd.DataFrame, recommender: Recommender) -> None:
    sizes = {
        "vocab.json users": (vocab.n_users, recommender.n_users),
        "vocab.json movies": (vocab.n_items, recommender.n_items),
        "items.csv rows": (len(items), recommender.n_items),
    }
    for what, (found, expected) in sizes.items():
        if found != expected:
            raise ModelDirError(f"{directory} is inconsistent: {what} = {found:,}, the recommender has {expected:,}")
    if not np.array_equal(items["item_id"].to_numpy(dtype=str), np.asarray(vocab.item_ids, dtype=str)):
        raise ModelDirError(f"{directory} is inconsistent: items.csv and vocab.json list different movie ids")


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else ""
