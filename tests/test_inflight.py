"""The hub counts the requests it is handling, so that background work waits for the gaps."""

from __future__ import annotations

import threading

import pytest

from classroom_server import inflight


@pytest.fixture(autouse=True)
def _nothing_in_flight():
    assert inflight.in_flight() == 0
    yield
    assert inflight.in_flight() == 0


def test_a_request_counts_while_it_is_handled_and_not_while_its_body_streams(app):
    seen: list[int] = []

    @app.route("/_test/inflight")
    def _probe():
        seen.append(inflight.in_flight())

        def body():
            seen.append(inflight.in_flight())
            yield b"streamed"

        return app.response_class(body())

    client = app.test_client()
    assert client.get("/_test/inflight").data == b"streamed"
    assert seen == [1, 0]  # in the view: one; the streamed body (a live page held open): none
    assert client.get("/healthz").status_code == 200
    assert inflight.in_flight() == 0


def test_a_request_that_fails_is_no_longer_counted(app):
    @app.route("/_test/broken")
    def _broken():
        raise RuntimeError("broken on purpose")

    app.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(RuntimeError):
        app.test_client().get("/_test/broken")
    assert inflight.in_flight() == 0


def test_waiting_for_quiet_returns_at_once_when_nothing_is_handled():
    assert inflight.wait_until_quiet(5.0) < 0.5


def test_waiting_for_quiet_ends_when_the_last_request_is_answered():
    inflight.enter()
    inflight.enter()
    waited: list[float] = []
    waiter = threading.Thread(target=lambda: waited.append(inflight.wait_until_quiet(30.0)))
    waiter.start()
    inflight.leave()
    waiter.join(0.2)
    assert waiter.is_alive()  # one request is still being handled
    inflight.leave()
    waiter.join(10)
    assert not waiter.is_alive() and waited[0] < 10


def test_waiting_for_quiet_gives_up_after_its_time():
    ticks = iter([0.0, 10.0, 20.0])
    inflight.enter()
    try:
        assert inflight.wait_until_quiet(0.05) >= 0.05
        assert inflight.wait_until_quiet(2.0, clock=lambda: next(ticks)) >= 2.0  # a hub never quiet
    finally:
        inflight.leave()
