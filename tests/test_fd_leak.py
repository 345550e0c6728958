"""Creating and using the app again and again leaks no file descriptors or threads (a hub runs
for months on a Pi; CLI commands build the app each time)."""

import os
import threading

import pytest

from classroom_server.app import create_app
from classroom_server.db import db


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.slow
def test_fifty_apps_leak_nothing(data_dir):
    create_app(data_dir, {"log_level": "warning"}).test_client().get("/healthz")
    db.close_all()
    fds, threads = _open_fds(), threading.active_count()
    for _ in range(50):
        app = create_app(data_dir, {"log_level": "warning"})
        assert app.test_client().get("/healthz").status_code == 200
        assert app.test_client().get("/login").status_code == 200
    db.close_all()
    assert _open_fds() <= fds + 2
    assert threading.active_count() == threads
