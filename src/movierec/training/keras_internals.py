"""The private tf-keras attributes movierec relies on, in one place.

tf-keras 2.21 (pinned) gives no public way to do four things movierec needs: loop a traced train step
`steps_per_execution` times while counting steps as Keras does (`Model._steps_per_execution`,
`Model._train_counter`, `Model._cluster_coordinator`), read an optimizer's Adam moments for one
variable (`_index_dict`, `_var_key`, `_momentums`, `_velocities`), save a SavedModel without
Keras' layer traces (`keras_option_scope` in a private module), and reach a layer's random generator
(`Layer._random_generator`, its `_built`, `_rng_type`, `_maybe_init` and `_generator`) to reseed its dropout for each epoch. Each is read here only, through
`require`, which names the missing symbol and the pinned version when tf-keras changes;
`tests/training/test_keras_internals.py` checks every one of them against the installed version.
"""

from __future__ import annotations

import contextlib
import importlib
from typing import Any

from movierec._env import import_tensorflow

tf, tfrs = import_tensorflow()

__all__ = [
    "MODEL_ATTRIBUTES",
    "OPTIMIZER_ATTRIBUTES",
    "TRACES_MODULE",
    "require",
    "steps_per_execution",
    "uses_cluster_coordinator",
    "count_train_step",
    "adam_moments",
    "without_keras_traces",
    "GENERATOR_ATTRIBUTES",
    "layer_generators",
]

MODEL_ATTRIBUTES = ("_steps_per_execution", "_train_counter", "_cluster_coordinator")
OPTIMIZER_ATTRIBUTES = ("_index_dict", "_var_key", "_momentums", "_velocities")
# of a layer's `_random_generator` (Keras' RandomGenerator)
GENERATOR_ATTRIBUTES = ("_built", "_rng_type", "_maybe_init", "_generator")
TRACES_MODULE = "tf_keras.src.saving.legacy.saved_model.utils"  # holds keras_option_scope


def require(owner: Any, name: str) -> Any:
    """`getattr(owner, name)`, or a RuntimeError naming the private symbol and the pinned tf-keras."""
    try:
        return getattr(owner, name)
    except AttributeError as e:
        version = getattr(tf.keras, "__version__", "?")
        raise RuntimeError(
            f"tf-keras {version} has no {type(owner).__name__}.{name}, a private attribute movierec uses "
            "(movierec.training.keras_internals); install the pinned tf-keras==2.21.0"
        ) from e


def steps_per_execution(model: Any) -> Any:
    """The model's `steps_per_execution` variable (None before `compile`)."""
    return require(model, "_steps_per_execution")


def uses_cluster_coordinator(model: Any) -> bool:
    """Whether the model trains under a parameter-server coordinator (Keras' own loop must run then)."""
    return require(model, "_cluster_coordinator") is not None


def count_train_step(model: Any) -> Any:
    """Adds one to the model's step counter, as Keras' own train function does after each step."""
    return require(model, "_train_counter").assign_add(1)


def adam_moments(optimizer: Any, variable: Any) -> tuple[Any, Any]:
    """`(first, second)` moment slots of `variable` in a tf-keras Adam optimizer."""
    key = require(optimizer, "_index_dict")[require(optimizer, "_var_key")(variable)]
    return require(optimizer, "_momentums")[key], require(optimizer, "_velocities")[key]


def without_keras_traces() -> Any:
    """tf-keras' `save_traces=False` scope (as `model.save(save_traces=False)`); a no-op if it moved."""
    try:
        utils = importlib.import_module(TRACES_MODULE)
    except ImportError:  # pragma: no cover - another tf-keras layout: save with the traces
        return contextlib.nullcontext()
    return require(utils, "keras_option_scope")(save_traces=False)


def layer_generators(model: Any) -> list[Any]:
    """The `tf.random.Generator` of every layer of `model` that draws random numbers (dropout), in a fixed order.

    A layer on TensorFlow's legacy stateful ops (Keras' default, which cannot be reseeded) is switched to a
    generator first: call this before the training step is traced. The model's initial weights, drawn
    already, are untouched.
    """
    generators = []
    for layer in model.submodules:
        if not isinstance(layer, tf.keras.layers.Layer) or not hasattr(layer, "_random_generator"):
            continue
        random_generator = require(layer, "_random_generator")
        if require(random_generator, "_rng_type") == "legacy_stateful" and require(random_generator, "_built"):
            random_generator._rng_type = "stateful"  # legacy keeps no state: made again, as a generator
            random_generator._built = False
        require(random_generator, "_maybe_init")()
        generator = require(random_generator, "_generator")
        if generator is not None:  # None: the layer uses stateless or legacy random ops
            generators.append(generator)
    return generators
