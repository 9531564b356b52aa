"""Read ahead: fetch the next page from a tool while the current one is being stored."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

_DONE = object()


class Prefetch(Generic[T]):
    """Iterate `source` in a background thread, at most `ahead` items in advance.

    Network time then overlaps storing time. Exceptions from the source are raised where
    the item would have been. A consumer that stops early stops the reader too.
    `on_read` is called in the reader with each item as soon as it is read.
    """

    def __init__(
        self,
        source: Iterator[T],
        *,
        ahead: int = 1,
        name: str = "prefetch",
        on_read: Callable[[T], None] | None = None,
    ) -> None:
        self._on_read = on_read
        self._queue: queue.Queue[object] = queue.Queue(maxsize=ahead)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(source,), name=name, daemon=True)
        self._thread.start()

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _read(self, source: Iterator[T]) -> None:
        try:
            for item in source:
                if self._on_read is not None:
                    self._on_read(item)
                if not self._put(item):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(exc)
            return
        self._put(_DONE)

    def __iter__(self) -> Iterator[T]:
        try:
            while True:
                item = self._queue.get()
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item  # type: ignore[misc]
        finally:
            self._stop.set()
