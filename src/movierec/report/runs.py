"""The compare runs under a log folder: find them (newest first), and keep a run's record apart from its logs."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from movierec._io import atomic_dir
from movierec.errors import DataError
from movierec.evaluation import PER_USER_FILE
from movierec.records import load_results

__all__ = ["find_runs", "runs_table", "keep_record", "RECORD_FILES"]

RESULTS_FILE = "results.json"
RECORD_FILES = ("config.json", PER_USER_FILE)  # per model: what `report` reads besides results.json


def find_runs(logdir: str | Path) -> list[dict[str, Any]]:
    """One entry per `<logdir>/**/results.json`: path, experiment, when written, split and per-model metrics.

    Raises:
        DataError: if `logdir` is not a folder.
    """
    logdir = Path(logdir)
    if not logdir.is_dir():
        raise DataError(f"log folder not found: {logdir} (run `movierec compare` first)")
    runs = []
    for path in logdir.rglob("results.json"):
        try:
            results = load_results(path)
        except DataError:
            continue  # not a compare result (e.g. a tuning file): not listed
        runs.append(
            {
                "path": path,
                "experiment": results.experiment,
                "written": dt.datetime.fromtimestamp(path.stat().st_mtime),
                "split": results.split.strategy,
                "models": {
                    name: {key: model.test.get(key) for key in ("ndcg@10", "recall@10", "factorized_top_100")}
                    for name, model in results.models.items()
                },
            }
        )
    return sorted(runs, key=lambda run: run["written"], reverse=True)


def runs_table(runs: list[dict[str, Any]]) -> str:
    """Plain-text listing: one block per experiment, one line per model, best NDCG@10 first."""
    if not runs:
        return "no compare results found"
    lines = []
    for run in runs:
        lines.append(f"{run['experiment']}  ({run['split']} split, {run['written']:%Y-%m-%d %H:%M})  {run['path']}")
        ordered = sorted(run["models"].items(), key=lambda item: -(item[1]["ndcg@10"] or float("-inf")))
        for name, metrics in ordered:
            cells = "  ".join(
                f"{label} {metrics[key]:.4f}" if metrics[key] is not None else f"{label} –"
                for key, label in (("ndcg@10", "NDCG@10"), ("recall@10", "R@10"), ("factorized_top_100", "top-100"))
            )
            lines.append(f"    {name:<22}{cells}")
    return "\n".join(lines)


def keep_record(run_dir: str | Path, dest: str | Path) -> Path:
    """Copies what `movierec report` reads of a compare run into `dest`, and nothing else.

    That is `results.json` and, per model, its `config.json` and per-user test metrics (for paired
    standard errors), in the same layout, so `report DEST/results.json` gives the report the run
    folder gives. TensorBoard logs, checkpoints and backups stay behind: a record is a few hundred
    kilobytes where a run folder is hundreds of megabytes, small enough to keep beside the docs it
    backs (`make results-ml1m` keeps one per run, and skips the runs already kept). `dest` is
    replaced only once the copy is complete.

    Raises:
        DataError: if `run_dir` holds no readable compare `results.json`.
    """
    run_dir = Path(run_dir)
    results = load_results(run_dir / RESULTS_FILE)
    with atomic_dir(dest) as tmp:
        shutil.copy2(run_dir / RESULTS_FILE, tmp / RESULTS_FILE)
        for name in results.models:
            for file in RECORD_FILES:
                source = run_dir / name / file
                if not source.is_file():
                    continue
                (tmp / name).mkdir(exist_ok=True)
                if file == PER_USER_FILE:  # compressed: mostly zeros where each user has one test movie
                    with np.load(source) as arrays:
                        np.savez_compressed(tmp / name / file, **{key: arrays[key] for key in arrays.files})
                else:
                    shutil.copy2(source, tmp / name / file)
    return Path(dest)
