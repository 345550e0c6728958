"""How a hub's sync reaches the district: over HTTP with one kept-alive ``requests`` session, or
straight into a district app in the same process (tests, benchmarks, the three-server demo)."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlparse

from sync.client import Response


class HttpTransport:
    """HTTP(S) to ``base_url`` (e.g. ``https://district.example.org``), connections kept alive.

    ``max_kbit`` (kbit/s, 0 for none) paces what the hub sends, so that a sync over a thin school
    link leaves room for everyone else on it; answers from the district are small."""

    def __init__(self, base_url: str, session: Any = None, *, max_kbit: int = 0, connect_timeout: float = 10.0,
                 read_timeout: float | None = None, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        import requests

        self.base_url = base_url.rstrip("/")
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout  # caps the caller's timeout (tests use a short one)
        self.session = session or requests.Session()
        self.max_kbit = max_kbit
        self._sleep = sleep
        self._clock = clock
        self._errors: tuple[type[BaseException], ...] = (requests.RequestException,)

    def post(self, path: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Response:
        data: Any = body
        if self.max_kbit and body:
            data = PacedBody(body, self.max_kbit * 1000 // 8, sleep=self._sleep, clock=self._clock)
        try:
            read = min(timeout, self.read_timeout) if self.read_timeout else timeout
            answer = self.session.post(self.base_url + path, data=data, timeout=(self.connect_timeout, read),
                                       headers={"Content-Type": "application/octet-stream", **headers})
            return Response(answer.status_code, dict(answer.headers), answer.content)
        except self._errors as exc:
            raise OSError(plain_network_error(exc, self.base_url)) from exc

    def close(self) -> None:
        self.session.close()


class PacedBody:
    """A request body handed to the connection a piece at a time, no faster than ``rate`` bytes a
    second on average. It has a length, so the request still says its Content-Length (no chunked
    encoding), and it can be sent again (a retry) from the start."""

    def __init__(self, data: bytes, rate: int, *, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if rate < 1:
            raise ValueError("a paced body needs a rate of at least one byte a second")
        self.data = data
        self.rate = rate
        self.piece = max(256, min(16 * 1024, rate // 4))  # about four pieces a second
        self._sleep = sleep
        self._clock = clock

    def __len__(self) -> int:
        return len(self.data)

    def __iter__(self) -> Iterator[bytes]:
        started = self._clock()
        view = memoryview(self.data)
        for at in range(0, len(view), self.piece):
            wait = started + at / self.rate - self._clock()
            if wait > 0:
                self._sleep(wait)
            yield bytes(view[at:at + self.piece])


def plain_network_error(exc: BaseException, base_url: str) -> str:
    """What went wrong on the way to the district, in words an IT person can act on."""
    import requests

    where = address_of(base_url)
    shown = f"{where[0]}:{where[1]}" if where else base_url
    causes = _causes(exc)
    text = " ".join(str(c) for c in causes)
    if any(isinstance(c, socket.gaierror) for c in causes) or "Name or service not known" in text \
            or "nodename nor servname" in text or "Temporary failure in name resolution" in text:
        return f"the name {where[0] if where else base_url} cannot be found (a typo, or no DNS on this network)"
    if any(isinstance(c, ConnectionRefusedError) for c in causes) or "Connection refused" in text:
        return f"nothing is listening at {shown} (connection refused)"
    if isinstance(exc, requests.exceptions.SSLError):
        return f"the secure connection to {shown} failed (its certificate is not trusted, or the clock is wrong)"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return f"{shown} did not answer in time (no route to it, or a firewall)"
    if isinstance(exc, requests.exceptions.Timeout):
        return f"{shown} took too long to answer"
    if any(isinstance(c, OSError) and c.errno in (101, 113) for c in causes):
        return f"there is no route to {shown} (is this hub's network connected?)"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return f"the connection to {shown} failed or was cut"
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return f"{base_url} is not a usable address"
    return f"the request to {shown} failed ({exc.__class__.__name__})"


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception and every exception behind it (requests wraps urllib3's, which wrap the socket's)."""
    found: list[BaseException] = []
    todo: list[Any] = [exc]
    while todo and len(found) < 20:
        current = todo.pop()
        if not isinstance(current, BaseException) or any(current is f for f in found):
            continue
        found.append(current)
        todo += [current.__cause__, current.__context__, getattr(current, "reason", None), *current.args]
    return found


def address_of(base_url: str) -> tuple[str, int] | None:
    """The host and port an ``http(s)://`` address connects to, or None if it names none."""
    try:
        parsed = urlparse(base_url)
        port = parsed.port
    except ValueError:
        return None
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return None
    return parsed.hostname, port or (443 if parsed.scheme == "https" else 80)


def reachable(base_url: str, timeout: float = 3.0) -> str | None:
    """A cheap check before a sync: None if a TCP connection to the district opens within
    ``timeout`` seconds, else why not (in plain words). Sends nothing."""
    where = address_of(base_url)
    if where is None:
        return f"{base_url} is not a usable address"
    try:
        with socket.create_connection(where, timeout=timeout):
            return None
    except socket.gaierror:
        return f"the name {where[0]} cannot be found (a typo, or no DNS on this network)"
    except ConnectionRefusedError:
        return f"nothing is listening at {where[0]}:{where[1]} (connection refused)"
    except TimeoutError:
        return f"{where[0]}:{where[1]} did not answer within {timeout:g} s"
    except OSError as exc:
        return f"{where[0]}:{where[1]} cannot be reached ({exc.strerror or exc})"


class AppTransport:
    """Into a district Flask app in this process, through its test client: no sockets."""

    def __init__(self, app: Any) -> None:
        self.client = app.test_client()

    def post(self, path: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Response:
        answer = self.client.post(path, data=body, headers={"Content-Type": "application/octet-stream", **headers})
        return Response(answer.status_code, dict(answer.headers), answer.get_data())
