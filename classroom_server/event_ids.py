"""Event ids that are unique everywhere and cheap to send: a random prefix and a counter. Pure.

An event id is a UUID (RFC 9562). A random one (version 4) costs 16 bytes on every sync, since
random bytes do not compress, and on a 50 kbit/s link that was more than half of what an answer
costs. So the hub and its learners' devices make version 8 UUIDs instead, whose 128 bits are:

    high 64 bits   a random prefix, drawn once per process (or per device), version nibble 8
    low 64 bits    the variant bits (10), then a counter times 65,536 plus 16 random bits

Ids from one source then differ from the one before by about 65,536, and the sync protocol
sends that difference instead of the id (sync/protocol.py, ``encode_batch``): about 2 bytes
where a random id takes 16. They are still unique: two sources share a prefix with odds of 1 in
2**60, and one source never repeats its counter. The 16 random bits make a source that lost
its counter (two browser tabs taking the same number at the same instant) still unlikely to
collide, and the hub refuses a second event with the same id anyway (it is taken as a resend).

The learner's browser makes the same ids (static/practice.js, ``uuid``) with its prefix and
counter kept on the device, so answers given offline are as cheap to send as any other.
Nothing reads meaning into an id: old version 4 ids stay valid everywhere.
"""

from __future__ import annotations

import os
import secrets
import threading
import uuid

_VERSION_BITS = 0x8 << 12        # in the high half: bits 12 to 15 hold the version, 8
_VERSION_MASK = ~(0xF << 12) & (2**64 - 1)
_VARIANT_BITS = 0b10 << 62       # in the low half: the RFC 4122/9562 variant
COUNTER_STEP = 1 << 16           # each id's low half is counter * COUNTER_STEP + 16 random bits
_COUNTER_LIMIT = 1 << 46         # 62 bits less the 16 random ones


def _prefix() -> int:
    return (secrets.randbits(64) & _VERSION_MASK) | _VERSION_BITS


class IdSource:
    """Makes event ids from one random prefix and a counter; safe to share between threads."""

    def __init__(self, prefix: int | None = None, counter: int = 0) -> None:
        self._lock = threading.Lock()
        self._prefix = _prefix() if prefix is None else prefix
        self._counter = counter

    def new(self) -> str:
        with self._lock:
            if self._counter >= _COUNTER_LIMIT:  # never in practice (70 trillion ids); still, no wrap
                self._prefix, self._counter = _prefix(), 0
            count = self._counter
            self._counter += 1
            prefix = self._prefix
        low = _VARIANT_BITS | (count * COUNTER_STEP) | secrets.randbits(16)
        return str(uuid.UUID(int=(prefix << 64) | low))


_SOURCE = IdSource()


def _new_source_after_fork() -> None:
    """A forked child must not go on with its parent's prefix and counter."""
    global _SOURCE
    _SOURCE = IdSource()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_source_after_fork)


def new() -> str:
    """A new event id (text, as ``str(uuid.UUID)`` writes it)."""
    return _SOURCE.new()
