"""`make bench-default`: how fast the default model is, and how fast each TFRS preset reaches EASE.

    .venv/bin/python benchmarks/default_model.py                  # default train + every TFRS preset
    .venv/bin/python benchmarks/default_model.py --presets best fast mf_logq

1. `movierec train --ratings ml-100k --out <tmp>` (the default preset, what a user runs first),
   end to end in a fresh process: wall seconds (TensorFlow import, load, training, export) and
   the training seconds it reports. Reference in the same invocation: `movierec train --preset
   ease`, the same command with the EASE baseline; the ratio says how many EASE fits one default
   training costs.
2. One `movierec compare` (random split, seed 42) of the TFRS presets and EASE, the same run
   `make run` does: per preset, training seconds, "seconds to EASE" (training seconds until its
   validation NDCG@10 first reached EASE's validation NDCG@10; "never" if it did not), test
   NDCG@10 and quality per second.

Set `MOVIEREC_CACHE` to where MovieLens 100k is cached. Prints tables; writes
`artifacts/bench_default.json`. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import movierec  # noqa: F401  (sets TF_USE_LEGACY_KERAS=1 before TensorFlow is imported)
from movierec.config import ExperimentConfig, SplitConfig
from movierec.experiments import PRESETS, run_experiment
from movierec.experiments.presets import DEFAULT_PRESET

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "artifacts" / "bench_default.json"
TFRS_PRESETS = [name for name, config in PRESETS.items() if getattr(config, "kind", "") == "two_tower"]


def train_command(preset: str | None, out: Path) -> dict[str, float]:
    """`movierec train` in a fresh process: wall seconds and the training seconds it prints."""
    command = [str(Path(sys.executable).with_name("movierec")), "train", "--ratings", "ml-100k", "--out", str(out)]
    if preset:
        command += ["--preset", preset]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-1500:]}")
    trained = re.search(r"trained in ([\d.]+) s", done.stdout + done.stderr)
    return {"wall_seconds": wall, "train_seconds": float(trained.group(1)) if trained else float("nan")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=TFRS_PRESETS, help="TFRS presets for part 2")
    parser.add_argument("--skip-train", action="store_true", help="skip part 1")
    args = parser.parse_args()
    unknown = sorted(set(args.presets) - set(TFRS_PRESETS))
    if unknown:
        parser.error(f"not TFRS presets: {', '.join(unknown)} (known: {', '.join(TFRS_PRESETS)})")
    report: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="movierec-bench-default-") as tmp:
        if not args.skip_train:
            default = train_command(None, Path(tmp) / "default")
            ease = train_command("ease", Path(tmp) / "ease")
            report["train"] = {"default": default, "ease": ease, "default_preset": DEFAULT_PRESET}
            print(f"movierec train --ratings ml-100k (default = {DEFAULT_PRESET}):")
            print(f"  {'command':<28}{'wall s':>8}{'train s':>9}")
            for label, row in ((f"default ({DEFAULT_PRESET})", default), ("--preset ease (reference)", ease)):
                print(f"  {label:<28}{row['wall_seconds']:8.1f}{row['train_seconds']:9.1f}")
            print(f"  default / ease wall time: {default['wall_seconds'] / ease['wall_seconds']:.1f}x\n")
        config = ExperimentConfig(
            name="bench-default",
            logdir=str(Path(tmp) / "runs"),
            models=(*args.presets, "ease"),
            split=SplitConfig(strategy="random", seed=42),
        )
        results = run_experiment(config).to_dict()  # the results.json form
    models = results["models"]
    ease_ndcg = models["ease"]["test"]["ndcg@10"]
    rows = []
    print(
        f"compare, random split, seed 42 (EASE: test NDCG@10 {ease_ndcg:.4f}, fit {models['ease']['train_seconds']:.1f} s):"
    )
    print(f"  {'preset':<22}{'train s':>8}{'epochs':>7}{'s to EASE':>10}{'NDCG@10':>9}{'vs EASE':>8}{'NDCG/s':>8}")
    for name in args.presets:
        model = models[name]
        reached = model.get("seconds_to_ease")
        ndcg = model["test"]["ndcg@10"]
        row = {
            "preset": name,
            "train_seconds": model["train_seconds"],
            "epochs": model.get("epochs_run"),
            "seconds_to_ease": reached,
            "ndcg@10": ndcg,
            "ndcg_per_second": ndcg / model["train_seconds"],
        }
        rows.append(row)
        shown = "never" if reached is None else f"{reached:.1f}"
        print(
            f"  {name:<22}{model['train_seconds']:8.1f}{model.get('epochs_run', 0):7d}{shown:>10}"
            f"{ndcg:9.4f}{ndcg - ease_ndcg:+8.4f}{row['ndcg_per_second']:8.4f}"
        )
    load = os.getloadavg()
    print(
        f"\nload average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} CPUs (other jobs slow every figure)"
    )
    report["presets"] = rows
    report["ease"] = {"ndcg@10": ease_ndcg, "train_seconds": models["ease"]["train_seconds"]}
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
