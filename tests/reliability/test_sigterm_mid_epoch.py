"""`movierec train` stopped by SIGTERM while TensorFlow holds the main thread: within seconds, one line, exit 130.

Python runs a signal handler only when the main thread returns to Python; `train` spends each call into TensorFlow
on `steps_per_execution` = 32 batches (observed over 60 s on MovieLens 1M under load). Here the data pipeline is
slowed once the first epoch is backed up (each batch waits 2 s in a tf.data thread: 64 s per call, no CPU spent),
so the main thread is inside TensorFlow when SIGTERM comes; the command must still stop within a few seconds
(`movierec.cli._signals.GRACE_SECONDS`), leave no lock file, and a following `train` resumes from the backup.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BATCH_SECONDS = 2.0  # each batch's wait once the flag file exists: a call of 32 batches takes 64 s
STOPPED_WITHIN = 20.0  # seconds from SIGTERM to exit: the grace (3 s) plus a loaded machine's slack, far below 64 s

# `movierec ARGS...` with the data pipeline slowed while the file FLAG exists: python -c LAUNCHER FLAG ARGS...
LAUNCHER = f"""
import sys, time
from pathlib import Path
from movierec._env import import_tensorflow
import movierec.training.pipeline as pipeline
from movierec.cli.main import main

tf, _ = import_tensorflow()
flag, prefetched = Path(sys.argv[1]), pipeline.prefetched

def pause():
    if flag.exists():
        time.sleep({BATCH_SECONDS})
    return 0

def slowed(dataset):
    def each(batch):
        with tf.control_dependencies([tf.py_function(pause, [], tf.int32)]):
            return tf.nest.map_structure(tf.identity, batch)
    return prefetched(dataset.map(each))

pipeline.prefetched = slowed
sys.exit(main(sys.argv[2:]))
"""
CONFIG = 'kind = "two_tower"\nname = "M"\nembedding_dim = 8\nlayer_sizes = [16, 8]\nbatch_size = 8\n'  # 40 batches


def _backed_up(backup: Path) -> bool:
    return any(index.parent.name == "chief" for index in backup.rglob("checkpoint"))


def test_sigterm_while_tensorflow_holds_the_main_thread_stops_train_within_seconds(tmp_path, block_data):
    ratings, config, flag = tmp_path / "r.csv", tmp_path / "m.toml", tmp_path / "slow"
    block_data.ratings.to_csv(ratings, index=False)
    config.write_text(CONFIG)
    args = ["train", "--ratings", str(ratings), "--config", str(config), "--epochs", "5", "--validation-fraction",
            "0", "--out", str(tmp_path / "M")]  # fmt: skip
    process = subprocess.Popen([sys.executable, "-c", LAUNCHER, str(flag), *args], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    backup = tmp_path / ".M.resume"
    deadline = time.monotonic() + 300
    while not _backed_up(backup):  # the first epoch is done: a resume has something to resume from
        assert process.poll() is None, process.communicate()[1][-2000:]
        assert time.monotonic() < deadline, "no epoch was backed up"
        time.sleep(0.01)
    flag.touch()  # from now on each batch takes 2 s
    time.sleep(1.5)  # the main thread is in a call into TensorFlow, waiting for its batches
    assert process.poll() is None, "the run ended before SIGTERM: more epochs needed"

    sent = time.monotonic()
    process.send_signal(signal.SIGTERM)
    stderr = process.communicate(timeout=120)[1]
    stopped_after = time.monotonic() - sent
    assert process.returncode == 130, stderr[-2000:]
    assert stderr.splitlines()[-1] == "movierec train: interrupted"
    assert stderr.splitlines().count("movierec train: interrupted") == 1
    assert stopped_after < STOPPED_WITHIN, f"stopped {stopped_after:.1f} s after SIGTERM"
    assert not (tmp_path / "M").exists() and not (tmp_path / ".M.lock").exists()
    assert backup.is_dir()

    flag.unlink()
    resumed = subprocess.run([sys.executable, "-m", "movierec.cli.main", *args], cwd=ROOT, capture_output=True,
                             text=True, timeout=600)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resuming from the backup of an interrupted run" in resumed.stderr
    assert "taking over the lock" not in resumed.stderr and "died before finishing" not in resumed.stderr
    assert "M epoch 1/5" not in resumed.stderr and "M epoch 5/5" in resumed.stderr  # from the last finished epoch
    assert (tmp_path / "M" / "model.json").is_file()
