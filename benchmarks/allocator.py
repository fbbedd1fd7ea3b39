"""TensorFlow's CPU allocator: malloc (TensorFlow's default) against its BFC pool (movierec's default).

Times the training step of the report's models' size (in-batch softmax over [8192, 8192] logits,
32-d vectors) in two fresh processes that differ only by `TF_CPU_ALLOCATOR_USE_BFC`, and prints
seconds per step, user/system CPU seconds and minor page faults of each, and the ratio.

    .venv/bin/python benchmarks/allocator.py [--batch 8192] [--steps 10]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

CHILD = r"""
import json, os, resource, sys, time
os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf
batch, steps = int(sys.argv[1]), int(sys.argv[2])
query = tf.Variable(tf.random.normal([batch, 32], seed=1))
candidates = tf.Variable(tf.random.normal([batch, 32], seed=2))

@tf.function
def step():
    with tf.GradientTape() as tape:
        logits = tf.matmul(query, candidates, transpose_b=True)
        loss = tf.reduce_sum(tf.reduce_logsumexp(logits, axis=1) - tf.linalg.diag_part(logits))
    grads = tape.gradient(loss, [query, candidates])
    query.assign_sub(1e-6 * grads[0])
    candidates.assign_sub(1e-6 * grads[1])
    return loss

step()  # trace
before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
for _ in range(steps):
    loss = step()
float(loss)
seconds = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"step_s": seconds / steps, "user_s": after.ru_utime - before.ru_utime,
                  "sys_s": after.ru_stime - before.ru_stime, "faults": after.ru_minflt - before.ru_minflt}))
"""


def run(bfc: bool, batch: int, steps: int) -> dict[str, float]:
    env = {**os.environ, "TF_CPU_ALLOCATOR_USE_BFC": "true" if bfc else "false"}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(batch), str(steps)], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8192)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    rows = {
        "malloc (TensorFlow default)": run(False, args.batch, args.steps),
        "BFC pool (movierec)": run(True, args.batch, args.steps),
    }
    print(f"in-batch softmax step, batch {args.batch}, {args.steps} steps, 2 fresh processes")
    print(f"{'allocator':<30}{'s/step':>9}{'user s':>9}{'sys s':>9}{'page faults':>13}")
    for name, row in rows.items():
        print(f"{name:<30}{row['step_s']:>9.3f}{row['user_s']:>9.2f}{row['sys_s']:>9.2f}{row['faults']:>13,}")
    malloc, bfc = rows.values()
    print(f"ratio malloc / BFC seconds per step: {malloc['step_s'] / bfc['step_s']:.2f}x")


if __name__ == "__main__":
    main()
