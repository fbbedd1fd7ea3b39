"""A fixed sample of users: all rows of the chosen users, the same users for the same seed."""

from __future__ import annotations

import numpy as np

from movierec.data import Interactions
from movierec.evaluation import sample_users


def test_keeps_every_row_of_exactly_the_chosen_users():
    rng = np.random.default_rng(0)
    data = Interactions.from_arrays(rng.integers(0, 50, 400), rng.integers(0, 30, 400), n_users=50, n_items=30)
    sample = sample_users(data, 10, seed=3)
    chosen = np.unique(sample.users)
    assert len(chosen) == 10
    assert len(sample) == int(np.isin(data.users, chosen).sum())  # whole users, not single rows
    np.testing.assert_array_equal(np.unique(sample_users(data, 10, seed=3).users), chosen)
    assert sample_users(data, 0) is data and sample_users(data, 50) is data


def test_validation_curves_use_the_sample_and_say_so(block_data, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from movierec.config import ExperimentConfig, TrainConfig
    from movierec.experiments import run_experiment

    config = ExperimentConfig(
        name="s",
        logdir=str(tmp_path),
        models=("model1",),
        train=TrainConfig(epochs=1, batch_size=64, validation_users=5),
    )
    run_experiment(config, dataset=block_data.dataset())
    tags = EventAccumulator(str(tmp_path / "s" / "model1")).Reload().Tags()["tensors"]
    assert "validation_sample" in tags
