"""What an experiment runs on: data source, split, training budget, and the models to compare.

An experiment (`ExperimentConfig`) is a TOML file; CLI flags override it; the resolved
config is written into every run folder, exported model and TensorBoard HParams.
"""

from __future__ import annotations

import dataclasses
import importlib.resources
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from movierec._checks import check_finite_fields, check_non_negative, check_seed
from movierec.config.codec import from_dict, read_toml
from movierec.errors import ConfigError

__all__ = [
    "DataConfig", "SplitConfig", "TrainConfig", "ExperimentConfig", "load_experiment", "packaged_experiments",
    "resolve_train_config",
]  # fmt: skip

# TrainConfig fields a model config may override (TwoTowerConfig has them; None keeps the budget's value)
MODEL_OVERRIDES = (
    "epochs",
    "batch_size",
    "learning_rate",
    "learning_rate_schedule",
    "optimizer",
    "early_stopping_patience",
    "average_epochs",
)


@dataclass(frozen=True)
class DataConfig:
    """Where the ratings come from."""

    # a MovieLens set (ml-100k, ml-1m, ml-10m, ml-20m, ml-25m, ml-32m, ml-latest-small), a folder in a
    # GroupLens layout (e.g. from `movierec data synth`), or a ratings CSV/.parquet (user_id,item_id,rating,timestamp)
    source: str = "ml-100k"
    items: str | None = (
        None  # optional items CSV (item_id,title,genres) for a ratings file; ignored for sets and folders
    )
    path: str | None = (
        None  # local GroupLens <source>.zip or its extracted folder, tried before the cache and any download
    )
    cache_dir: str | None = None  # overrides MOVIEREC_CACHE and the user cache dir
    min_rating: float | None = None  # keep only ratings >= this as positives (None: all ratings count)

    def __post_init__(self) -> None:
        check_finite_fields(self, "data.")


@dataclass(frozen=True)
class SplitConfig:
    """How ratings are split into train / validation / test."""

    strategy: Literal["random", "temporal", "leave_last"] = "random"  # TFRS tutorial uses random 80/20
    test_fraction: float = 0.2  # share of ratings held out (random, temporal)
    validation_fraction: float = 0.1  # share of *train* carved out for early stopping and tuning
    seed: int = 42  # seeds the random split

    def __post_init__(self) -> None:
        check_finite_fields(self, "split.")
        check_seed(self.seed, "split.seed")
        if self.strategy not in ("random", "temporal", "leave_last"):
            raise ConfigError(f"split.strategy must be random, temporal or leave_last. Received: {self.strategy!r}")
        for name in ("test_fraction", "validation_fraction"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ConfigError(f"split.{name} must be in [0, 1). Received: {value!r}")


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation budget shared by every trainable model of an experiment."""

    epochs: int = 5  # maximum epochs; early stopping may end sooner
    batch_size: int = 8192  # TFRS tutorial batch size
    learning_rate: float = 0.1
    # "constant", or "cosine": epoch e of E trains at learning_rate * (1 + cos(pi e / E)) / 2, from the full
    # rate down to near 0 at the last epoch (the annealing most transformer recipes use)
    learning_rate_schedule: Literal["constant", "cosine"] = "constant"
    # the TFRS tutorial uses Adagrad(0.1); "lazy_adam" is Adam that updates only the embedding rows a
    # batch used (`movierec.training.optimizers`), the one that scales to 100k+ users and movies
    optimizer: Literal["adagrad", "adam", "lazy_adam", "sgd"] = "adagrad"
    early_stopping_patience: int = 0  # epochs without validation improvement before stopping; 0 = off
    # the trainable weights averaged over about this many of the latest epochs (Polyak averaging: an exponential
    # moving average updated after every step, momentum 1 - 1 / (average_epochs x steps per epoch)).
    # Validation, early stopping, checkpoints and the saved model use the averaged weights; training goes on
    # from the raw ones. 0 = off
    average_epochs: float = 0.0
    monitor: str = "val_ndcg_at_10"  # validation metric watched by early stopping and checkpoints
    seed: int = 42  # seeds weights and shuffling
    validation_ks: tuple[int, ...] = (1, 5, 10, 50, 100)  # factorized top-k logged each epoch
    # per-epoch validation scores at most this many validation users (a fixed random sample, said so
    # in the logs, TensorBoard and results); 0 scores them all. No effect on MovieLens 100k (943 users).
    validation_users: int = 20_000
    # batches per call into TensorFlow (Keras' steps_per_execution): the Python side of each step
    # (callbacks, iterator, dispatch) then runs once per group. Same updates in the same order, same
    # numbers; measured on 2M generated ratings, an mf_logq epoch of batch 512 took 21.8 s instead of
    # 32.7 s. Callbacks see the batch counter every this many batches.
    steps_per_execution: int = 32
    # XLA-compile the train step (measured: no faster on this 2-core CPU once compile time counts)
    jit_compile: bool = False
    # tf.distribute strategy: "default" (one device), "mirrored" (every local GPU, or CPU if none),
    # "multi_worker" (processes or machines listed in the TF_CONFIG environment variable)
    strategy: Literal["default", "mirrored", "multi_worker"] = "default"

    def __post_init__(self) -> None:
        check_finite_fields(self, "train.")
        check_seed(self.seed, "train.seed")
        for name in ("epochs", "batch_size", "steps_per_execution"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ConfigError(f"train.{name} should be a positive integer. Received: {value!r}")
        if self.learning_rate <= 0:
            raise ConfigError(f"train.learning_rate must be > 0. Received: {self.learning_rate!r}")
        check_non_negative(self.average_epochs, "train.average_epochs")
        if self.learning_rate_schedule not in ("constant", "cosine"):
            raise ConfigError(
                f"train.learning_rate_schedule must be constant or cosine. Received: {self.learning_rate_schedule!r}"
            )
        if self.optimizer not in ("adagrad", "adam", "lazy_adam", "sgd"):
            raise ConfigError(f"train.optimizer must be adagrad, adam, lazy_adam or sgd. Received: {self.optimizer!r}")
        if self.strategy not in ("default", "mirrored", "multi_worker"):
            raise ConfigError(f"train.strategy must be default, mirrored or multi_worker. Received: {self.strategy!r}")


@dataclass(frozen=True)
class ExperimentConfig:
    """One comparison: data, split, budget and the models to compare."""

    name: str = "ml100k"  # runs land in <logdir>/<name>/<model name>
    logdir: str = "runs"
    data: DataConfig = field(default_factory=DataConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    models: tuple[str, ...] = ("model1", "model2", "model2_fixed", "best", "popularity", "ease", "als")  # presets
    ks: tuple[int, ...] = (1, 5, 10, 50, 100)  # cut-offs reported on the test split
    # per-model overrides of preset fields, e.g. {"model1": {"embedding_dim": 64}}
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.models or not all(isinstance(name, str) and name.strip() for name in self.models):
            raise ConfigError(f"models should name at least one preset, none empty. Received: {list(self.models)!r}")


def packaged_experiments() -> tuple[str, ...]:
    """The names of the experiment files shipped inside the package (`movierec/configs/NAME.toml`), sorted.

    Example:
        >>> "ml100k" in packaged_experiments()
        True
    """
    folder = importlib.resources.files("movierec").joinpath("configs")
    return tuple(sorted(entry.name.removesuffix(".toml") for entry in folder.iterdir() if entry.name.endswith(".toml")))


def load_experiment(path: str | Path) -> ExperimentConfig:
    """Reads an experiment TOML file, or the packaged experiment of that name when no such file exists.

    A name such as "ml100k" (or "ml100k.toml") that is not a file resolves to the package's
    `configs/ml100k.toml`, so an installed wheel runs `movierec compare --config ml100k` anywhere.

    Raises:
        ConfigError: if it is neither a file nor a packaged experiment, is not valid TOML, or has unknown keys.
    """
    if Path(path).exists():
        return from_dict(ExperimentConfig, read_toml(path), where=Path(path).name)
    name = str(path).removesuffix(".toml")
    packaged = packaged_experiments()
    if name not in packaged:
        hint = f"; did you mean {Path(name).name!r}?" if Path(name).name in packaged else ""
        raise ConfigError(
            f"experiment config not found: {str(path)!r} is neither a file nor a packaged config "
            f"(packaged: {', '.join(packaged)}){hint}"
        )
    text = importlib.resources.files("movierec").joinpath("configs", f"{name}.toml").read_text("utf-8")
    return from_dict(ExperimentConfig, tomllib.loads(text), where=f"{name}.toml")


def resolve_train_config(train: TrainConfig, model_config: Any) -> TrainConfig:
    """The experiment's budget with the model's own overrides (epochs, batch size, ...) applied."""
    overrides = {
        name: getattr(model_config, name) for name in MODEL_OVERRIDES if getattr(model_config, name, None) is not None
    }
    return dataclasses.replace(train, **overrides)
