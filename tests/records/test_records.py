"""The typed run records: round trips with known values, the sentences people read, one-line errors."""

from __future__ import annotations

import json
import math

import pytest

from movierec.errors import DataError
from movierec.records import (
    CandidateResult,
    ChoiceRecord,
    EpochSearch,
    FitDecisions,
    FitRecord,
    ModelMeta,
    ModelResult,
    OrderDecision,
    PrecisionDecision,
    RecencyDecision,
    RunResults,
    SelectionRecord,
    SplitSizes,
)

ORDER = OrderDecision(used=True, ordered=0.3, unordered=0.1, se=0.05, users=40, margin_se=2.0, seconds=1.25)
RECENCY = RecencyDecision("validation", True, 0.25, 3, plain=-6.85, weighted=-6.83, gain_se=0.002)
SELECTION = SelectionRecord(
    metric="ndcg@10", margin_se=1.0, chosen="best", time_budget=600.0, validation_users=40,
    candidates=(CandidateResult("best", "two_tower", "fitted", 0.4, 12.5),
                CandidateResult("ease", "ease", "fitted", 0.3, 0.2, versus="best", gain=-0.1, gain_se=None)),
)  # fmt: skip
FULL_RESULT = ModelResult(
    kind="two_tower", test={"ndcg@10": 0.25, "rmse": 0.9}, validation={"ndcg@10": 0.2}, train_seconds=2.0,
    eval_seconds=0.5, config={"kind": "two_tower", "name": "fast"}, train_config={"batch_size": 64},
    history={"loss": [3.0, 2.0]}, epoch_seconds=(1.0, 1.0), epochs_run=2, decisions=FitDecisions(recency=RECENCY),
    samples=({"user_id": "u1", "watched": ["A"], "top": [{"title": "B"}]},),
    popularity={"edges": [0, 1], "catalogue": [1.0], "recommended": [1.0]}, race={"ease": 1.0},
)  # fmt: skip


def _json_round_trip(data: dict) -> dict:
    return json.loads(json.dumps(data))


@pytest.mark.parametrize(
    "record",
    [
        ORDER, RECENCY, SELECTION, ChoiceRecord("sequential", ORDER),
        FitDecisions(selection=SELECTION, recency=RECENCY), FitDecisions(),
        PrecisionDecision("auto", "bfloat16"), FitDecisions(choice=ChoiceRecord("s", ORDER), precision=PrecisionDecision("bfloat16", "bfloat16")),
        FitRecord("fast", "two_tower", {"kind": "two_tower", "recency": "on"}, {"loss": [2.0, 1.5]}, (1.0, 2.0),
                  FitDecisions(recency=RECENCY)),
        EpochSearch("temporal", 3, {"val_ndcg_at_10": [0.1, 0.2, 0.3]}, True, FitDecisions(choice=ChoiceRecord("b", ORDER))),
        EpochSearch(None, 1, {}, False),
        ModelMeta(model={"kind": "ease", "name": "ease"}, dataset="x: 3 ratings, 1 users, 3 items", ratings=3,
                  train={"epochs": 5}, data={"source": "x.csv"}, epoch_search=EpochSearch("random", 1, {}, False)),
        FULL_RESULT, ModelResult("popularity", {"ndcg@10": 0.1}, train_seconds=0.0),
        SplitSizes("leave_last", 10, 2, 3),
        RunResults("toy", {"a": FULL_RESULT}, "toy: 9 ratings", SplitSizes("random", 6, 1, 2), "train+validation",
                   {"name": "toy"}, 3.5),
    ],
    ids=lambda record: type(record).__name__,
)  # fmt: skip
def test_every_record_survives_json(record):
    """`from_dict(to_dict(r)) == r` through JSON text, as the files store them."""
    assert type(record).from_dict(_json_round_trip(record.to_dict())) == record


def test_a_model_result_writes_the_keys_results_json_has_always_had():
    written = FULL_RESULT.to_dict()
    assert list(written) == [
        "kind", "config", "test", "validation", "train_seconds", "eval_seconds", "train_config", "history",
        "epoch_seconds", "epochs_run", "recency", "samples", "popularity", "seconds_to_ease",
    ]  # fmt: skip
    assert written["recency"]["gain_se"] == 0.002 and written["seconds_to_ease"] == 1.0
    baseline = ModelResult("ease", {"ndcg@10": 0.5}, train_seconds=0.1).to_dict()
    # a baseline has no curves, no budget and no epochs: the keys a reader tells baselines by stay absent
    assert not {"train_config", "history", "epochs_run", "seconds_to_ease"} & set(baseline)


def test_a_candidate_compared_with_none_records_no_comparison():
    assert CandidateResult("a", "ease", "fitted", 0.5, 1.0).to_dict() == {
        "name": "a", "kind": "ease", "status": "fitted", "validation": 0.5, "seconds": 1.0,
    }  # fmt: skip
    # a comparison whose standard error was not finite keeps gain_se as null
    assert SELECTION.candidates[1].to_dict()["gain_se"] is None and "gain_se" in SELECTION.candidates[1].to_dict()


def test_the_sentences_people_read():
    assert SELECTION.summary(chosen_style="**") == (
        "chose **best** on the validation ndcg@10 of 40 users, where a later candidate must lead by more than "
        "1 paired SE: best 0.4000, ease 0.3000 (-0.1000 vs best)"
    )
    # (0.3 - 0.1) / 0.05 = +4.0 paired SE
    assert ChoiceRecord("sequential", ORDER).summary() == (
        "trained sequential: order predicts the next movies: an ordered model (validation NDCG@10 of 40 users: Markov "
        "chain over the latest movies 0.3000, item co-occurrence 0.1000, +4.0 paired SE, threshold 2; checked "
        "in 1.2 s)"
    )
    # a chooser's line first, then what the kept candidate decided, named
    lines = FitDecisions(selection=SELECTION, recency=RECENCY).summary().splitlines()
    assert lines[0].startswith("chose best ") and lines[1].startswith("best: counted the latest 25% of the ")
    assert lines[1].endswith("(mean log-probability -6.8300 against -6.8500; standard error of the per-rating "
                             "difference 0.0020)")  # fmt: skip
    assert FitDecisions().summary() is None and not FitDecisions()
    assert PrecisionDecision("auto", "float32").summary() == (
        "the catalogue's softmax in float32 (loss.logits_dtype = 'auto': this CPU has no bfloat16 units)"
    )
    lines = FitDecisions(choice=ChoiceRecord("s", ORDER), precision=PrecisionDecision("bfloat16", "bfloat16"))
    assert (
        lines.summary().splitlines()[1]
        == "the catalogue's softmax in bfloat16 (loss.logits_dtype = 'bfloat16': as configured)"
    )
    record = FitRecord("ease", "ease", {"kind": "ease"})
    assert record.summary() is None and record.history == {} and record.epoch_seconds == ()


def test_fields_added_later_have_defaults():
    """A results.json entry of an old run: only what every version wrote."""
    result = ModelResult.from_dict({"kind": "ease", "test": {"ndcg@10": 0.5}})
    assert result.validation == {} and math.isnan(result.train_seconds) and result.race == {}
    assert result.decisions == FitDecisions() and result.samples == () and result.popularity is None
    assert EpochSearch.from_dict({"chosen_epochs": 4}).validation_split is None
    older = {key: value for key, value in SELECTION.to_dict().items() if key != "time_budget"}
    assert SelectionRecord.from_dict(older).time_budget == math.inf  # no budget recorded: none applied


@pytest.mark.parametrize(
    ("data", "phrase"),
    [
        ({"models": {"a": {"test": {}}}}, "model 'a': field 'kind' is missing"),
        ({"models": {"a": {"kind": "ease", "test": {"ndcg@10": "high"}}}}, "'ndcg@10' must be a number. Received: str"),
        ({"models": {"a": {"kind": "ease", "test": {}, "epochs_run": True}}}, "'epochs_run' must be int. Received: bool"),
        ({"models": {"a": {"kind": "ease", "test": {}, "history": {"loss": [1, "x"]}}}}, "'loss' must be a list of numbers"),
        ({"models": {"a": {"kind": "ease", "test": {}, "recency": {"mode": "on"}}}}, "recency: field 'used' is missing"),
        ({"models": []}, "'models' must be a JSON object. Received: list"),
        ({"split": "random", "models": {}}, "field 'split' must be dict. Received: str"),
        ({}, "not a `movierec compare` results file (no 'models')"),
    ],
)  # fmt: skip
def test_a_malformed_results_object_is_one_line_saying_what_is_wrong(data, phrase):
    with pytest.raises(DataError) as error:
        RunResults.from_dict(data, where="runs/x/results.json")
    message = str(error.value)
    assert len(message.splitlines()) == 1 and message.startswith("runs/x/results.json")
    assert phrase in message
