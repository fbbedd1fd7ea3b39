"""Find the compare runs under a log folder: experiments and their models, newest first."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from movierec.errors import DataError
from movierec.records import load_results

__all__ = ["find_runs", "runs_table"]


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
