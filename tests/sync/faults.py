"""A transport that injects the faults of a bad link between a hub and its district.

Each request takes the next fault of a schedule (a list of names), so a schedule drawn by
Hypothesis replays exactly. The faults are the ones research on school links lists: a request
lost, **an answer lost after the district committed**, a request arriving twice, an old request
arriving late (reordered), a body cut short or with a bit flipped (either way), a 5xx answer
before or after the district acted, a timeout.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sync.client import Response, Transport

FAULTS = (
    "ok",
    "drop_request",
    "drop_response",
    "duplicate",
    "replay_old",
    "truncate_request",
    "flip_request",
    "truncate_response",
    "flip_response",
    "error_before",
    "error_after",
    "timeout_after",
)


@dataclass
class FaultyTransport:
    inner: Transport
    schedule: Sequence[str]
    seed: int = 0
    at: int = 0
    seen: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)

    def _next(self) -> str:
        fault = self.schedule[self.at] if self.at < len(self.schedule) else "ok"
        self.at += 1
        self.applied.append(fault)
        return fault

    def _cut(self, data: bytes) -> bytes:
        return data[: self.random.randrange(len(data))] if data else data

    def _flip(self, data: bytes) -> bytes:
        if not data:
            return data
        at = self.random.randrange(len(data))
        return data[:at] + bytes([data[at] ^ (1 << self.random.randrange(8))]) + data[at + 1:]

    def post(self, path: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Response:
        fault = self._next()
        headers = dict(headers)
        if fault == "drop_request":
            raise ConnectionResetError("the request was lost")
        if fault == "error_before":
            return Response(503, {}, b"Service Unavailable")
        if fault == "replay_old" and self.seen:
            old_path, old_body, old_headers = self.random.choice(self.seen)
            self.inner.post(old_path, old_body, old_headers, timeout)  # an old request arrives late
        if fault == "truncate_request":
            body = self._cut(body)
        elif fault == "flip_request":
            body = self._flip(body)
        self.seen.append((path, body, headers))
        answer = self.inner.post(path, body, headers, timeout)
        if fault == "duplicate":
            self.inner.post(path, body, headers, timeout)  # the same request arrives twice
        if fault == "drop_response":
            raise ConnectionResetError("the answer was lost after the district acted")
        if fault == "timeout_after":
            raise TimeoutError("no answer in time (the district acted)")
        if fault == "error_after":
            return Response(502, {}, b"Bad Gateway")
        if fault == "truncate_response":
            return Response(answer.status, answer.headers, self._cut(answer.body))
        if fault == "flip_response":
            return Response(answer.status, answer.headers, self._flip(answer.body))
        return answer
