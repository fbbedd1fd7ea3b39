"""Issue 21, items 5 and 10: `movierec serve` as a process: workers that cannot load, signals, idle connections."""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from movierec.cli.main import main
from movierec.serving.api import create_app

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serve(*args) -> subprocess.Popen:
    command = [sys.executable, "-m", "movierec.cli.main", "serve", *map(str, args)]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_port(port: int, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail("the server did not start")


def test_serve_workers_on_a_model_that_cannot_load_exits_with_the_first_error(pop_model, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(pop_model, broken)
    target = broken / "recommender" / "popularity.npz"
    target.write_bytes(b"not an npz file")
    manifest = json.loads((broken / "manifest.json").read_text())  # regenerated: the manifest check passes
    manifest["files"]["recommender/popularity.npz"] = {
        "bytes": target.stat().st_size, "sha256": hashlib.sha256(target.read_bytes()).hexdigest(),
    }  # fmt: skip
    (broken / "manifest.json").write_text(json.dumps(manifest))
    process = _serve("--model", broken, "--workers", "2", "--port", _free_port(), "--trust")  # not signed: trusted
    try:  # today's server restarts its workers with a traceback every few seconds, forever
        _, err = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail("serve --workers 2 kept restarting workers that cannot load")
    assert process.returncode == 2
    assert err.splitlines()[-1].startswith(f"movierec serve: error: {broken}/recommender is incomplete or corrupt: ")
    assert err.count("cannot load its models") <= 2  # each worker once, none restarted
    assert "Traceback" not in err


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_exits_130_on_sigterm_as_documented(pop_model, workers):
    port = _free_port()
    process = _serve("--model", pop_model, "--workers", workers, "--port", port)
    _wait_for_port(port, process)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert (process.returncode, err.splitlines()[-1]) == (130, "movierec serve: interrupted")


def test_serve_on_every_interface_warns(pop_model, monkeypatch, capsys):
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: None)
    main(["serve", "--model", str(pop_model), "--host", "0.0.0.0"])
    assert capsys.readouterr().err.splitlines()[0] == (
        "movierec serve: warning: --host 0.0.0.0 lets other machines reach the API, which has no authentication; "
        "use 127.0.0.1 (the default) unless that is meant"
    )
    main(["serve", "--model", str(pop_model), "--host", "127.0.0.1"])
    assert "warning" not in capsys.readouterr().err


def test_idle_connections_are_closed(pop_model, monkeypatch):
    from movierec.cli.serve import server_options
    from movierec.serving.connections import IdleClosing

    monkeypatch.setattr(IdleClosing, "request_start_seconds", 0.5)
    parsed = type("Args", (), {"host": "127.0.0.1", "port": _free_port(), "access_log": False})()
    config = uvicorn.Config(create_app(pop_model), **server_options(parsed))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.05)
        address = ("127.0.0.1", parsed.port)
        with socket.create_connection(address) as silent, socket.create_connection(address) as partial:
            partial.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # half a request head, then nothing
            silent.settimeout(5)
            partial.settimeout(5)
            assert silent.recv(1024) == b""  # closed by the server, not by the 5 s timeout (which raises)
            assert partial.recv(1024) == b""
        with socket.create_connection(address) as busy:  # a connection in use is answered as before
            busy.settimeout(5)
            busy.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert busy.recv(4096).startswith(b"HTTP/1.1 200")
    finally:
        server.should_exit = True
        thread.join(10)


def test_stalled_request_body_is_timed_out(pop_model, monkeypatch, caplog):
    # today: a client that sends a request head and half its body holds the request handler forever
    from movierec.cli.serve import server_options
    from movierec.serving.connections import IdleClosing

    monkeypatch.setattr(IdleClosing, "request_start_seconds", 0.5)
    parsed = type("Args", (), {"host": "127.0.0.1", "port": _free_port(), "access_log": False})()
    server = uvicorn.Server(uvicorn.Config(create_app(pop_model), **server_options(parsed)))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    body = b'{"liked": ["m1"], "k": 3}'
    head = b"POST /recommendations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
    try:
        while not server.started:
            time.sleep(0.05)
        address = ("127.0.0.1", parsed.port)
        with socket.create_connection(address) as stalled, socket.create_connection(address) as slow:
            stalled.settimeout(5)
            slow.settimeout(5)
            stalled.sendall(head % len(body) + body[:10])  # then nothing
            slow.sendall(head % len(body) + body[:10])
            for start in range(10, len(body), 5):  # the rest in pieces, each well within the deadline
                time.sleep(0.2)
                slow.sendall(body[start : start + 5])
            assert slow.recv(4096).startswith(b"HTTP/1.1 200")  # a slow but steady body is answered
            started = time.monotonic()
            assert stalled.recv(1024) == b""  # closed by the server, not by the 5 s socket timeout (which raises)
            assert time.monotonic() - started < 2
        with socket.create_connection(address) as after:  # the server still answers
            after.settimeout(5)
            after.sendall(head % len(body) + body)
            assert after.recv(4096).startswith(b"HTTP/1.1 200")
    finally:
        server.should_exit = True
        thread.join(10)
    assert "Traceback" not in caplog.text
