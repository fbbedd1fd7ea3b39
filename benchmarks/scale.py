"""How time and memory grow from 100 thousand to 25 million ratings, on generated MovieLens-shaped data.

    .venv/bin/python benchmarks/scale.py                       # 100k, 1M, 10M, 25M (about an hour on 2 cores)
    .venv/bin/python benchmarks/scale.py --sizes 100k 1M       # a quick look
    .venv/bin/python benchmarks/scale.py --report docs/scale.md --chart docs/scale.png

Every step is the `movierec` command a user would run, in its own process under GNU time
(`/usr/bin/time`, Debian package `time`), which gives its wall seconds and peak resident
memory. For each size, with users and movies shaped like the MovieLens set of that size
(ml-latest-small, ml-1m, ml-10m, ml-25m):

1. `synth`: `movierec data synth` writes the set in ML-25M's CSV layout;
2. `first load` and `cached load`: `movierec data fetch ml-25m --path <synth>` parses the CSV
   and writes the columnar cache, then reads it back from the cache;
3. (untimed) each user's latest rating is held out: `train.parquet` and `test.csv`;
4. `train mf_logq` and `train best`: `movierec train --epochs 1 --validation-fraction 0`
   (load, one epoch, export; "epoch s" is the training part the command reports);
5. `recommend all`: `movierec recommend --all-users -k 100` with the mf_logq model;
6. `evaluate all`: `movierec evaluate -k 10 100` of the mf_logq model on every user's held-out rating;
7. `fit als`, `fit ease`: `movierec train --preset als|ease` (EASE on its most-rated movies cut);
8. `train sequential`: the sequential kind (SASRec, last 200 movies) with a sampled softmax over 1,000 drawn
   movies, one epoch; `recommend seq`: its top 100 for every user.

Prints a table per size and, at the end, each step's seconds per million ratings relative to
the smallest size (1.0 = linear growth). Nothing here is a test; the targets of issue 7 (epoch
<= 5 min, peak RSS <= 8 GB, cached load <= 10 s, every user's top-100 <= 2 min at 25M) are
checked by reading the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# size label -> (ratings, users, movies), shaped like the MovieLens set of that size
SIZES: dict[str, tuple[int, int, int]] = {
    "100k": (100_836, 610, 9_724),  # ml-latest-small
    "1M": (1_000_209, 6_040, 3_706),  # ml-1m
    "10M": (10_000_054, 69_878, 10_677),  # ml-10m
    "25M": (25_000_095, 162_541, 59_047),  # ml-25m
}
TIME = "/usr/bin/time"
# The sequential kind at scale: SASRec over the last 200 movies, a softmax over the true movie and 1,000 movies
# drawn per batch (a softmax over 59,047 movies per target would cost 60 times more)
SEQUENTIAL = """kind = "sequential"
name = "sequential_sampled"
max_length = 200
loss = { kind = "sampled", negatives = 1000 }
optimizer = "adam"
learning_rate = 0.001
batch_size = 8192
"""
SPLIT = """
import sys, pyarrow as pa, pyarrow.compute as pc, pyarrow.csv as pacsv, pyarrow.parquet as pq
ratings = pacsv.read_csv(sys.argv[1] + "/ratings.csv")
table = pa.table({"user_id": ratings["userId"], "item_id": ratings["movieId"], "rating": ratings["rating"],
                  "timestamp": ratings["timestamp"]})
order = pc.sort_indices(table, [("user_id", "ascending"), ("timestamp", "ascending"), ("item_id", "ascending")])
table = table.take(order)
users = table["user_id"].to_numpy()
last = (users[1:] != users[:-1]).nonzero()[0]
import numpy as np
test_rows = np.append(last, len(users) - 1)
mask = np.zeros(len(users), bool); mask[test_rows] = True
pq.write_table(table.filter(pa.array(~mask)), sys.argv[2] + "/train.parquet")
pacsv.write_csv(table.filter(pa.array(mask)), sys.argv[2] + "/test.csv")
"""


def run_step(name: str, command: list[str], log: Path) -> dict[str, float | str]:
    """Runs `command` under GNU time; returns seconds, peak RSS (MB) and the epoch seconds it reports."""
    stats = log.with_suffix(".time")
    with log.open("w") as out:
        done = subprocess.run(
            [TIME, "-f", "%e %M", "-o", str(stats), *command], stdout=out, stderr=subprocess.STDOUT, check=False
        )
    if done.returncode != 0:
        tail = log.read_text()[-1500:]
        raise RuntimeError(f"step {name!r} failed (exit {done.returncode}); log {log}:\n{tail}")
    seconds, peak_kb = stats.read_text().split()[-2:]
    row: dict[str, float | str] = {"step": name, "seconds": float(seconds), "peak_rss_mb": int(peak_kb) / 1024}
    trained = re.search(r"trained in ([\d.]+) s", log.read_text())
    if trained:
        row["epoch_seconds"] = float(trained.group(1))
    return row


def run_size(label: str, work: Path, movierec: str, sequential: bool = True) -> list[dict[str, float | str]]:
    ratings, users, items = SIZES[label]
    work.mkdir(parents=True, exist_ok=True)
    synth, cache = work / "synth", work / "cache"
    data = ["--cache-dir", str(cache)]
    train = ["--ratings", str(work / "train.parquet"), "--epochs", "1", "--validation-fraction", "0"]
    rows = []

    def step(name: str, *args: str, runner: tuple[str, ...] = (movierec,)) -> None:
        row = run_step(name, [*runner, *args], work / (name.replace(" ", "_") + ".log"))
        row["ratings"] = ratings
        rows.append(row)
        extra = f"  (epoch {row['epoch_seconds']:.1f} s)" if "epoch_seconds" in row else ""
        print(
            f"  {label:>4} {name:<14} {row['seconds']:8.1f} s  peak RSS {row['peak_rss_mb']:7.0f} MB{extra}", flush=True
        )

    step("synth", "data", "synth", "--users", str(users), "--items", str(items), "--ratings", str(ratings),
         "--seed", "1", "--out", str(synth))  # fmt: skip
    step("first load", "data", "fetch", "ml-25m", "--path", str(synth), *data)
    step("cached load", "data", "fetch", "ml-25m", *data)
    subprocess.run([sys.executable, "-c", SPLIT, str(synth), str(work)], check=True)
    step("train mf_logq", "train", *train, "--preset", "mf_logq", "--out", str(work / "mf_logq"))
    step("train best", "train", *train, "--preset", "best", "--out", str(work / "best"))
    step("recommend all", "recommend", "--model", str(work / "mf_logq"), "--all-users", "-k", "100",
         "--out", str(work / "recs.csv"))  # fmt: skip
    step("evaluate all", "evaluate", "--model", str(work / "mf_logq"), "--test", str(work / "test.csv"),
         "-k", "10", "100", "--out", str(work / "metrics.json"))  # fmt: skip
    step("fit als", "train", *train, "--preset", "als", "--out", str(work / "als"))
    step("fit ease", "train", *train, "--preset", "ease", "--out", str(work / "ease"))
    if sequential:
        config = work / "sequential.toml"
        config.write_text(SEQUENTIAL)
        step("train sequential", "train", *train, "--config", str(config), "--out", str(work / "sequential"))
        step("recommend seq", "recommend", "--model", str(work / "sequential"), "--all-users", "-k", "100",
             "--out", str(work / "recs_sequential.csv"))  # fmt: skip
    return rows


def growth_table(rows: list[dict[str, float | str]], labels: list[str]) -> str:
    """Markdown: seconds and peak RSS per step and size, and seconds per million ratings vs the smallest."""
    steps = list(dict.fromkeys(str(r["step"]) for r in rows))
    by = {(str(r["step"]), int(r["ratings"])): r for r in rows}
    sizes = [SIZES[label][0] for label in labels]
    head = "| step | " + " | ".join(f"{label} s (peak MB)" for label in labels) + " | s per M ratings, vs smallest |"
    lines = [head, "|" + "---|" * (len(labels) + 2)]
    for name in steps:
        cells, ratios = [], []
        for size in sizes:
            row = by.get((name, size))
            if row is None:
                cells.append("-")
                continue
            epoch = f", epoch {float(row['epoch_seconds']):.1f}" if "epoch_seconds" in row else ""
            cells.append(f"{float(row['seconds']):.1f}{epoch} ({float(row['peak_rss_mb']):.0f})")
            ratios.append(float(row["seconds"]) / size)
        growth = " / ".join(f"{r / ratios[0]:.2f}" for r in ratios) if ratios else "-"
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {growth} |")
    return "\n".join(lines)


def chart(rows: list[dict[str, float | str]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name in dict.fromkeys(str(r["step"]) for r in rows):
        mine = sorted((int(r["ratings"]), r) for r in rows if r["step"] == name)
        x = [m[0] for m in mine]
        left.plot(x, [float(m[1]["seconds"]) for m in mine], marker="o", label=name)
        right.plot(x, [float(m[1]["peak_rss_mb"]) / 1024 for m in mine], marker="o", label=name)
    for axis, label in ((left, "wall seconds"), (right, "peak RSS (GB)")):
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("ratings")
        axis.set_ylabel(label)
        axis.grid(True, which="both", alpha=0.3)
    right.axhline(8, color="red", linestyle="--", linewidth=1, label="8 GB target")
    left.legend(fontsize=7)
    fig.suptitle("movierec: time and memory by data size (2 cores, generated MovieLens-shaped data)")
    fig.tight_layout()
    tmp = path.with_name("." + path.name)
    fig.savefig(tmp, dpi=110, format="png")
    os.replace(tmp, path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES), help="data sizes to run")
    parser.add_argument("--workdir", help="scratch folder, kept (default: a temporary one, removed at the end)")
    parser.add_argument("--report", type=Path, help="also write the table as Markdown here")
    parser.add_argument("--chart", type=Path, help="also write a time/memory chart (PNG) here")
    parser.add_argument("--json", type=Path, default=Path("artifacts/scale.json"), help="raw rows (JSON)")
    parser.add_argument("--no-sequential", action="store_true", help="leave out the sequential kind's two steps")
    args = parser.parse_args()
    if not Path(TIME).exists():
        parser.error(f"{TIME} not found: install GNU time (Debian package 'time')")
    movierec = str(Path(sys.executable).with_name("movierec"))
    work = Path(args.workdir or tempfile.mkdtemp(prefix="movierec-scale-"))
    labels = [label for label in SIZES if label in args.sizes]
    rows: list[dict[str, float | str]] = []
    started = time.time()
    try:
        for label in labels:
            if (work / label).exists():
                shutil.rmtree(work / label)
            rows += run_size(label, work / label, movierec, sequential=not args.no_sequential)
            shutil.rmtree(work / label / "synth", ignore_errors=True)  # the biggest files; the rest is small
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 1
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=1))  # also the steps done before a failure
    load = os.getloadavg()
    table = growth_table(rows, [label for label in labels if any(r["ratings"] == SIZES[label][0] for r in rows)])
    summary = (
        f"{len(rows)} steps in {(time.time() - started) / 60:.1f} min; load average at the end "
        f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; {os.cpu_count()} CPUs"
    )
    print("\n" + table + "\n\n" + summary)
    if args.report:
        args.report.write_text(f"# Scale benchmark (`make bench-scale`)\n\n{table}\n\n{summary}\n")
    if args.chart:
        chart(rows, args.chart)
    return 0


if __name__ == "__main__":
    sys.exit(main())
