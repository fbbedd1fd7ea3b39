"""The exported SavedModel's TF Serving signatures, loaded in a fresh process with `tf.saved_model.load` only.

No movierec code runs in that process: what TensorFlow Serving would load is what is checked.
Its top-k movie ids and scores must match the in-memory-equivalent `TrainedModel` (seen
movies excluded), and `saved_model_cli show` must list `serving_default`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from movierec.serving import load_model_dir

SCRIPT = """
import json, os, sys
os.environ["TF_USE_LEGACY_KERAS"] = "1"
import tensorflow as tf
users = tf.constant(json.loads(sys.argv[1]))
answers = []
for path in sys.argv[2:]:
    model = tf.saved_model.load(path)
    default = model.signatures["serving_default"](user_ids=users)
    recommend = model.signatures["recommend"](user_ids=users, k=tf.constant(30))
    try:
        model.signatures["serving_default"](user_ids=tf.constant(["nobody"]))
        unknown = "answered"
    except tf.errors.InvalidArgumentError as e:
        unknown = "unknown user id" if "unknown user id" in str(e) else str(e)
    out = {name: {key: value.numpy().tolist() for key, value in result.items()}
           for name, result in (("default", default), ("recommend", recommend))}
    out["unknown"] = unknown
    answers.append(out)
print(json.dumps(answers, default=lambda b: b.decode()))
"""

USERS = ["u1", "u7", "u21", "u40"]


# model1's export, and the same model chosen by auto (its export sits in the chosen candidate's folder and
# gets its string-id signatures through AutoRecommender.set_serving_labels)
EXPORTS = {"model1": "recommender", "auto": "recommender/chosen"}
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


@pytest.fixture(scope="module")
def fresh_processes(model_dirs) -> dict[str, subprocess.CompletedProcess]:
    """Both fresh processes, started at once: `SCRIPT` on every export (one TensorFlow start-up for the two)
    and `saved_model_cli show` on model1's."""
    exports = [str(model_dirs[kind] / folder / "saved_model") for kind, folder in EXPORTS.items()]
    cli = Path(sys.executable).parent / "saved_model_cli"
    commands = {
        "script": [sys.executable, "-c", SCRIPT, json.dumps(USERS), *exports],
        "cli": [str(cli), "show", "--dir", exports[0], "--tag_set", "serve", "--signature_def", "serving_default"],
    }
    started = {
        name: subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
        for name, command in commands.items()
    }
    finished = {}
    for name, process in started.items():
        stdout, stderr = process.communicate(timeout=300)
        finished[name] = subprocess.CompletedProcess(commands[name], process.returncode, stdout, stderr)
    return finished


@pytest.fixture(scope="module")
def fresh_process(fresh_processes) -> dict[str, dict]:
    """Each export's answers from the fresh process that loads them in turn."""
    result = fresh_processes["script"]
    assert result.returncode == 0, result.stderr[-2000:]
    return dict(zip(EXPORTS, json.loads(result.stdout.strip().splitlines()[-1])))


@pytest.mark.parametrize("kind", list(EXPORTS))
def test_serving_signatures_in_a_fresh_process(model_dirs, fresh_process, kind):
    folder = model_dirs[kind]
    answers = fresh_process[kind]
    assert answers["unknown"] == "unknown user id"
    model = load_model_dir(folder)
    for name, k in (("default", 10), ("recommend", 30)):
        got = answers[name]
        assert np.shape(got["item_ids"]) == (len(USERS), k)
        for row, user in enumerate(USERS):
            expected = model.recommend_users([user], k)
            n = len(expected)  # 22 unseen movies: the rest is padding ("" and -inf)
            assert got["item_ids"][row][n:] == [""] * (k - n)
            assert all(s == -np.inf for s in got["scores"][row][n:])
            np.testing.assert_allclose(got["scores"][row][:n], expected.score, rtol=1e-5, atol=1e-5)
            gaps = np.abs(np.diff(expected.score.to_numpy()))
            if np.all(gaps > 1e-4):  # TF and numpy may round a near-tie differently
                assert got["item_ids"][row][:n] == expected.item_id.tolist(), user


def test_saved_model_cli_lists_serving_default(fresh_processes):
    result = fresh_processes["cli"]  # `saved_model_cli show` on model1's export, serving_default
    assert result.returncode == 0, result.stderr[-2000:]
    assert "inputs['user_ids'] tensor_info" in result.stdout and "DT_STRING" in result.stdout
    assert "outputs['item_ids']" in result.stdout and "outputs['scores']" in result.stdout
