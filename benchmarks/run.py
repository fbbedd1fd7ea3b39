"""`make bench`: time movierec against a TFRS-tutorial-style reference doing the same work.

Both sides run in this one process, one after the other, on the same split, so the
ratios hold even on a busy machine (absolute seconds do not). Prints a table and writes
`artifacts/bench.json`. See benchmarks/README.md.

Usage:
    .venv/bin/python benchmarks/run.py [--epochs N] [--quick] [--repeats R]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import movierec  # noqa: F401  (sets TF_USE_LEGACY_KERAS=1 before TensorFlow is imported)
import reference_tfrs as ref
from movierec.config import ExperimentConfig, TrainConfig, save_json
from movierec.evaluation import evaluate
from movierec.experiments import PreparedData, get_preset, prepare_data, run_experiment
from movierec.recommender import FitOptions
from movierec.registry import build_recommender

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "artifacts" / "bench.json"
MODELS = ("model1", "model2")
# The spec's targets: (label, measured ratio key, minimum reference/movierec ratio)
TARGETS = (
    ("compare job >= 5x faster than reference", "compare_ratio", 5.0),
    ("evaluation of 20k rows >= 10x faster than model.evaluate with FactorizedTopK", "evaluation_ratio", 10.0),
)


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """`(fn(), wall seconds)`."""
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def vocabularies(data: PreparedData) -> tuple[np.ndarray, np.ndarray]:
    """The tutorial's vocabularies: unique user ids of the ratings, every movie id."""
    users = np.unique(data.dataset.ratings["user_id"].to_numpy(dtype=str))
    movies = data.dataset.items["item_id"].to_numpy(dtype=str)
    return users, movies


# ----------------------------------------------------------------------------- a. compare job


def movierec_compare(epochs: int) -> dict[str, Any]:
    """`run_experiment` on model1 + model2 (fit with per-epoch validation, test evaluation, logs)."""
    with tempfile.TemporaryDirectory(prefix="movierec-bench-") as logdir:
        config = ExperimentConfig(models=MODELS, logdir=logdir, name="bench", train=TrainConfig(epochs=epochs))
        results, seconds = timed(lambda: run_experiment(config).to_dict())
    return {
        "total_seconds": seconds,
        "models": {
            name: {
                "epoch_seconds": result["epoch_seconds"],
                "train_seconds": result["train_seconds"],
                "test_eval_seconds": result["eval_seconds"],
                "factorized_top_100": result["test"]["factorized_top_100"],
            }
            for name, result in results["models"].items()
        },
    }


def reference_compare(epochs: int) -> dict[str, Any]:
    """The same job the tutorial way: prepare the split, then fit + `model.evaluate` each model."""
    start = time.perf_counter()
    data = prepare_data(ExperimentConfig())
    users, movies = vocabularies(data)
    out: dict[str, Any] = {"models": {}}
    for name in MODELS:
        (model, timer), train_seconds = timed(
            lambda name=name: ref.train_reference(name, data.split.train, data.split.validation, users, movies, epochs)
        )
        test, eval_seconds = timed(lambda model=model: ref.evaluate_reference(model, ref.test_batches(data.split.test)))
        out["models"][name] = {
            "epoch_seconds": timer.seconds,
            "validation_seconds": timer.validation_seconds,
            "train_seconds": train_seconds,
            "test_eval_seconds": eval_seconds,
            "factorized_top_100": test["factorized_top_100"],
        }
    out["total_seconds"] = time.perf_counter() - start
    return out


# ----------------------------------------------------------------------------- b. evaluation


def movierec_evaluation(data: PreparedData, repeats: int) -> dict[str, Any]:
    """`evaluate` on the test rows after a 1-epoch model1 fit; embeddings recomputed in each timing."""
    recommender = build_recommender(get_preset("model1"))
    recommender.fit(data.train, FitOptions(features=data.features, train=TrainConfig(epochs=1)))

    def run() -> dict[str, float]:
        recommender.refresh_embeddings()  # the reference runs its towers inside evaluate: count ours too
        return evaluate(recommender, data.seen, data.test)

    seconds = [timed(run)[1] for _ in range(repeats)]
    _, evaluate_only = timed(lambda: evaluate(recommender, data.seen, data.test))
    return {"seconds": seconds, "evaluate_only_seconds": evaluate_only, "rows": len(data.test)}


def reference_evaluation(data: PreparedData, repeats: int) -> dict[str, Any]:
    """`model.evaluate(test.batch(4096))` with FactorizedTopK after a 1-epoch reference fit."""
    users, movies = vocabularies(data)
    model, _ = ref.train_reference("model1", data.split.train, None, users, movies, epochs=1)
    batches = ref.test_batches(data.split.test)
    seconds = [timed(lambda: ref.evaluate_reference(model, batches))[1] for _ in range(repeats)]
    return {"seconds": seconds, "rows": len(data.split.test)}


# ----------------------------------------------------------------------------- report


def ratio(reference: float, movierec_value: float) -> float:
    return reference / movierec_value if movierec_value > 0 else float("inf")


def print_report(report: dict[str, Any]) -> None:
    """The human-readable table; every ratio is reference seconds / movierec seconds."""
    mine, theirs = report["compare"]["movierec"], report["compare"]["reference"]
    print(
        f"\n== a. compare job: {', '.join(MODELS)}, {report['epochs']} epoch(s), validation each epoch, test evaluation"
    )
    print(f"{'':34}{'movierec s':>12}{'reference s':>13}{'ref/movierec':>14}")
    for name in MODELS:
        m, r = mine["models"][name], theirs["models"][name]
        for epoch, (ms, rs) in enumerate(zip(m["epoch_seconds"], r["epoch_seconds"]), start=1):
            print(f"{name + f' epoch {epoch}':34}{ms:12.2f}{rs:13.2f}{ratio(rs, ms):13.1f}x")
        print(
            f"{name + ' test evaluation':34}{m['test_eval_seconds']:12.2f}{r['test_eval_seconds']:13.2f}"
            f"{ratio(r['test_eval_seconds'], m['test_eval_seconds']):13.1f}x"
        )
        val = r["validation_seconds"]
        if val:
            print(f"{'  (reference validation per epoch)':34}{'':12}{statistics.mean(val):13.2f}")
    print(
        f"{'total wall time':34}{mine['total_seconds']:12.2f}{theirs['total_seconds']:13.2f}"
        f"{report['compare_ratio']:13.1f}x"
    )

    ev = report["evaluation"]
    m, r = ev["movierec"], ev["reference"]
    print(f"\n== b. evaluation of {m['rows']} test rows (model1 after 1 epoch), median of {len(m['seconds'])}")
    print(f"{'':34}{'movierec s':>12}{'reference s':>13}{'ref/movierec':>14}")
    print(
        f"{'first call':34}{m['seconds'][0]:12.3f}{r['seconds'][0]:13.3f}{ratio(r['seconds'][0], m['seconds'][0]):13.1f}x"
    )
    print(
        f"{'median':34}{statistics.median(m['seconds']):12.3f}{statistics.median(r['seconds']):13.3f}"
        f"{report['evaluation_ratio']:13.1f}x"
    )
    print(f"{'  (movierec evaluate() only)':34}{m['evaluate_only_seconds']:12.3f}")

    print(
        f"\n== c. test factorized_top_100, model1 after {report['epochs']} epoch(s) (same work: expect the same ballpark)"
    )
    for side, label in (("movierec", "movierec"), ("reference", "reference")):
        print(f"{label:34}{report['compare'][side]['models']['model1']['factorized_top_100']:12.4f}")

    print("\n== targets (ratio = reference seconds / movierec seconds)")
    for label, key, minimum in TARGETS:
        verdict = "PASS" if report[key] >= minimum else "FAIL"
        print(f"{verdict}  {label}: measured {report[key]:.1f}x")
    load = report["load_average"]
    print(
        f"\nload average before/after: {load['before']:.2f} / {load['after']:.2f} on {os.cpu_count()} cores; "
        f"results in {OUTPUT.relative_to(ROOT)}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5, help="epochs of the compare job (default 5)")
    parser.add_argument("--quick", action="store_true", help="1 epoch and 1 evaluation repeat: a smoke test")
    parser.add_argument("--repeats", type=int, default=3, help="timed evaluation calls per side (default 3)")
    args = parser.parse_args(argv)
    epochs, repeats = (1, 1) if args.quick else (args.epochs, args.repeats)
    if epochs <= 0 or repeats <= 0:
        parser.error(f"--epochs and --repeats must be positive. Received: epochs={epochs}, repeats={repeats}")

    load_before = os.getloadavg()[0]
    data = prepare_data(ExperimentConfig())  # also warms the data cache and imports for both sides
    compare = {"movierec": movierec_compare(epochs), "reference": reference_compare(epochs)}
    evaluation = {"movierec": movierec_evaluation(data, repeats), "reference": reference_evaluation(data, repeats)}
    report: dict[str, Any] = {
        "epochs": epochs,
        "compare": compare,
        "evaluation": evaluation,
        "compare_ratio": ratio(compare["reference"]["total_seconds"], compare["movierec"]["total_seconds"]),
        "evaluation_ratio": ratio(
            statistics.median(evaluation["reference"]["seconds"]), statistics.median(evaluation["movierec"]["seconds"])
        ),
        "load_average": {"before": load_before, "after": os.getloadavg()[0]},
        "cpu_count": os.cpu_count(),
    }
    report["targets"] = {
        label: {"minimum": minimum, "measured": report[key], "pass": report[key] >= minimum}
        for label, key, minimum in TARGETS
    }
    save_json(report, OUTPUT)
    print_report(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
