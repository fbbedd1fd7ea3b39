"""`make bench-serve`: HTTP throughput and latency of `movierec serve`, measured with wrk on 127.0.0.1.

Starts `movierec serve` on a free local port, then runs Debian's `wrk` (2 threads, bounded
duration) at 8 and 32 connections against four endpoints: `/health` (the floor: no model
work), a known user's top 10, a new user's top 10 from 5 liked movies, and 10 similar movies;
then the two recommendation routes again with `explain` on (`?explain=true`, `"explain": true`:
each movie's `because`), unless `--no-explain`.
Known users, liked lists and movies are drawn at random per request by a small Lua script,
so caches do not flatter the numbers. Prints requests/s, p50 and p99 latency and errors per
run with the machine's load average (`uptime`; other jobs share the cores), then the
in-process time of one known-user top-10 (`ServingEngine.recommend_user`) beside the
library's `Recommender.recommend` for one user, and of one new user's top-10.

Usage:
    python benchmarks/serve.py [--model DIR] [--seconds 10] [--workers 1]
    python benchmarks/serve.py --catalogue 59047 --users 162541 [--ratings 5000000]

Without --model, trains the report's `model1` on MovieLens 100k once into
artifacts/bench-serve/model1 (reused afterwards). With --catalogue, writes synthetic
ratings of that many rated movies and users (`movierec data synth`, ML-25M's shape: its
movies.csv also lists never-rated movies, so the served catalogue is larger, 62,423 for
59,047 rated) and trains ALS on them (32 factors, 3 sweeps: about a minute; a two-tower
epoch at that size takes far longer on 2 cores), once, into
artifacts/bench-serve/synth-USERSxMOVIES-RATINGS/. A benchmark, never a test: nothing asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MOVIEREC = [sys.executable, "-m", "movierec.cli.main"]
BENCH_DIR = ROOT / "artifacts" / "bench-serve"
DEFAULT_MODEL = BENCH_DIR / "model1"
CONNECTIONS = (8, 32)
K = 10
SYNTH_ALS = 'kind = "als"\nname = "als"\nfactors = 32\niterations = 3\n'  # a factor model trained in about a minute

LUA_GET = """
local paths = {%s}
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
"""
LUA_POST = """
local bodies = {%s}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  return wrk.format(nil, "/recommendations", nil, bodies[math.random(#bodies)])
end
"""


def _lua_strings(values: list[str]) -> str:
    return ",".join(json.dumps(v) for v in values)  # JSON string escapes are valid Lua for these ASCII ids


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(url: str, server: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            reason = (server.stderr.read() if server.stderr else "").strip().splitlines()
            raise SystemExit(f"movierec serve exited with code {server.returncode}: {reason[-1] if reason else ''}")
        try:
            with urllib.request.urlopen(url + "/health", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("movierec serve did not start in time")


def _wrk(url: str, script: Path, connections: int, seconds: int) -> dict[str, float]:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50": _ms(re.search(r"50%\s+([\d.]+\w+)", out).group(1)),  # type: ignore[union-attr]
        "p99": _ms(re.search(r"99%\s+([\d.]+\w+)", out).group(1)),  # type: ignore[union-attr]
        "errors": sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
        + int((re.search(r"Non-2xx or 3xx responses: (\d+)", out) or [0, 0])[1]),
    }


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


def _in_process(model_dir: Path, repeats: int = 2000) -> dict[str, np.ndarray]:
    """Microseconds of each top-10: known user (serving engine, its explanation, library recommend), new user
    from 5 movies.

    With one BLAS thread, as the server runs (see `movierec.serving.api._lifespan`).
    """
    from threadpoolctl import threadpool_limits

    from movierec.serving import ServingEngine, load_model_dir

    threadpool_limits(1, "blas")
    engine = ServingEngine(load_model_dir(model_dir))
    engine.warm_up()
    rng = np.random.default_rng(0)
    users = rng.integers(0, engine.n_users, repeats)
    user_ids = [str(engine.model.vocab.user_ids[u]) for u in users]
    liked = [[engine.item_ids[i] for i in rng.integers(0, engine.n_items, 5)] for _ in range(repeats)]
    timings: dict[str, list[float]] = {"engine": [], "explain": [], "library": [], "new user": []}
    for user, user_id, movies in zip(users, user_ids, liked):
        started = time.perf_counter()
        ranked = engine.recommend_user(user_id, K)
        timings["engine"].append(time.perf_counter() - started)
        started = time.perf_counter()
        engine.explain_user(user_id, ranked)
        timings["explain"].append(time.perf_counter() - started)
        started = time.perf_counter()
        engine.recommender.recommend(np.array([user]), K)
        timings["library"].append(time.perf_counter() - started)
        started = time.perf_counter()
        engine.recommend_liked(movies, K)
        timings["new user"].append(time.perf_counter() - started)
    return {name: np.asarray(values) * 1e6 for name, values in timings.items()}


def _load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip().split("load average:")[-1].strip()


def _synthetic_model(users: int, movies: int, ratings: int) -> Path:
    """ALS trained once on synthetic ML-25M-shaped ratings of that size; reused afterwards."""
    folder = BENCH_DIR / f"synth-{users}x{movies}-{ratings}"
    model_dir = folder / "als"
    if _loads(model_dir):
        return model_dir
    if not (folder / "data" / "ratings.csv").is_file():
        print(f"writing {ratings:,} synthetic ratings of {users:,} users and {movies:,} movies (once) ...", flush=True)
        subprocess.run([*MOVIEREC, "data", "synth", "--users", str(users), "--items", str(movies), "--ratings",
                        str(ratings), "--seed", "1", "--out", str(folder / "data")], check=True)  # fmt: skip
    (folder / "als.toml").write_text(SYNTH_ALS)
    print(f"training ALS into {model_dir} (once) ...", flush=True)
    subprocess.run([*MOVIEREC, "train", "--ratings", str(folder / "data"), "--config", str(folder / "als.toml"),
                    "--out", str(model_dir)], check=True)  # fmt: skip
    return model_dir


def _loads(model_dir: Path) -> bool:
    """Whether a model folder this benchmark trained earlier still loads (trained by an older movierec, or
    before models were signed, it is trained again: `train --out` replaces a model folder)."""
    from movierec.errors import ModelDirError
    from movierec.serving.model_dir import verify_model_dir

    if not (model_dir / "model.json").is_file():
        return False
    try:
        verify_model_dir(model_dir)
    except ModelDirError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, help="model directory (default: model1 on ml-100k, trained once)")
    parser.add_argument("--seconds", type=int, default=10, help="duration of each wrk run (default 10)")
    parser.add_argument("--workers", type=int, default=1, help="`movierec serve --workers` (default 1)")
    parser.add_argument("--catalogue", type=int, help="rated movies of a synthetic catalogue (e.g. 59047, ML-25M's)")
    parser.add_argument("--users", type=int, default=162_541, help="users of the synthetic data (default ML-25M's)")
    parser.add_argument("--ratings", type=int, default=5_000_000, help="synthetic ratings (default 5,000,000)")
    parser.add_argument("--no-explain", action="store_true", help="skip the rows with explain on")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install -y wrk")
    if args.catalogue and args.model:
        raise SystemExit("give --model or --catalogue, not both")
    model_dir = _synthetic_model(args.users, args.catalogue, args.ratings) if args.catalogue else None
    model_dir = model_dir or args.model or DEFAULT_MODEL
    if args.model is not None and not (model_dir / "model.json").is_file():
        raise SystemExit(f"{model_dir} is not a model directory")
    if args.model is None and not _loads(model_dir):
        print(f"training model1 on ml-100k into {model_dir} (once) ...", flush=True)
        subprocess.run([*MOVIEREC, "train", "--ratings", "ml-100k", "--preset", "model1", "--out", str(model_dir)],
                       check=True)  # fmt: skip
    vocab = json.loads((model_dir / "vocab.json").read_text())
    users, items = vocab["user_ids"], vocab["item_ids"]
    rng = np.random.default_rng(0)
    sample_users = [str(u) for u in rng.choice(users, size=min(500, len(users)), replace=False)]
    sample_items = [str(i) for i in rng.choice(items, size=min(500, len(items)), replace=False)]
    liked = [json.dumps({"liked": [str(i) for i in rng.choice(items, 5)], "k": K}) for _ in range(200)]

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = [*MOVIEREC, "serve", "--model", str(model_dir), "--port", str(port), "--workers", str(args.workers)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    with tempfile.TemporaryDirectory() as tmp:
        scripts = {
            "/health": LUA_GET % _lua_strings(["/health"]),
            "known user top-10": LUA_GET % _lua_strings([f"/users/{u}/recommendations?k={K}" for u in sample_users]),
            "new user top-10": LUA_POST % _lua_strings(liked),
            "similar top-10": LUA_GET % _lua_strings([f"/movies/{i}/similar?k={K}" for i in sample_items]),
        }
        if not args.no_explain:  # the same requests with each movie's `because`
            explained = [f"/users/{u}/recommendations?k={K}&explain=true" for u in sample_users]
            scripts["known user + explain"] = LUA_GET % _lua_strings(explained)
            scripts["new user + explain"] = LUA_POST % _lua_strings([b[:-1] + ', "explain": true}' for b in liked])
        try:
            _wait_until_up(url, server)
            for name, text in scripts.items():  # warm up every path once
                (Path(tmp) / f"{len(name)}.lua").write_text(text)
                _wrk(url, Path(tmp) / f"{len(name)}.lua", 2, 1)
            kind = json.loads((model_dir / "model.json").read_text())["model"]["name"]
            print(f"\nmovierec serve --workers {args.workers}: {kind}, {len(users):,} users, {len(items):,} movies; "
                  f"wrk -t2, {args.seconds} s per run, 127.0.0.1\n")  # fmt: skip
            print(f"{'endpoint':<20}{'conns':>6}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}  load average")
            results = {}
            for name in scripts:
                for connections in CONNECTIONS:
                    result = _wrk(url, Path(tmp) / f"{len(name)}.lua", connections, args.seconds)
                    results[name, connections] = result
                    print(f"{name:<20}{connections:>6}{result['rps']:>10.0f}{result['p50']:>9.2f}"
                          f"{result['p99']:>9.2f}{result['errors']:>8}  {_load()}", flush=True)  # fmt: skip
        finally:
            server.terminate()
            server.wait(timeout=30)
    for connections in CONNECTIONS:
        ratio = results["known user top-10", connections]["rps"] / results["/health", connections]["rps"]
        print(f"known user / health throughput at {connections} connections: {ratio:.0%}")
    if not args.no_explain:
        for name in ("known user", "new user"):
            for connections in CONNECTIONS:
                ratio = results[f"{name} + explain", connections]["rps"] / results[f"{name} top-10", connections]["rps"]
                print(f"{name} with / without explain throughput at {connections} connections: {ratio:.0%}")
    timings = _in_process(model_dir)
    median = {name: float(np.median(values)) for name, values in timings.items()}
    print(f"in-process known-user top-10 (median of 2,000): serving engine {median['engine']:.0f} us, "
          f"library recommend() {median['library']:.0f} us, explaining it {median['explain']:.0f} us more")  # fmt: skip
    print(f"in-process new-user top-10 from 5 movies: median {median['new user']:.0f} us, "
          f"p99 {np.percentile(timings['new user'], 99):.0f} us")  # fmt: skip


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    main()
