"""`make bench-user-path`: the held-out score of the commands a new user types, scored outside movierec.

    .venv/bin/python benchmarks/user_path.py --dataset ml-100k --split leave_last --seeds 1 2 3
    .venv/bin/python benchmarks/user_path.py --dataset ml-1m --split random --models default,ease,als
    .venv/bin/python benchmarks/user_path.py --models ease,als --extra "ease=--validation-split random"
    .venv/bin/python benchmarks/user_path.py --models default,mine=configs/mine.toml

For each seed, the ratings are split by `movierec.data.split_ratings`, the protocol of `movierec
compare` (test_fraction 0.2, no validation slice; leave_last: each user's latest rating), and
written as train.csv, test.csv and items.csv to <work>/<dataset>-<split>-seed<seed>/. Then, per
model, in fresh processes as a user would type them:

    movierec train --ratings train.csv --items items.csv --out <model> --seed SEED [--preset NAME]
    movierec recommend --model <model> --all-users -k 10 --out <model>.recs.csv

`default` is `train` without `--preset` (what a new user gets); `NAME=FILE.toml` is `--config FILE.toml`
(a model table, e.g. `movierec presets default --out FILE.toml` with one field changed), labelled NAME;
any other name is `--preset NAME`.
The recommendations are scored here with numpy/pandas, not `movierec.evaluation`: NDCG@10 (binary
relevance, ideal DCG over min(|test items|, 10)) and HR@10 for every user with test rows who
appears in train; a user missing from recs.csv scores 0. The reference model (`default` when
listed, else the first) is compared with each other model by the mean of per-user differences
and its standard error (std(ddof=1) / sqrt(n)), per seed and pooled over all (seed, user) pairs;
the pooled SE is over users, each user's differences averaged over the seeds first.

Prints tables; writes <work>/user_path.json (or --json). Nothing here is a test.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
K = 10
METRICS = ("ndcg@10", "hr@10")


def score_users(recs: pd.DataFrame, test: pd.DataFrame, known_users: set[str], k: int = K) -> pd.DataFrame:
    """Per-user NDCG@k and HR@k of `recs` (user_id,rank,item_id) against `test` (user_id,item_id).

    Scores every user of `test` in `known_users`, indexed by user_id (sorted); users without
    recommendations score 0. Positions follow `rank`, ties keep the file's order.
    """
    relevant = test[["user_id", "item_id"]].drop_duplicates()
    relevant = relevant[relevant["user_id"].isin(known_users)]
    users = pd.Index(sorted(relevant["user_id"].unique()), name="user_id")
    top = recs.sort_values(["user_id", "rank"], kind="stable")
    top = top.assign(position=top.groupby("user_id").cumcount())
    hits = top[top["position"] < k].merge(relevant, on=["user_id", "item_id"])
    dcg = (1.0 / np.log2(hits["position"].to_numpy() + 2.0)).astype(float)
    dcg = pd.Series(dcg, index=hits["user_id"].to_numpy()).groupby(level=0).sum().reindex(users, fill_value=0.0)
    ideal = np.concatenate([[0.0], np.cumsum(1.0 / np.log2(np.arange(2, k + 2)))])  # ideal[n]: n hits on top
    n_relevant = relevant.groupby("user_id").size().reindex(users).to_numpy()
    hit = hits.groupby("user_id").size().reindex(users, fill_value=0).to_numpy() > 0
    ndcg = dcg.to_numpy() / ideal[np.minimum(n_relevant, k)]
    return pd.DataFrame({"ndcg@10": ndcg, "hr@10": hit.astype(float)}, index=users)


def paired(reference: pd.Series, other: pd.Series) -> dict[str, float]:
    """Mean of `reference - other` over their shared index, its standard error and mean / SE."""
    diff = (reference - other).dropna().to_numpy()
    se = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else float("nan")
    mean = float(diff.mean()) if len(diff) else float("nan")
    return {"n": len(diff), "mean": mean, "se": se, "se_ratio": mean / se if se > 0 else float("nan")}


def run(command: list[str]) -> tuple[float, str, str]:
    """Runs a `movierec` command; returns wall seconds, stdout and stderr, or exits on failure."""
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{shlex.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return wall, done.stdout, done.stderr


def write_split(dataset_name: str, strategy: str, seed: int, folder: Path) -> set[str]:
    """Writes train.csv, test.csv and items.csv of one split to `folder`; returns the train users."""
    from movierec.config import DataConfig, SplitConfig
    from movierec.data import load_dataset, split_ratings

    dataset = load_dataset(DataConfig(source=dataset_name))
    split = split_ratings(
        dataset.ratings, SplitConfig(strategy=strategy, test_fraction=0.2, validation_fraction=0.0, seed=seed)
    )
    folder.mkdir(parents=True, exist_ok=True)
    columns = ["user_id", "item_id", "rating", "timestamp"]
    split.train[columns].to_csv(folder / "train.csv", index=False)
    split.test[columns].to_csv(folder / "test.csv", index=False)
    dataset.items[["item_id", "title", "genres"]].to_csv(folder / "items.csv", index=False)
    return set(split.train["user_id"].astype(str))


def evaluate_seed(args: argparse.Namespace, seed: int, extra: dict[str, list[str]]) -> tuple[dict, pd.DataFrame]:
    """Split, train and recommend every model for one seed; returns its report and per-user scores."""
    folder = Path(args.work) / f"{args.dataset}-{args.split}-seed{seed}"
    known = write_split(args.dataset, args.split, seed, folder)
    test = pd.read_csv(folder / "test.csv", dtype={"user_id": str, "item_id": str})
    cli = str(Path(sys.executable).with_name("movierec"))
    report: dict[str, dict] = {}
    scores = {}
    for model in args.models:
        out, recs_path = folder / model, folder / f"{model}.recs.csv"
        train = [cli, "train", "--ratings", str(folder / "train.csv"), "--items", str(folder / "items.csv")]
        train += ["--out", str(out), "--seed", str(seed)] + model_flags(model, args.configs)
        train += extra.get(model, [])
        print(f"  $ {shlex.join(train)}", flush=True)
        train_seconds, stdout, stderr = run(train)
        recommend = [cli, "recommend", "--model", str(out), "--all-users", "-k", str(K), "--out", str(recs_path)]
        recommend_seconds, _, _ = run(recommend)
        recs = pd.read_csv(recs_path, dtype={"user_id": str, "item_id": str})
        scores[model] = score_users(recs, test, known)
        fit = re.search(r"trained in ([\d.]+) s", stdout + stderr)
        report[model] = {
            **{name: float(scores[model][name].mean()) for name in METRICS},
            "train_wall_seconds": train_seconds,
            "fit_seconds": float(fit.group(1)) if fit else None,
            "recommend_seconds": recommend_seconds,
            "train_said": [line for line in stdout.splitlines() if line and not line.startswith("model written")],
            "command": train,
        }
    per_user = pd.concat(scores, axis=1, names=["model", "metric"])
    return {"users": len(per_user), "test_users": int(test["user_id"].nunique()), "models": report}, per_user


def compare(per_user: pd.DataFrame, reference: str, models: list[str]) -> dict[str, dict]:
    """Paired differences `reference - model` per metric for every other model."""
    return {
        f"{reference}-{model}": {name: paired(per_user[reference][name], per_user[model][name]) for name in METRICS}
        for model in models
        if model != reference
    }


def print_table(title: str, models: dict[str, dict], pairs: dict[str, dict]) -> None:
    print(f"\n{title}")
    print(f"  {'model':<12}{'NDCG@10':>9}{'HR@10':>8}{'train s':>9}  train said")
    for name, row in models.items():
        said = " | ".join(row.get("train_said", []))
        print(f"  {name:<12}{row['ndcg@10']:9.4f}{row['hr@10']:8.4f}{row['train_wall_seconds']:9.1f}  {said}")
    for pair, values in pairs.items():
        shown = [f"{m} {v['mean']:+.4f} ± {v['se']:.4f} ({v['se_ratio']:+.1f} SE)" for m, v in values.items()]
        print(f"  {pair}: " + ", ".join(shown) + f"  [n={values['ndcg@10']['n']}]")


def write_json(path: Path, report: dict) -> None:
    """Writes `report` to `path` through a temporary file in the same folder, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as handle:
        json.dump(report, handle, indent=1)
    os.replace(handle.name, path)


def parse_models(text: str) -> tuple[list[str], dict[str, str]]:
    """`--models`' names in order, and the config file of each `NAME=FILE.toml` entry.

    Example:
        >>> parse_models("default, ease,mine=cfg/mine.toml")
        (['default', 'ease', 'mine'], {'mine': 'cfg/mine.toml'})
    """
    names: list[str] = []
    configs: dict[str, str] = {}
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        name, sep, path = (part.strip() for part in entry.partition("="))
        if sep and (not name or not path.endswith(".toml") or name == "default"):
            raise ValueError(f'a config model should be "NAME=FILE.toml" with NAME not "default". Received: {entry!r}')
        if not re.fullmatch(r"[\w.-]+", name):  # it names the model's folder and recs file
            raise ValueError(f"a model name should be letters, digits, '_', '.' or '-'. Received: {name!r}")
        if name in names:
            raise ValueError(f"--models needs distinct names. Received {name!r} twice")
        names.append(name)
        if sep:
            configs[name] = path
    if not names:
        raise ValueError(f"--models names no model. Received: {text!r}")
    return names, configs


def model_flags(model: str, configs: dict[str, str]) -> list[str]:
    """The `train` flags that choose `model`: none for `default`, `--config FILE` or `--preset NAME`."""
    if model == "default":
        return []
    if model in configs:
        return ["--config", str(Path(configs[model]).resolve())]
    return ["--preset", model]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=("ml-100k", "ml-1m"), default="ml-100k")
    parser.add_argument("--split", choices=("random", "temporal", "leave_last"), default="leave_last")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument(
        "--models", default="default,ease,als", help="comma-separated: default, preset names, or NAME=FILE.toml"
    )
    parser.add_argument("--extra", action="append", default=[], help='"MODEL=ARGS": extra `train` args for MODEL')
    parser.add_argument("--work", default=str(ROOT / "artifacts" / "user_path"), help="folder for splits and models")
    parser.add_argument("--json", help="report file (default: <work>/user_path.json)")
    args = parser.parse_args()
    try:
        args.models, args.configs = parse_models(args.models)
    except ValueError as e:
        parser.error(str(e))
    for name, path in args.configs.items():
        if not Path(path).is_file():
            parser.error(f"--models {name}={path}: no such file")
    extra: dict[str, list[str]] = {}
    for item in args.extra:
        model, sep, rest = item.partition("=")
        if not sep or model not in args.models:
            parser.error(f'--extra should be "MODEL=ARGS" with MODEL in --models. Received: {item!r}')
        extra[model] = extra.get(model, []) + shlex.split(rest)
    reference = "default" if "default" in args.models else args.models[0]
    report: dict[str, object] = {"dataset": args.dataset, "split": args.split, "seeds": {}, "reference": reference}
    report["argv"] = sys.argv
    per_seed: dict[int, pd.DataFrame] = {}
    for seed in args.seeds:
        print(f"{args.dataset}, {args.split} split, seed {seed}:", flush=True)
        seed_report, per_seed[seed] = evaluate_seed(args, seed, extra)
        seed_report["paired"] = compare(per_seed[seed], reference, args.models)
        report["seeds"][seed] = seed_report
        title = f"seed {seed}: {seed_report['users']} users scored (of {seed_report['test_users']} with test rows)"
        print_table(title, seed_report["models"], seed_report["paired"])
    seed_models = [report["seeds"][seed]["models"] for seed in args.seeds]
    pooled_models = {
        model: {key: float(np.mean([m[model][key] for m in seed_models])) for key in (*METRICS, "train_wall_seconds")}
        for model in args.models
    }
    pooled = pd.concat(per_seed, names=["seed"])
    # a user's differences across seeds are not independent (leave_last and temporal hold out the same
    # rows every seed): average them per user first, so the SE does not shrink with the seed count
    by_user = pooled.groupby(level="user_id").mean()
    report["pooled"] = {
        "models": pooled_models,
        "pairs": len(pooled),
        "paired": compare(by_user, reference, args.models),
    }
    title = f"mean over seeds {args.seeds}; paired differences over {len(pooled)} (seed, user) pairs, SE over users"
    print_table(title, pooled_models, report["pooled"]["paired"])
    load = os.getloadavg()
    report["load_average"] = load
    print(f"\nload average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} CPUs")
    out = Path(args.json) if args.json else Path(args.work) / "user_path.json"
    write_json(out, report)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
