"""Event ids: unique, valid UUIDs (version 8), one prefix per source, steps of about 65,536."""

from __future__ import annotations

import os
import threading
import uuid

import pytest

from classroom_server import event_ids


def test_ids_are_version_8_uuids_with_one_prefix_and_growing_counters():
    source = event_ids.IdSource()
    ids = [uuid.UUID(source.new()) for _ in range(1000)]
    assert all(i.version == 8 and i.variant == uuid.RFC_4122 for i in ids)
    assert len({i.int >> 64 for i in ids}) == 1
    lows = [i.int & (2**64 - 1) for i in ids]
    steps = [b - a for a, b in zip(lows, lows[1:], strict=False)]
    assert all(0 < step < 2 * event_ids.COUNTER_STEP for step in steps)
    assert len(set(ids)) == len(ids)


def test_two_sources_have_different_prefixes():
    assert uuid.UUID(event_ids.IdSource().new()).int >> 64 != uuid.UUID(event_ids.IdSource().new()).int >> 64


def test_threads_sharing_a_source_never_get_the_same_id():
    source = event_ids.IdSource()
    made: list[list[str]] = [[] for _ in range(8)]

    def work(n: int) -> None:
        made[n].extend(source.new() for _ in range(2000))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [i for ids in made for i in ids]
    assert len(set(every)) == len(every) == 16000


def test_a_source_that_ran_out_of_counter_takes_a_new_prefix():
    source = event_ids.IdSource(counter=(1 << 46) - 1)
    first, second = uuid.UUID(source.new()), uuid.UUID(source.new())
    assert first.int >> 64 != second.int >> 64
    assert second.int & (2**64 - 1) < event_ids.COUNTER_STEP + (1 << 63)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this system")
def test_a_forked_child_takes_a_prefix_of_its_own():
    parent = uuid.UUID(event_ids.new()).int >> 64
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: send its prefix and leave at once
        os.write(write, str(uuid.UUID(event_ids.new()).int >> 64).encode())
        os._exit(0)
    os.close(write)
    child = int(os.read(read, 100).decode())
    os.close(read)
    os.waitpid(pid, 0)
    assert child != parent
