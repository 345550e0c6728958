"""A class's browsers keep many connections open at once (up to 6 each): a real `serve` answers
on every one of 300 kept-alive connections (#21: waitress's own limit of 100 left 102 of 200
learners unable to sign in)."""

from __future__ import annotations

import http.client

from click.testing import CliRunner

from classroom_server.cli import main
from tests.test_kill_serve import _free_port, _serve, _wait_until_up

CONNECTIONS = 300


def _ask(conn: http.client.HTTPConnection) -> int:
    conn.request("GET", "/healthz")
    response = conn.getresponse()
    response.read()
    return response.status


def test_300_kept_alive_connections_are_all_answered(tmp_path):
    data = tmp_path / "hub"
    assert CliRunner().invoke(main, ["init", "--data", str(data), "--admin-password", "first-admin-pw"]).exit_code == 0
    port = _free_port()
    process = _serve(data, port)
    held: list[http.client.HTTPConnection] = []
    try:
        _wait_until_up(f"http://127.0.0.1:{port}", process)
        for _ in range(CONNECTIONS):  # each stays open after its answer, as a browser's does
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
            held.append(conn)
            assert _ask(conn) == 200, len(held)
        assert [_ask(conn) for conn in held[:10]] == [200] * 10  # the first ones still serve
    finally:
        for conn in held:
            conn.close()
        process.terminate()
        process.communicate(timeout=30)
