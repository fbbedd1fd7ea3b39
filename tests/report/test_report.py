"""Reports from results.json: Markdown tables with the best value in bold, curves as PNG."""

from __future__ import annotations

import json

import pytest

from movierec.errors import DataError
from movierec.records import RunResults
from movierec.report import load_results, markdown_report, plot_curves, results_table

RESULTS = {
    "experiment": "toy",
    "dataset": "toy: 10 ratings",
    "split": {"strategy": "random", "train": 6, "validation": 2, "test": 2},
    "total_seconds": 3.0,
    "models": {
        "a": {
            "kind": "two_tower",
            "train_seconds": 2.0,
            "test": {"factorized_top_100": 0.5, "ndcg@10": 0.25, "ndcg@10_se": 0.01, "rmse": 0.9},
            "validation": {"factorized_top_100": 0.4, "ndcg@10": 0.2},
            "history": {"loss": [3.0, 2.0], "val_factorized_top_100": [0.3, 0.4], "val_ndcg_at_10": [0.1, 0.2]},
        },
        "b": {
            "kind": "popularity",
            "train_seconds": 0.0,
            "test": {"factorized_top_100": 0.75, "ndcg@10": 0.125, "ndcg@10_se": 0.02},
            "validation": {"factorized_top_100": 0.6, "ndcg@10": 0.1},
        },
    },
}


def test_table_rows_bold_the_best_and_show_rmse_only_where_known():
    lines = results_table(RunResults.from_dict(RESULTS)).splitlines()
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    row_a = dict(zip(header, (c.strip() for c in lines[2].strip("|").split("|"))))
    row_b = dict(zip(header, (c.strip() for c in lines[3].strip("|").split("|"))))
    assert row_a["top-100"] == "0.500" and row_b["top-100"] == "**0.750**"
    assert row_a["NDCG@10"] == "**0.250**" and row_b["NDCG@10"] == "0.125"
    assert row_a["RMSE"] == "0.900" and row_b["RMSE"] == "–"
    assert row_a["Recall@10"] == "–"  # a metric the run did not record is shown as missing, not 0


def test_markdown_report_and_curves(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps(RESULTS))
    text = markdown_report([path], title="T")
    assert text.startswith("# T") and "## toy: random split" in text and "train 6 / validation 2 / test 2" in text
    png = plot_curves(load_results(path), tmp_path / "curves.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob(".*tmp*"))  # written atomically, nothing left behind


def test_the_report_says_what_test_users_are_scored_from(tmp_path):
    older, newer = tmp_path / "older.json", tmp_path / "newer.json"
    older.write_text(json.dumps(RESULTS))  # a run from before the field existed: no claim either way
    newer.write_text(json.dumps({**RESULTS, "test_input": "train+validation"}))
    assert "scored from their train and validation ratings" not in markdown_report([older])
    assert "scored from their train and validation ratings" in markdown_report([newer])


def test_bad_results_files_name_the_problem(tmp_path):
    with pytest.raises(DataError, match="not found"):
        load_results(tmp_path / "missing.json")
    (tmp_path / "x.json").write_text("{")
    with pytest.raises(DataError, match="not valid JSON"):
        load_results(tmp_path / "x.json")
    (tmp_path / "y.json").write_text("[]")
    with pytest.raises(DataError, match="not a `movierec compare` results file"):
        load_results(tmp_path / "y.json")


def test_verdict_says_plainly_where_the_tfrs_model_is_behind():
    from movierec.report import verdict

    text = verdict(RunResults.from_dict(RESULTS))
    # model "a" (two_tower) has NDCG@10 0.25 > 0.125 but top-100 0.5 < popularity's 0.75
    assert "**ndcg@10**: best TFRS model `a` 0.250; beats every baseline (b)." in text
    assert "**factorized_top_100**: best TFRS model `a` 0.500; **does not beat** b 0.750." in text


def test_verdict_says_what_a_fit_decided_about_recency():
    from movierec.report import verdict

    results = json.loads(json.dumps(RESULTS))
    results["models"]["a"]["recency"] = {
        "mode": "validation", "used": True, "share": 0.3, "repeats": 2,
        "plain": -6.85, "weighted": -6.83, "gain_se": 0.002,
    }  # fmt: skip
    assert (
        "- `a` counted the latest 30% of the training ratings 3x: the validation movies are likelier under "
        "the weighted movie frequencies (mean log-probability -6.8300 against -6.8500; standard error of the "
        "per-rating difference 0.0020)."
    ) in verdict(RunResults.from_dict(results)).splitlines()
    assert "latest" not in verdict(RunResults.from_dict(RESULTS))  # a model without the record: no line


def test_verdict_says_when_a_fit_asked_its_queries():
    from movierec.report import verdict

    results = json.loads(json.dumps(RESULTS))
    results["models"]["a"]["query_time"] = {"used": True, "later": 1.0}
    assert (
        "- `a` read the rating time and asked every query at the end of the training data: 100% of the "
        "validation ratings come after the latest training rating."
    ) in verdict(RunResults.from_dict(results)).splitlines()
    assert "rating time" not in verdict(RunResults.from_dict(RESULTS))


def test_seeds_report_means_ranges_and_verdicts(tmp_path):
    from movierec.report import seeds_report

    paths = []
    for seed, (ours, base) in enumerate([(0.30, 0.20), (0.40, 0.20)]):
        results = json.loads(json.dumps(RESULTS))
        results["models"]["a"]["test"].update({"ndcg@10": ours, "hr@10": 0.5, "ndcg@10_se": 0.05})
        results["models"]["b"]["test"].update({"ndcg@10": base, "hr@10": 0.6})
        path = tmp_path / f"s{seed}.json"
        path.write_text(json.dumps(results))
        paths.append(path)
    text = seeds_report(paths)
    assert "### random split, 2 seeds" in text
    assert "| a | 2 | 0.3500 (0.3000–0.4000) | 0.5000 (0.5000–0.5000) | 2.0 |" in text
    assert (
        "- ndcg@10: `a` beats b by +0.1500 on average, +3.0 SE of one run; ahead in 2 of 2 runs (+0.1000, +0.2000)."
        in text
    )  # 0.15 / 0.05; each run's margin
    assert "- hr@10: `a` **does not beat** b by -0.1000 on average; ahead in 0 of 2 runs (-0.1000, -0.1000)." in text


def test_seeds_report_paired_difference_from_each_users_metrics(tmp_path):
    """Runs that kept per-user metrics get the paired standard error of the difference, each user's differences
    averaged over the seeds first."""
    import numpy as np

    from movierec.evaluation import PER_USER_FILE
    from movierec.report import seeds_report

    # seed 0: differences a - b per user 0.1, 0.0, 0.3; seed 1: 0.2, 0.2, 0.2
    # per user over the seeds: 0.15, 0.10, 0.25 (mean 0.1667, sd 0.07638, se 0.07638 / sqrt(3) = 0.04410) -> +3.8 SE
    per_user = [([0.5, 0.2, 0.8], [0.4, 0.2, 0.5]), ([0.6, 0.3, 0.4], [0.4, 0.1, 0.2])]
    paths = []
    for seed, (ours, base) in enumerate(per_user):
        results = json.loads(json.dumps(RESULTS))
        results["models"]["a"]["test"].update({"ndcg@10": float(np.mean(ours)), "hr@10": 1.0, "ndcg@10_se": 0.1})
        results["models"]["b"]["test"].update({"ndcg@10": float(np.mean(base)), "hr@10": 1.0})
        run = tmp_path / f"seed{seed}"
        for name, values in (("a", ours), ("b", base)):
            (run / name).mkdir(parents=True)
            # users listed in another order for b: the pairing is by user, not by position
            order = [0, 1, 2] if name == "a" else [2, 0, 1]
            np.savez(
                run / name / PER_USER_FILE,
                users=np.array(order),
                **{"ndcg@10": np.array(values)[order], "hr@10": np.ones(3)},
            )
        (run / "results.json").write_text(json.dumps(results))
        paths.append(run / "results.json")
    text = seeds_report(paths)
    assert (
        "- ndcg@10: `a` beats b by +0.1667 on average, +1.7 SE of one run; "
        "paired difference +0.1667 ± 0.0441 (+3.8 SE); ahead in 2 of 2 runs (+0.1333, +0.2000)." in text
    )
    # identical per-user values: a difference of 0 with no spread has no SE to divide by
    assert "- hr@10: `a` **does not beat** b by +0.0000 on average; ahead in 0 of 2 runs (+0.0000, +0.0000)." in text


def test_seeds_report_judges_the_default_and_labels_a_model_picked_on_test(tmp_path):
    """With the default preset present, its margins come first; a TFRS model with a higher mean is labelled."""
    from movierec.config import DEFAULT_PRESET
    from movierec.report import seeds_report

    results = json.loads(json.dumps(RESULTS))
    results["models"] = {
        DEFAULT_PRESET: {**RESULTS["models"]["a"], "test": {"ndcg@10": 0.30, "hr@10": 0.5, "ndcg@10_se": 0.05}},
        "other": {**RESULTS["models"]["a"], "test": {"ndcg@10": 0.40, "hr@10": 0.5, "ndcg@10_se": 0.05}},
        "b": {**RESULTS["models"]["b"], "test": {"ndcg@10": 0.35, "hr@10": 0.6}},
    }
    path = tmp_path / "r.json"
    path.write_text(json.dumps(results))
    lines = seeds_report([path]).splitlines()
    start = lines.index(f"The default, `{DEFAULT_PRESET}`:")
    assert (
        lines[start + 1]
        == f"- ndcg@10: `{DEFAULT_PRESET}` **does not beat** b by -0.0500 on average, -1.0 SE of one run."
    )
    other = lines.index("The TFRS model with the highest mean ndcg@10 here, `other` (picked on these test numbers):")
    assert other > start
    assert lines[other + 1] == "- ndcg@10: `other` beats b by +0.0500 on average, +1.0 SE of one run."


def test_an_auto_model_is_no_baseline_and_the_report_says_what_it_chose(tmp_path):
    """`auto` rows: judged against the baselines like a TFRS model, with the candidate each run kept."""
    from movierec.report import seeds_report, verdict

    selection = {
        "metric": "ndcg@10",
        "margin_se": 1.0,
        "chosen": "a",
        "validation_users": 2,
        "candidates": [
            {"name": "a", "status": "fitted", "validation": 0.2},
            {"name": "b", "status": "skipped", "validation": None},
        ],
    }
    paths = []
    for seed, chosen in enumerate(["a", "a", "b"]):
        results = json.loads(json.dumps(RESULTS))
        auto_test = {"ndcg@10": 0.2 + 0.1 * seed, "hr@10": 0.5, "ndcg@10_se": 0.05}
        results["models"]["auto"] = {
            "kind": "auto",
            "train_seconds": 1.0,
            "test": auto_test,
            "selection": {**selection, "chosen": chosen},
        }
        results["models"]["a"]["test"]["hr@10"] = 0.5
        results["models"]["b"]["test"]["hr@10"] = 0.5
        path = tmp_path / f"s{seed}.json"
        path.write_text(json.dumps(results))
        paths.append(path)
    text = verdict(load_results(paths[0]))
    assert "beats every baseline (b)." in text  # auto is not counted as a baseline
    assert "- `auto` chose **a** on the validation ndcg@10 of " in text
    assert "must lead by more than 1 paired SE: a 0.2000, b skipped (time budget)." in text
    lines = seeds_report(paths).splitlines()
    start = lines.index("`auto` (chooses on validation) kept a in 2, b in 1 of 3 runs:")
    # mean ndcg@10 of auto (0.2, 0.3, 0.4) = 0.3 against b's 0.125: +0.175, in SE 0.05 of one run: +3.5
    assert lines[start + 1] == (
        "- ndcg@10: `auto` beats b by +0.1750 on average, +3.5 SE of one run; ahead in 3 of 3 runs "
        "(+0.0750, +0.1750, +0.2750)."
    )


def test_validation_ndcg_against_training_minutes(tmp_path):
    from movierec.report import markdown_report

    results = json.loads(json.dumps(RESULTS))
    # 8 epochs of 60 s after 120 s outside them (elapsed 3, 4, ..., 10 minutes); best at epoch 7
    results["models"]["a"].update(
        train_seconds=600.0, epoch_seconds=[60.0] * 8, train_config={"epochs": 8},
        history={"loss": [1.0] * 8, "val_ndcg_at_10": [0.1, 0.2, 0.3, 0.35, 0.38, 0.39, 0.41, 0.40]},
    )  # fmt: skip
    path = tmp_path / "r.json"
    path.write_text(json.dumps(results))
    # quarter, half, three quarters of 10 minutes: the first epochs ending at or after 2.5, 5 and 7.5 minutes
    line = "- `a`, validation NDCG@10 against training minutes: 0.1000 at 3.0, 0.3000 at 5.0, 0.3900 at 8.0, "
    line += "best 0.4100 at 9.0 (epoch 7 of 8)."
    assert line in markdown_report([path]).splitlines()
    assert "`b`, validation" not in markdown_report([path])  # no epochs, no line
    results["models"]["a"].update(train_seconds=10.0, epoch_seconds=[1.0] * 8)  # under 2 minutes: seconds
    path.write_text(json.dumps(results))
    line = "- `a`, validation NDCG@10 against training seconds: 0.1000 at 3, 0.3000 at 5, 0.3900 at 8, "
    assert line + "best 0.4100 at 9 (epoch 7 of 8)." in markdown_report([path]).splitlines()
    results["models"]["a"]["history"]["val_ndcg_at_10"][1] = 0.5  # best early: listed in time order
    path.write_text(json.dumps(results))
    line = "- `a`, validation NDCG@10 against training seconds: 0.1000 at 3, best 0.5000 at 4 (epoch 2 of 8), "
    assert line + "0.3000 at 5, 0.3900 at 8." in markdown_report([path]).splitlines()


def test_seeds_report_counts_the_runs_that_have_both_models(tmp_path):
    """A baseline missing from one run: its margins come from the runs that scored both models."""
    from movierec.report import seeds_report

    paths = []
    for seed, ours in enumerate([0.30, 0.10, 0.40]):
        results = json.loads(json.dumps(RESULTS))
        results["models"]["a"]["test"].update({"ndcg@10": ours, "hr@10": 0.5, "ndcg@10_se": 0.05})
        results["models"]["b"]["test"].update({"ndcg@10": 0.20, "hr@10": 0.5})
        if seed == 2:
            del results["models"]["b"]
        path = tmp_path / f"s{seed}.json"
        path.write_text(json.dumps(results))
        paths.append(path)
    text = seeds_report(paths)
    # a's mean over its three runs is 0.2667; each run with b: +0.1000, -0.1000
    assert "ahead in 1 of 2 runs (+0.1000, -0.1000)." in text
