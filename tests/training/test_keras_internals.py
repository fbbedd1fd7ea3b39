"""Every private tf-keras symbol movierec reads exists in the installed (pinned) version, and fails by name if not."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from movierec._env import import_tensorflow
from movierec.training.keras_internals import (
    GENERATOR_ATTRIBUTES,
    MODEL_ATTRIBUTES,
    OPTIMIZER_ATTRIBUTES,
    TRACES_MODULE,
    adam_moments,
    count_train_step,
    layer_generators,
    require,
    steps_per_execution,
    uses_cluster_coordinator,
    without_keras_traces,
)

tf, tfrs = import_tensorflow()


def _compiled_model():
    model = tf.keras.Sequential([tf.keras.layers.Dense(1, input_shape=(2,))])
    model.compile(optimizer="sgd", loss="mse", steps_per_execution=3)
    return model


@pytest.mark.parametrize("name", MODEL_ATTRIBUTES)
def test_model_attributes_exist(name):
    model = _compiled_model()
    assert hasattr(model, name), f"tf-keras no longer has Model.{name}"
    require(model, name)  # and the reader does not raise


@pytest.mark.parametrize("name", OPTIMIZER_ATTRIBUTES)
def test_optimizer_attributes_exist(name):
    optimizer = tf.keras.optimizers.Adam()
    optimizer.build([tf.Variable(np.zeros(2, np.float32))])
    assert require(optimizer, name) is not None, f"tf-keras Adam.{name} is None"


def test_traces_scope_exists():
    assert hasattr(importlib.import_module(TRACES_MODULE), "keras_option_scope")
    with without_keras_traces():
        pass


def test_a_missing_symbol_is_named():
    with pytest.raises(RuntimeError, match=r"has no Sequential\._no_such_thing.*tf-keras==2\.21\.0"):
        require(_compiled_model(), "_no_such_thing")


def test_the_helpers_read_what_keras_does():
    model = _compiled_model()
    assert int(steps_per_execution(model).numpy()) == 3
    assert not uses_cluster_coordinator(model)
    count_train_step(model)
    assert int(model._train_counter.numpy()) == 1  # the counter Keras' own train function advances
    # one Adam step on a gradient g: the first moment is (1 - beta_1) g, the second (1 - beta_2) g^2
    variable = tf.Variable(np.zeros(2, np.float32))
    optimizer = tf.keras.optimizers.Adam(beta_1=0.9, beta_2=0.999)
    optimizer.apply_gradients([(tf.constant([2.0, -1.0]), variable)])
    first, second = adam_moments(optimizer, variable)
    np.testing.assert_allclose(first.numpy(), [0.2, -0.1], rtol=1e-6)
    np.testing.assert_allclose(second.numpy(), [0.004, 0.001], rtol=1e-5)


@pytest.mark.parametrize("name", GENERATOR_ATTRIBUTES)
def test_random_generator_attributes_exist(name):
    layer = tf.keras.layers.Dropout(0.5, seed=1)
    assert hasattr(layer, "_random_generator"), "tf-keras layers no longer have _random_generator"
    require(layer._random_generator, "_maybe_init")()  # made lazily: _generator exists from here
    require(layer._random_generator, name)


def test_layer_generators_finds_dropout_and_reseeding_repeats_its_masks():
    model = tf.keras.Sequential([tf.keras.layers.Dense(8, input_shape=(4,)), tf.keras.layers.Dropout(0.5, seed=1)])
    (generator,) = layer_generators(model)
    generator.reset_from_seed(7)
    first = model(tf.ones([3, 4]), training=True).numpy()
    assert not np.array_equal(first, model(tf.ones([3, 4]), training=True).numpy())  # the masks move on
    generator.reset_from_seed(7)
    assert np.array_equal(first, model(tf.ones([3, 4]), training=True).numpy())  # and repeat from the same seed
