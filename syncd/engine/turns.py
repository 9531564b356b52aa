"""Turns at the store for the pages of the tools' readers: one at a time, smallest first."""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager


class StoreTurns:
    """Lets one page at a time be stored; of the pages read and waiting, the smallest next.

    A sync reads the tools at the same time, one reader each, and stores their pages one
    at a time. While one page is stored the other readers wait (they read at most a page
    ahead), so which page goes next decides who is held up. Smallest first keeps the
    reader with the most round trips going: a tool that returns few records per call has
    the most calls to make, and its reads set how long the sync takes. A page takes its
    place in line when it has been read, not when its thread comes back for it: a thread
    still finishing its last page would otherwise lose every turn to pages that waited.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._lines: set[PageLine] = set()
        self._arrivals = itertools.count()
        self._busy = False

    def line(self) -> PageLine:
        """A line for one reader's pages (close it when done with them)."""
        line = PageLine(self)
        with self._changed:
            self._lines.add(line)
        return line

    def _next_line(self) -> PageLine | None:
        heads = [(line.pages[0], line) for line in self._lines if line.pages]
        return min(heads, key=lambda head: head[0])[1] if heads else None


class PageLine:
    """One reader's pages, in the order read: each waits for its turn at the store."""

    def __init__(self, turns: StoreTurns) -> None:
        self._turns = turns
        self.pages: deque[tuple[int, int]] = deque()  # (records, arrival)

    def arrived(self, records: int) -> None:
        """A page of `records` has been read (call it from the reader, in page order)."""
        turns = self._turns
        with turns._changed:
            if self in turns._lines:
                self.pages.append((records, next(turns._arrivals)))
                turns._changed.notify_all()

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Wait until this line's first page is next; hold the store for the block."""
        turns = self._turns
        with turns._changed:
            if not self.pages:
                raise RuntimeError("a page asked for its turn before it arrived")
            while turns._busy or turns._next_line() is not self:
                turns._changed.wait()
            self.pages.popleft()
            turns._busy = True
        try:
            yield
        finally:
            with turns._changed:
                turns._busy = False
                turns._changed.notify_all()

    def close(self) -> None:
        """Leave the line: pages read but never stored no longer hold the others up."""
        turns = self._turns
        with turns._changed:
            turns._lines.discard(self)
            self.pages.clear()
            turns._changed.notify_all()
