"""Time and peak memory of the data layer at MovieLens-25M scale, on synthetic data.

    .venv/bin/python benchmarks/data_load.py [--users 162541 --items 59047 --ratings 25000000] [--workdir NEW_DIR]

Steps, each in a fresh interpreter so that its peak resident memory is its own (VmHWM of
/proc/self/status; `ru_maxrss` would carry the parent's peak across fork and exec):

1. `generate`: `write_synthetic` (what `movierec data synth` runs) shaped like ML-25M into DIR/synth;
2. `first load`: that folder read as `ml-25m` (`load_movielens("ml-25m", path=...)`): CSV parse + Parquet cache;
3. `second load`: `ml-25m` again, from the columnar cache;
4. `folder load`: `DataConfig(source=DIR/synth)`, the folder read directly (no cache);
5. `csv load`: the same ratings as a canonical `user_id,item_id,rating,timestamp` CSV with string
   ids ("u1", "m1"; written by an untimed step), read by `load_csv` (pyarrow, then dictionary-encoded ids).

Prints one line per step: seconds, peak RSS and what was loaded. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

STEP = """
import json, sys, time
import movierec  # noqa: F401
from movierec.config import DataConfig
from movierec.data import SyntheticConfig, load_csv, load_dataset, load_movielens, write_synthetic
step, work = sys.argv[1], sys.argv[2]
users, items, ratings = map(int, sys.argv[3:6])
start = time.perf_counter()
if step == "generate":
    what = write_synthetic(SyntheticConfig(users=users, items=items, ratings=ratings, seed=1), work + "/synth")
elif step in ("first load", "second load"):
    path = work + "/synth" if step == "first load" else None
    what = load_movielens("ml-25m", path=path, cache_dir=work + "/cache").summary()
elif step == "folder load":
    what = load_dataset(DataConfig(source=work + "/synth")).summary()
elif step == "csv load":
    what = load_csv(work + "/canonical.csv").summary()
else:  # "make csv", untimed: the synthetic ratings with string ids under the canonical column names
    import pyarrow as pa, pyarrow.compute as pc, pyarrow.csv as pacsv
    table = pacsv.read_csv(work + "/synth/ratings.csv")
    prefixed = lambda prefix, column: pc.binary_join_element_wise(prefix, pc.cast(column, pa.string()), "")
    table = pa.table({"user_id": prefixed("u", table["userId"]), "item_id": prefixed("m", table["movieId"]),
                      "rating": table["rating"], "timestamp": table["timestamp"]})
    pacsv.write_csv(table, work + "/canonical.csv", pacsv.WriteOptions(quoting_style="none"))
    what = "canonical.csv"
seconds = time.perf_counter() - start
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
peak_mb = int(status["VmHWM"].split()[0]) / 1024
print(json.dumps({"step": step, "seconds": seconds, "peak_rss_mb": peak_mb, "what": str(what)}))
"""
STEPS = ("generate", "first load", "second load", "folder load", "make csv", "csv load")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=162_541, help="users to generate (default: ML-25M's)")
    parser.add_argument("--items", type=int, default=59_047, help="rated movies to generate (default: ML-25M's)")
    parser.add_argument("--ratings", type=int, default=25_000_000, help="ratings to generate (default 25M)")
    parser.add_argument("--workdir", help="new scratch folder, kept (default: a temporary one, removed at the end)")
    args = parser.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="movierec-bench-"))
    if (work / "synth").exists():
        parser.error(f"--workdir {work} already holds synth/; pass a new folder")
    work.mkdir(parents=True, exist_ok=True)
    try:
        for step in STEPS:
            command = [sys.executable, "-c", STEP, step, str(work), str(args.users), str(args.items), str(args.ratings)]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(f"{step} failed:\n{done.stderr[-2000:]}", file=sys.stderr)
                return 1
            row = json.loads(done.stdout.strip().splitlines()[-1])
            if step != "make csv":
                print(f"{step:<12} {row['seconds']:6.1f} s  peak RSS {row['peak_rss_mb']:6.0f} MB  {row['what']}")
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
