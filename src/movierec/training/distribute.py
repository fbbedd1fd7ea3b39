"""`tf.distribute` strategies by name, for training on several devices or machines.

* "default": one device (TensorFlow's default strategy).
* "mirrored": `MirroredStrategy` over every local GPU (or the CPU when there is none): one
  replica per device, variables mirrored, gradients summed across replicas each step.
* "multi_worker": `MultiWorkerMirroredStrategy` over the processes or machines that the
  `TF_CONFIG` environment variable lists (the same command runs on each; worker 0 is the chief).

In-batch negatives are gathered from every replica (`movierec.models.two_tower`), so R
replicas with a global batch B train the same model as one device with batch B.
"""

from __future__ import annotations

import json
import os
from typing import Any

from movierec._env import import_tensorflow
from movierec.errors import ConfigError

tf, tfrs = import_tensorflow()

__all__ = ["make_strategy", "STRATEGIES"]

STRATEGIES = ("default", "mirrored", "multi_worker")
_CREATED: dict[str, Any] = {}  # a multi-worker strategy may be created once per process


def make_strategy(name: str) -> Any:
    """The `tf.distribute.Strategy` called `name` (created once per process, then reused).

    Raises:
        ConfigError: for an unknown name, or "multi_worker" without a valid `TF_CONFIG`.
    """
    if name not in STRATEGIES:
        raise ConfigError(f"train.strategy must be one of {STRATEGIES}. Received: {name!r}")
    if name not in _CREATED:
        if name == "default":
            _CREATED[name] = tf.distribute.get_strategy()
        elif name == "mirrored":
            _CREATED[name] = tf.distribute.MirroredStrategy()
        else:
            _check_tf_config()
            _CREATED[name] = tf.distribute.MultiWorkerMirroredStrategy()
    return _CREATED[name]


def _check_tf_config() -> None:
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        raise ConfigError("train.strategy = multi_worker needs the TF_CONFIG environment variable (cluster and task)")
    try:
        config = json.loads(raw)
        workers = config["cluster"]["worker"]
        index = int(config["task"]["index"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
        raise ConfigError(f"TF_CONFIG is not a valid cluster description: {e}") from e
    if not 0 <= index < len(workers):
        raise ConfigError(f"TF_CONFIG task.index {index} is not among the {len(workers)} workers")
