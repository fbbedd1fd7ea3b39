"""`AutoRecommender`: the contract, choices that follow the validation slice (and nothing else), the budget."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from movierec.cli.main import main
from movierec.config import (
    AutoConfig,
    EaseConfig,
    ExperimentConfig,
    PopularityConfig,
    SplitConfig,
    TrainConfig,
    to_dict,
)
from movierec.data import Interactions
from movierec.errors import ConfigError
from movierec.evaluation import evaluate
from movierec.experiments import fit_final, get_preset
from movierec.experiments.compare import fit_and_evaluate
from movierec.experiments.data import PreparedData, prepare_data
from movierec.recommender import FitOptions, Recommender
from movierec.records import FitDecisions, SelectionRecord
from movierec.registry import build_recommender, config_from_dict
from movierec.selection import AutoRecommender
from movierec.testing import ALL_USERS, N_ITEMS, N_USERS, TRAIN, WITHHELD, RecommenderContract

EASE = {"kind": "ease", "l2": 1.0}
POPULARITY = {"kind": "popularity"}


def _rows(users, items) -> Interactions:
    return Interactions.from_arrays(users, items, n_users=N_USERS, n_items=N_ITEMS)


# Each user's withheld movie of their own block: what EASE ranks first (NDCG@10 1 for every user).
WITHHELD_SLICE = _rows(ALL_USERS, WITHHELD)


def _most_popular_unseen() -> np.ndarray:
    """Per user, the most watched movie they have not seen (lowest index among ties): popularity's top 1."""
    counts = np.bincount(TRAIN.items, minlength=N_ITEMS).astype(float)
    masked = np.where(TRAIN.to_csr().toarray() > 0, -np.inf, counts)
    return np.argmax(masked, axis=1)


def _auto(*candidates, **fields) -> AutoRecommender:
    return AutoRecommender(AutoConfig(candidates=tuple(candidates), **fields))


class TestAuto(RecommenderContract):
    kind = "auto"

    def make(self) -> Recommender:
        return _auto(POPULARITY, EASE)

    def fit_options(self):
        return FitOptions(validation=WITHHELD_SLICE)

    def test_known_answer(self, fitted):
        # EASE puts every user's withheld movie first (validation NDCG@10 = 1); popularity does not
        assert fitted.selection.chosen == "ease"
        items, _ = fitted.recommend(ALL_USERS, k=1)
        np.testing.assert_array_equal(items[:, 0], WITHHELD)
        rows = {row.name: row for row in fitted.selection.candidates}
        reference = build_recommender(PopularityConfig()).fit(TRAIN)
        expected = evaluate(reference, TRAIN, WITHHELD_SLICE, ks=(10,))["ndcg@10"]
        assert rows["popularity"].validation == pytest.approx(expected, abs=1e-6)
        assert rows["ease"].validation == pytest.approx(1.0)
        assert rows["ease"].versus == "popularity" and rows["ease"].gain > 0
        # what run records and `train` say: the choice, and the model whose training counted
        record = fitted.fit_record()
        assert (record.model, record.kind) == (fitted.chosen.name, fitted.chosen.kind)
        assert record.decisions == FitDecisions(selection=fitted.selection)  # EASE decides nothing more
        assert record.summary() == fitted.summary()
        assert fitted.summary().startswith(f"chose ease on the validation ndcg@10 of {N_USERS} users")


def test_the_choice_follows_the_validation_slice():
    """Same training rows, two validation slices: each picks the model that ranks its movies first."""
    by_ease = _auto(POPULARITY, EASE).fit(TRAIN, FitOptions(validation=WITHHELD_SLICE))
    popular = _most_popular_unseen()
    by_popularity = _auto(POPULARITY, EASE).fit(TRAIN, FitOptions(validation=_rows(ALL_USERS, popular)))
    assert by_ease.selection.chosen == "ease"
    assert by_popularity.selection.chosen == "popularity"
    np.testing.assert_array_equal(by_popularity.recommend(ALL_USERS, k=1)[0][:, 0], popular)


def test_the_choice_never_reads_test(block_data):
    """Through the compare job: two test slices, the same validation slice -> the same choice and scores."""
    dataset = block_data.dataset()
    data = prepare_data(ExperimentConfig(split=SplitConfig(strategy="random", seed=3)), dataset)
    reversed_test = _swap_test(data)
    config = AutoConfig(candidates=(POPULARITY, EASE, {"kind": "als", "factors": 4, "iterations": 3}))
    first, one = fit_and_evaluate(config, data, TrainConfig(), (10,), None)
    second, two = fit_and_evaluate(config, reversed_test, TrainConfig(), (10,), None)
    assert one.test["ndcg@10"] != two.test["ndcg@10"]  # the test slices do differ
    assert _without_seconds(first.selection) == _without_seconds(second.selection)  # scores, gains, choice


def _without_seconds(selection: SelectionRecord) -> SelectionRecord:
    return dataclasses.replace(
        selection, candidates=tuple(dataclasses.replace(row, seconds=None) for row in selection.candidates)
    )


def _swap_test(data: PreparedData) -> PreparedData:
    """`data` with test rows pointed at other movies (each test user's rows shifted by one item)."""
    test = data.test
    moved = Interactions.from_arrays(
        test.users, (test.items + 1) % test.n_items, n_users=test.n_users, n_items=test.n_items
    )
    return dataclasses.replace(data, test=moved)


def test_earlier_candidates_keep_noise_level_ties():
    """A later candidate must lead by more than margin_se paired standard errors; 0 takes any higher mean."""
    validation = _rows(ALL_USERS, _most_popular_unseen())
    # EASE first: popularity is ahead on this slice; with an unreachable margin EASE stays
    stubborn = _auto(EASE, POPULARITY, margin_se=1e9).fit(TRAIN, FitOptions(validation=validation))
    assert stubborn.selection.chosen == "ease"
    row = stubborn.selection.candidates[1]
    assert row.versus == "ease" and row.gain > 0
    eager = _auto(EASE, POPULARITY, margin_se=0.0).fit(TRAIN, FitOptions(validation=validation))
    assert eager.selection.chosen == "popularity"
    # the same two candidates, the same slice: identical records
    again = _auto(EASE, POPULARITY, margin_se=0.0).fit(TRAIN, FitOptions(validation=validation))
    assert _without_seconds(again.selection) == _without_seconds(eager.selection)


def test_no_candidate_starts_after_the_time_budget():
    rec = _auto(EASE, POPULARITY, time_budget=1e-9).fit(TRAIN, FitOptions(validation=WITHHELD_SLICE))
    statuses = [(row.name, row.status) for row in rec.selection.candidates]
    assert statuses == [("ease", "fitted"), ("popularity", "skipped")]
    assert rec.selection.chosen == "ease"
    assert "popularity skipped (time budget)" in rec.summary()


def test_fitting_without_a_validation_slice_is_refused():
    with pytest.raises(ConfigError, match="needs a validation slice"):
        _auto(EASE, POPULARITY).fit(TRAIN, FitOptions())


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"candidates": ()}, "non-empty"),
        ({"candidates": ({"l2": 1.0},)}, r"candidates\[0\] must be a table with a `kind`"),
        ({"candidates": ({"kind": "auto"},)}, "cannot itself be `auto`"),
        ({"candidates": (EASE, {"kind": "ease"})}, r"names must be unique.*\['ease'\]"),
        ({"time_budget": 0}, "time_budget"),
        ({"metric": "ndcg@5"}, "metric must be one of"),
        ({"margin_se": -1.0}, "margin_se"),
    ],
)
def test_bad_configs_are_refused_in_one_line(fields, message):
    with pytest.raises(ConfigError, match=message):
        AutoConfig(**fields)


def test_a_bad_candidate_is_named_before_any_fit():
    with pytest.raises(ConfigError, match=r"model\.candidates\[1\]"):
        config_from_dict({"kind": "auto", "candidates": [POPULARITY, {"kind": "ease", "l2": -1.0}]})


def test_the_auto_preset_starts_with_best_and_holds_the_baselines_and_the_chain():
    config = get_preset("auto")
    names = [config_from_dict(c).name for c in config.candidates]
    assert names[0] == "best" and {"ease", "als", "popularity", "markov", "fast", "sequential"} <= set(names)
    assert config_from_dict(config.candidates[0]) == get_preset("best")


def test_fit_final_refit_trains_the_chosen_candidate_again(block_data):
    config = AutoConfig(candidates=(POPULARITY, {"kind": "ease", "l2": 1.0}))
    recommender, data, info = fit_final(config, block_data.dataset(), TrainConfig(), 0.2, refit=True)
    assert info.decisions.selection.chosen in {"popularity", "ease"}
    assert recommender.kind == info.decisions.selection.chosen
    assert len(data.train) == len(block_data.ratings)  # the refit saw every rating
    config_name = EaseConfig if recommender.kind == "ease" else PopularityConfig
    assert isinstance(recommender.config, config_name)


def test_cli_trains_auto_says_why_and_serves_the_choice(tmp_path, capsys, block_data):
    block_data.ratings.to_csv(tmp_path / "r.csv", index=False)
    (tmp_path / "auto.toml").write_text(
        'kind = "auto"\nname = "auto"\n[[candidates]]\nkind = "popularity"\n[[candidates]]\nkind = "ease"\nl2 = 1.0\n'
    )
    args = ["train", "--ratings", str(tmp_path / "r.csv"), "--config", str(tmp_path / "auto.toml")]
    assert main([*args, "--out", str(tmp_path / "M")]) == 0
    out = capsys.readouterr().out
    meta = json.loads((tmp_path / "M" / "model.json").read_text())
    chosen = meta["epoch_search"]["selection"]["chosen"]
    assert f"chose {chosen} on the validation ndcg@10" in out
    saved = json.loads((tmp_path / "M" / "recommender" / "recommender.json").read_text())
    # candidates are saved with every field resolved
    assert saved["kind"] == "auto" and saved["config"]["candidates"][1] == to_dict(EaseConfig(l2=1.0))
    assert main(["recommend", "--model", str(tmp_path / "M"), "--user", "u1", "-k", "3"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 3
    # no validation slice, nothing to choose on: one line, exit 2, nothing written
    assert main([*args, "--validation-fraction", "0", "--out", str(tmp_path / "N")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "validation fraction > 0" in err[0]
    assert not (tmp_path / "N").exists()


def test_compare_runs_auto_beside_the_others(tmp_path, block_data):
    """`movierec compare` with `auto`: results.json and TensorBoard record the choice; the report says it."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from movierec.experiments import run_experiment
    from movierec.report import markdown_report

    config = ExperimentConfig(
        name="auto",
        logdir=str(tmp_path),
        models=("popularity", "auto"),
        overrides={"auto": {"candidates": [POPULARITY, EASE]}},
    )
    results = run_experiment(config, dataset=block_data.dataset())
    selection = results.models["auto"].decisions.selection
    assert selection.chosen in {"popularity", "ease"}
    assert [row.name for row in selection.candidates] == ["popularity", "ease"]
    # the chosen candidate's test scores are auto's: popularity is also a model of this experiment
    if selection.chosen == "popularity":
        assert results.models["auto"].test == results.models["popularity"].test
    tags = EventAccumulator(str(tmp_path / "auto" / "auto")).Reload().Tags()["tensors"]
    assert "fit" in tags  # the choice, as text
    report = markdown_report([tmp_path / "auto" / "results.json"])
    assert f"- `auto` chose **{selection.chosen}** on the validation ndcg@10 of " in report
