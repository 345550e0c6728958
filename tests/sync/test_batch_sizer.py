"""The batch size follows the link: requests of about TARGET_SECONDS, never a halving for a
request that was only a little slow."""

from __future__ import annotations

from sync.protocol import MAX_BATCH_BYTES, MIN_BATCH_BYTES, TARGET_SECONDS, BatchSizer

KB = 1024


def test_quick_requests_grow_the_batch_step_by_step_up_to_the_largest():
    sizer = BatchSizer(size=32 * KB)
    sizer.succeeded(32 * KB, 0.05)
    assert sizer.size == 48 * KB
    for _ in range(50):
        sizer.succeeded(sizer.size, 0.05)
    assert sizer.size == MAX_BATCH_BYTES


def test_on_a_slow_link_the_batch_settles_at_what_the_target_time_carries():
    sizer = BatchSizer(size=32 * KB)
    link = 5.5 * KB  # bytes per second, as 50 kbit/s delivers after losses and headers
    for _ in range(20):
        sizer.succeeded(sizer.size, sizer.size / link + 0.5)
    assert 0.8 * link * TARGET_SECONDS <= sizer.size <= link * TARGET_SECONDS


def test_a_request_a_little_slow_takes_a_little_off_and_a_failed_one_halves():
    sizer = BatchSizer(size=48 * KB)
    sizer.succeeded(48 * KB, TARGET_SECONDS * 1.1)
    assert 38 * KB <= sizer.size < 48 * KB
    sizer = BatchSizer(size=48 * KB)
    sizer.succeeded(48 * KB, TARGET_SECONDS * 3)
    assert sizer.size < 16 * KB
    sizer = BatchSizer(size=48 * KB)
    sizer.failed()
    assert sizer.size == 24 * KB
    for _ in range(10):
        sizer.failed()
    assert sizer.size == MIN_BATCH_BYTES
