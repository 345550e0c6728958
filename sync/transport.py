"""How a hub's sync reaches the district: over HTTP with one kept-alive ``requests`` session, or
straight into a district app in the same process (tests, benchmarks, the three-server demo)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sync.client import Response


class HttpTransport:
    """HTTP(S) to ``base_url`` (e.g. ``https://district.example.org``), connections kept alive."""

    def __init__(self, base_url: str, session: Any = None, *, connect_timeout: float = 10.0,
                 read_timeout: float | None = None) -> None:
        import requests

        self.base_url = base_url.rstrip("/")
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout  # caps the caller's timeout (tests use a short one)
        self.session = session or requests.Session()
        self._errors: tuple[type[BaseException], ...] = (requests.RequestException,)

    def post(self, path: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Response:
        try:
            read = min(timeout, self.read_timeout) if self.read_timeout else timeout
            answer = self.session.post(self.base_url + path, data=body, timeout=(self.connect_timeout, read),
                                       headers={"Content-Type": "application/octet-stream", **headers})
            return Response(answer.status_code, dict(answer.headers), answer.content)
        except self._errors as exc:
            raise OSError(str(exc)) from exc

    def close(self) -> None:
        self.session.close()


class AppTransport:
    """Into a district Flask app in this process, through its test client: no sockets."""

    def __init__(self, app: Any) -> None:
        self.client = app.test_client()

    def post(self, path: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Response:
        answer = self.client.post(path, data=body, headers={"Content-Type": "application/octet-stream", **headers})
        return Response(answer.status_code, dict(answer.headers), answer.get_data())
