"""`model.json` of a model directory: what `movierec train` trained, on what, and how it chose its epochs.

`movierec train` is the one writer (through `movierec.serving.save_model_dir`); serving and the CLI
read it. Directories written before a field existed still read: `ratings` is then None (the older
file states the count only inside the dataset's summary sentence, which is not parsed back).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from movierec.records._fields import field_of, object_of
from movierec.records.fit import EpochSearch

__all__ = ["ModelMeta", "MODEL_FORMAT"]

MODEL_FORMAT = "movierec-model/3"  # 3: manifest.json; 2: seen movies moved into the saved recommender


@dataclass(frozen=True)
class ModelMeta:
    """The contents of `model.json`.

    Example:
        >>> meta = ModelMeta(model={"kind": "ease", "name": "ease"}, dataset="toy: 9 ratings, 3 users, 3 items",
        ...                  ratings=9)
        >>> meta.name, ModelMeta.from_dict(meta.to_dict()) == meta
        ('ease', True)
    """

    model: dict[str, Any]  # the model config (`to_dict`), `kind` and `name` included
    dataset: str = ""  # `Dataset.summary()` of the training data, for people
    ratings: int | None = None  # ratings in the training data set (None: a directory written before it was recorded)
    train: dict[str, Any] | None = None  # the training budget used (`TrainConfig`), None if none was recorded
    data: dict[str, Any] | None = None  # where the ratings came from (`DataConfig`)
    epoch_search: EpochSearch | None = None  # how the epochs were chosen on a validation slice; None without one
    format: str = MODEL_FORMAT  # the directory layout's version

    @property
    def name(self) -> str:
        return str(self.model.get("name", "unknown"))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"format": self.format, "model": self.model, "train": self.train,
                               "dataset": self.dataset}  # fmt: skip
        if self.ratings is not None:
            out["ratings"] = self.ratings
        out["data"] = self.data
        out["epoch_search"] = self.epoch_search.to_dict() if self.epoch_search is not None else {}
        return out

    @classmethod
    def from_dict(cls, data: Any, where: str = "model.json") -> ModelMeta:
        data = object_of(data, where)
        search = field_of(data, "epoch_search", dict, where, None)
        return cls(
            format=field_of(data, "format", str, where),
            model=field_of(data, "model", dict, where),
            dataset=field_of(data, "dataset", str, where, ""),
            ratings=field_of(data, "ratings", int, where, None),
            train=field_of(data, "train", dict, where, None),
            data=field_of(data, "data", dict, where, None),
            epoch_search=EpochSearch.from_dict(search, f"{where}: 'epoch_search'") if search else None,
        )
