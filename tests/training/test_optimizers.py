"""LazyAdam: Adam on the rows a batch used, checked against a numpy reference."""

from __future__ import annotations

import numpy as np
import pytest

from movierec._env import import_tensorflow
from movierec.training.optimizers import cosine_rate, learning_rate_callback, make_optimizer

tf, _ = import_tensorflow()

LR, B1, B2, EPS = 0.1, 0.9, 0.999, 1e-7


def _sparse(values, indices, rows: int):
    return tf.IndexedSlices(tf.constant(values, tf.float32), tf.constant(indices, tf.int64), tf.constant([rows, 2]))


def test_lazy_adam_updates_only_the_rows_in_the_batch_with_the_adam_formula():
    start = np.arange(6, dtype=np.float32).reshape(3, 2)
    table = tf.Variable(start)
    optimizer = make_optimizer("lazy_adam", LR)
    # step 1: row 0 once and row 2 twice (the two gradients of row 2 are summed)
    optimizer.apply_gradients([(_sparse([[1.0, -2.0], [0.5, 0.5], [0.5, 0.5]], [0, 2, 2], 3), table)])
    after_first = table.numpy().copy()
    # step 2: row 1 only
    optimizer.apply_gradients([(_sparse([[3.0, 4.0]], [1], 3), table)])

    def first_update(grad: np.ndarray, step: int) -> np.ndarray:
        m, v = (1 - B1) * grad, (1 - B2) * grad**2
        alpha = LR * np.sqrt(1 - B2**step) / (1 - B1**step)
        return alpha * m / (np.sqrt(v) + EPS)

    expected_first = start.copy()
    expected_first[0] -= first_update(np.array([1.0, -2.0]), 1)
    expected_first[2] -= first_update(np.array([1.0, 1.0]), 1)
    np.testing.assert_allclose(after_first, expected_first, rtol=1e-6)
    expected = expected_first.copy()
    expected[1] -= first_update(np.array([3.0, 4.0]), 2)  # rows 0 and 2 stay where step 1 left them
    np.testing.assert_allclose(table.numpy(), expected, rtol=1e-6)


def test_lazy_adam_dense_gradients_follow_keras_adam():
    lazy_var, keras_var = tf.Variable([[1.0, 2.0]]), tf.Variable([[1.0, 2.0]])
    lazy, keras_adam = make_optimizer("lazy_adam", LR), make_optimizer("adam", LR)
    for grad in ([[0.3, -0.1]], [[-0.2, 0.4]]):
        lazy.apply_gradients([(tf.constant(grad), lazy_var)])
        keras_adam.apply_gradients([(tf.constant(grad), keras_var)])
    np.testing.assert_allclose(lazy_var.numpy(), keras_var.numpy(), rtol=1e-6)
    assert not np.allclose(lazy_var.numpy(), [[1.0, 2.0]])  # it did move


def test_cosine_rate_known_values():
    # base (1 + cos(pi e / E)) / 2 for E = 4: 1, (1 + 1/sqrt 2) / 2, 1/2, (1 - 1/sqrt 2) / 2
    expected = [1.0, (1 + 2**-0.5) / 2, 0.5, (1 - 2**-0.5) / 2]
    np.testing.assert_allclose([cosine_rate(0.2, e, 4) for e in range(4)], np.multiply(expected, 0.2), rtol=1e-12)
    assert cosine_rate(0.2, 9, 4) == 0.0  # past the budget (a resumed run given fewer epochs): no negative rate


def test_learning_rate_callback_sets_each_epochs_rate():
    assert learning_rate_callback("constant", 0.1, 5) is None
    model = tf.keras.Sequential([tf.keras.layers.Dense(1)])
    model.compile(optimizer=make_optimizer("adam", 0.1), loss="mse")
    rates: list[float] = []
    record = tf.keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: rates.append(float(model.optimizer.learning_rate.numpy()))
    )
    x = np.ones((4, 2), np.float32)
    model.fit(x, x[:, :1], epochs=3, verbose=0, callbacks=[learning_rate_callback("cosine", 0.1, 3), record])
    np.testing.assert_allclose(rates, [0.1, 0.075, 0.025], rtol=1e-6)  # 0.1 (1 + cos(pi e / 3)) / 2


def test_unknown_schedule_is_refused():
    with pytest.raises(ValueError, match="unknown learning rate schedule 'linear'"):
        learning_rate_callback("linear", 0.1, 3)
