"""The hub's HTTP transport: a paced upload under a bandwidth cap, problems on the way in plain
words, and the cheap connectivity check the schedule makes first."""

from __future__ import annotations

import socket

import pytest
import requests

from classroom_server.db import db
from classroom_server.services import sync as hub_sync
from sync.transport import HttpTransport, PacedBody, address_of, plain_network_error, reachable
from tests.sync.conftest import free_port, register


class FakeClock:
    """Time that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.mark.parametrize("size, rate", [(1, 1000), (10_000, 1000), (100_000, 8000), (300_000, 125_000)])
def test_a_paced_body_sends_everything_no_faster_than_its_rate(size, rate):
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    clock = FakeClock()
    body = PacedBody(data, rate, sleep=clock.sleep, clock=clock)
    assert len(body) == size
    pieces = []
    for piece in body:
        pieces.append(piece)
        sent = sum(len(p) for p in pieces)
        # What was handed over by now never runs ahead of the rate by more than one piece.
        assert sent <= (clock.now - 100.0) * rate + body.piece + 0.001
    assert b"".join(pieces) == data
    expected = (size - len(pieces[-1])) / rate  # the last piece goes at once when its time comes
    assert sum(clock.sleeps) == pytest.approx(expected, abs=1e-6)
    again = FakeClock()  # a retry sends the whole body again, from the start
    assert b"".join(PacedBody(data, rate, sleep=again.sleep, clock=again)) == data


def test_a_paced_body_refuses_a_zero_rate():
    with pytest.raises(ValueError):
        PacedBody(b"abc", 0)


class RecordingSession(requests.Session):
    """A real requests session that keeps the requests it prepared."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request, **kwargs):  # type: ignore[no-untyped-def, override]
        self.sent.append(request)
        return super().send(request, **kwargs)


def test_a_capped_sync_reaches_a_real_district_with_its_length_said(app, school, district, district_server):
    code = register(district)
    clock = FakeClock()
    session = RecordingSession()
    transport = HttpTransport(district_server, session, max_kbit=64, sleep=clock.sleep, clock=clock)
    with db.connection_context():
        hub_sync.enrol(HttpTransport(district_server), district_server, code, "Room 4")
        outcome = hub_sync.run(transport)
        assert hub_sync.status().waiting == 0
    assert outcome.pushed > 0
    pushes = [r for r in session.sent if r.path_url.endswith("/push")]
    assert pushes and all(r.headers.get("Content-Length") and "Transfer-Encoding" not in r.headers for r in pushes)
    # 64 kbit/s is 8000 bytes a second: the sleeps add up to what every body but its last piece needs.
    paced = sum(int(r.headers["Content-Length"]) for r in session.sent if int(r.headers["Content-Length"]) > 2000)
    assert sum(clock.sleeps) >= (paced - 2000 * len(session.sent)) / 8000


def test_without_a_cap_the_body_goes_as_it_is():
    session = RecordingSession()
    transport = HttpTransport("http://127.0.0.1:1", session)
    with pytest.raises(OSError):
        transport.post("/sync/v1/hello", b"abc", {}, 1.0)
    assert session.sent[0].body == b"abc"


def test_nothing_listening_is_said_plainly():
    port = free_port()
    with pytest.raises(OSError) as caught:
        HttpTransport(f"http://127.0.0.1:{port}").post("/sync/v1/hello", b"{}", {}, 2.0)
    assert str(caught.value) == f"nothing is listening at 127.0.0.1:{port} (connection refused)"


class FailingSession:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def post(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise self.exc


def _wrapped(outer: type[requests.RequestException], inner: BaseException) -> requests.RequestException:
    try:
        try:
            raise inner
        except BaseException as exc:
            raise outer(str(exc)) from exc
    except requests.RequestException as exc:
        return exc


@pytest.mark.parametrize("exc, words", [
    (_wrapped(requests.ConnectionError, socket.gaierror(-2, "Name or service not known")),
     "the name district.example.org cannot be found"),
    (requests.ConnectTimeout("timed out"), "district.example.org:443 did not answer in time"),
    (requests.ReadTimeout("read timed out"), "district.example.org:443 took too long to answer"),
    (requests.exceptions.SSLError("certificate verify failed"), "the secure connection to district.example.org:443"),
    (_wrapped(requests.ConnectionError, OSError(101, "Network is unreachable")),
     "there is no route to district.example.org:443"),
    (requests.ConnectionError("Connection aborted."), "the connection to district.example.org:443 failed or was cut"),
])
def test_network_problems_are_said_in_plain_words(exc, words):
    transport = HttpTransport("https://district.example.org", FailingSession(exc))
    with pytest.raises(OSError) as caught:
        transport.post("/sync/v1/hello", b"{}", {}, 2.0)
    assert str(caught.value).startswith(words)
    assert "Traceback" not in str(caught.value) and "HTTPSConnectionPool" not in str(caught.value)
    assert plain_network_error(exc, "https://district.example.org") == str(caught.value)


@pytest.mark.parametrize("url, expected", [
    ("https://district.example.org", ("district.example.org", 443)),
    ("http://district.example.org/", ("district.example.org", 80)),
    ("http://127.0.0.1:8090/base", ("127.0.0.1", 8090)),
    ("ftp://district.example.org", None),
    ("district.example.org", None),
    ("http://host:port", None),
])
def test_the_address_a_sync_connects_to(url, expected):
    assert address_of(url) == expected


def test_the_connectivity_check_opens_a_connection_and_sends_nothing(district_server):
    assert reachable(district_server, timeout=2) is None
    port = free_port()
    refused = reachable(f"http://127.0.0.1:{port}", timeout=2)
    assert refused == f"nothing is listening at 127.0.0.1:{port} (connection refused)"
    assert "not a usable address" in (reachable("nonsense", timeout=1) or "")
