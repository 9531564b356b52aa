"""Read-ahead: order kept, errors raised where they happened, early stop stops the reader."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from syncd.engine.prefetch import Prefetch


def test_items_come_in_order_and_overlap_with_the_consumer() -> None:
    def slow() -> Iterator[int]:
        for n in range(5):
            time.sleep(0.05)
            yield n

    started = time.perf_counter()
    seen = []
    for n in Prefetch(slow()):
        time.sleep(0.05)  # "storing" while the next page is read
        seen.append(n)
    assert seen == [0, 1, 2, 3, 4]
    assert time.perf_counter() - started < 0.45  # sequential would take 0.5 s


def test_an_error_is_raised_where_the_item_would_be() -> None:
    def failing() -> Iterator[int]:
        yield 1
        raise RuntimeError("page 2 failed")

    items = Prefetch(failing())
    iterator = iter(items)
    assert next(iterator) == 1
    with pytest.raises(RuntimeError, match="page 2 failed"):
        next(iterator)


def test_stopping_early_stops_the_reader() -> None:
    produced = []
    stopped = threading.Event()

    def endless() -> Iterator[int]:
        try:
            n = 0
            while True:
                produced.append(n)
                yield n
                n += 1
        finally:
            stopped.set()

    for n in Prefetch(endless(), ahead=1):
        if n == 2:
            break
    time.sleep(0.3)
    assert len(produced) <= 5  # read ahead by at most a page or two, then stopped


def test_each_item_is_announced_as_soon_as_it_is_read() -> None:
    announced: list[int] = []
    seen: list[tuple[int, list[int]]] = []
    for n in Prefetch(iter(range(4)), on_read=announced.append):
        time.sleep(0.02)  # the reader gets one item ahead meanwhile
        seen.append((n, list(announced)))
    assert announced == [0, 1, 2, 3]
    assert all(n in seen_then for n, seen_then in seen)
    assert seen[0][1][:2] == [0, 1]  # the next item was read (and announced) before it was used
