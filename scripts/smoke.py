"""Install movierec's wheel into a fresh venv outside the clone and use it as a new user would.

    python scripts/smoke.py 3.12 3.13           # build the wheel, one smoke run per interpreter
    python scripts/smoke.py                     # every supported version: 3.11, 3.12 and 3.13
    python scripts/smoke.py --wheel dist/movierec-0.1.0-py3-none-any.whl python3.11

For each interpreter (a version such as 3.12, a name on PATH or a path; `scripts/find-python` also finds
pyenv's installed but inactive versions) it makes a temporary folder outside the clone, a venv there and
`pip install`s the wheel (the interpreters' installs run side by side), then, one interpreter at a time,
from that folder:

1. `movierec data fetch`: MovieLens 100k into the platform's user cache folder (platformdirs; here
   `XDG_CACHE_HOME` points it into the temporary folder), checked against the path platformdirs gives;
2. `movierec train --epochs 1 --cache-dir C`: the default model, one epoch, with data read through the
   flag; from here on pip cannot download and the platform cache is empty, so only the flag (and, in
   step 4, `MOVIEREC_CACHE`) can find the data;
3. `movierec recommend --user 42 -k 5`: five ranked titles;
4. `movierec compare --config ml100k --models popularity,ease` with `MOVIEREC_CACHE=C`: the packaged
   experiment file, found by name; results.json holds both models' test metrics;
5. `movierec serve`: `/health`, the web page at `/` (package data) and one user's recommendations.

An interpreter that is not found is skipped with a printed notice (exit code 0 unless `--require`);
any failing step prints the command's last output lines and makes the exit code 1.
Standard library only, so any supported interpreter runs it.
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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RANKED = re.compile(r"^\s*\d+\. .+ score -?\d+\.\d+$")
USER = "42"
SUPPORTED = ("3.11", "3.12", "3.13")  # pyproject.toml: requires-python = ">=3.11,<3.14"


class SmokeError(Exception):
    """A smoke step failed; the message says which and shows the end of its output."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pythons", nargs="*", default=list(SUPPORTED), metavar="PYTHON",
                        help=f"3.12, python3.12 or a path to an interpreter (default: {' '.join(SUPPORTED)})")  # fmt: skip
    parser.add_argument("--wheel", type=Path, help="the wheel to install (default: build one from this clone)")
    parser.add_argument("--require", action="store_true", help="an interpreter that is not found is a failure")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders (their paths are printed)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    failed = False
    with tempfile.TemporaryDirectory(prefix="movierec-wheel-") as scratch:
        wheel = args.wheel.resolve() if args.wheel else build_wheel(Path(scratch))
        found = {}
        for name in args.pythons:
            python = find_python(name)
            if python is None:
                print(f"SKIP {name}: no such interpreter on PATH or in pyenv; smoke run not done", flush=True)
                failed |= args.require
            else:
                found[name] = python
        # the installs wait on disk and the package index more than on the CPU: run them side by side
        with ThreadPoolExecutor(max_workers=max(1, len(found))) as pool:
            installs = {name: pool.submit(install, python, wheel) for name, python in found.items()}
            for name, done in installs.items():
                try:
                    smoke(done.result(), keep=args.keep)
                except SmokeError as e:
                    print(f"FAIL {name}: {e}", flush=True)
                    failed = True
    print(f"smoke: {'FAILED' if failed else 'ok'} in {time.monotonic() - started:.0f} s", flush=True)
    return 1 if failed else 0


def build_wheel(folder: Path) -> Path:
    """`pip wheel . --no-deps` of this clone into `folder`."""
    t0 = time.monotonic()
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(folder), str(ROOT)], cwd=ROOT)
    (wheel,) = folder.glob("movierec-*.whl")
    print(f"built {wheel.name} ({time.monotonic() - t0:.0f} s)", flush=True)
    return wheel


def find_python(name: str) -> str | None:
    done = subprocess.run([str(ROOT / "scripts" / "find-python"), name], capture_output=True, text=True, check=False)
    return done.stdout.strip() or None


@dataclass(frozen=True)
class Venv:
    """A fresh venv with the wheel installed, in a temporary folder outside the clone."""

    work: Path  # the temporary folder; every command runs from it
    python: str  # the interpreter the venv was made with
    version: str  # its version, "3.12.1"
    seconds: float  # how long the venv and the install took


def install(python: str, wheel: Path) -> Venv:
    """`python -m venv` in a new temporary folder, then `pip install` of the wheel (without compiling .pyc files)."""
    t0 = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="movierec-smoke-"))
    try:
        if work.resolve().is_relative_to(ROOT):
            raise SmokeError(f"the temporary folder {work} is inside the clone; set TMPDIR elsewhere")
        version = run([python, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"], cwd=work).strip()
        run([python, "-m", "venv", str(work / "venv")], cwd=work)
        run([str(work / "venv" / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-compile", str(wheel)],
            cwd=work)  # fmt: skip
    except SmokeError:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return Venv(work, python, version, time.monotonic() - t0)


def smoke(venv: Venv, *, keep: bool) -> None:
    print(f"== Python {venv.version} ({venv.python}) in {venv.work}", flush=True)
    print(f"   venv + pip install of the wheel: {venv.seconds:.0f} s", flush=True)
    try:
        _steps(venv.work)
        print(f"ok Python {venv.version}", flush=True)
    finally:
        if keep:
            print(f"kept {venv.work}")
        else:
            shutil.rmtree(venv.work, ignore_errors=True)


def _steps(work: Path) -> None:
    bin_dir = work / "venv" / "bin"
    movierec = str(bin_dir / "movierec")
    env = {**os.environ, "XDG_CACHE_HOME": str(work / "user-cache")}
    env.pop("MOVIEREC_CACHE", None)
    env.pop("VIRTUAL_ENV", None)
    user_cache = run([str(bin_dir / "python"), "-c", "import platformdirs; print(platformdirs.user_cache_dir('movierec'))"],
                     cwd=work, env=env).strip()  # fmt: skip

    out = step("data fetch (platform user cache)", [movierec, "data", "fetch"], work, env)
    expect(f"cached in {user_cache}/ml-100k" in out, f"data fetch did not cache in {user_cache}/ml-100k", out)

    # From here on nothing can be downloaded and the platform cache is empty: the flag or the variable must work.
    offline = {**env, "XDG_CACHE_HOME": str(work / "empty-cache"), "PIP_NO_INDEX": "1", "PIP_CONFIG_FILE": os.devnull}
    step("train (default, 1 epoch, --cache-dir)",
         [movierec, "train", "--ratings", "ml-100k", "--cache-dir", user_cache, "--epochs", "1", "--out", "model"],
         work, offline)  # fmt: skip
    out = step("recommend", [movierec, "recommend", "--model", "model", "--user", USER, "-k", "5"], work, offline)
    ranked = [line for line in out.splitlines() if RANKED.match(line)]
    expect(len(ranked) == 5, "recommend did not print 5 ranked movies", out)

    step("compare --config ml100k (packaged, MOVIEREC_CACHE)",
         [movierec, "compare", "--config", "ml100k", "--models", "popularity,ease", "--name", "smoke"],
         work, {**offline, "MOVIEREC_CACHE": user_cache})  # fmt: skip
    results = json.loads((work / "runs" / "smoke" / "results.json").read_text())
    ndcg = {name: result["test"]["ndcg@10"] for name, result in results["models"].items()}
    expect(set(ndcg) == {"popularity", "ease"} and ndcg["ease"] > ndcg["popularity"] > 0,
           f"compare's results.json: NDCG@10 {ndcg}", "")  # fmt: skip
    print(f"   NDCG@10 {', '.join(f'{name} {value:.4f}' for name, value in ndcg.items())}", flush=True)
    serve(movierec, work, offline)


def serve(movierec: str, work: Path, env: dict[str, str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    t0 = time.monotonic()
    log = (work / "serve.log").open("w")
    server = subprocess.Popen([movierec, "serve", "--model", "model", "--port", str(port)], cwd=work, env=env,
                              stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        health = None
        while health is None and time.monotonic() - t0 < 180:
            if server.poll() is not None:
                raise SmokeError(f"serve exited with {server.returncode}:\n{_tail((work / 'serve.log').read_text())}")
            try:
                health = json.loads(get(f"{base}/health"))
            except OSError:
                time.sleep(0.5)
        expect(health is not None and health["status"] == "ok", "serve did not answer /health", str(health))
        page = get(f"{base}/")
        expect("<title>movierec</title>" in page, "the web page at / is not movierec's", page[:300])
        body = json.loads(get(f"{base}/users/{USER}/recommendations?k=5"))
        expect([item["rank"] for item in body["items"]] == [1, 2, 3, 4, 5], "no 5 recommendations", str(body))
        print(f"   serve ({time.monotonic() - t0:.0f} s): /health {health['users']} users, {health['items']} items; "
              f"web page {len(page)} bytes; user {USER}: {body['items'][0]['title']} first", flush=True)  # fmt: skip
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read().decode("utf-8")


def step(label: str, command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    t0 = time.monotonic()
    out = run(command, cwd=cwd, env=env)
    print(f"   {label}: {time.monotonic() - t0:.0f} s", flush=True)
    return out


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SmokeError(f"{' '.join(command)} exited with {done.returncode}:\n{_tail(done.stdout + done.stderr)}")
    return done.stdout + done.stderr


def expect(condition: bool, message: str, output: str) -> None:
    if not condition:
        raise SmokeError(f"{message}\n{_tail(output)}")


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


if __name__ == "__main__":
    sys.exit(main())
