"""Waking every worker at once: new work may be for any lane."""

from __future__ import annotations

import threading


class WakeAll:
    """Like a `threading.Event` that every subscriber sees: `set()` wakes each worker's own
    event, so one worker clearing its event never hides the news from another."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[threading.Event] = []
        self._set = threading.Event()  # for `is_set`: whether anything was ever signalled

    def subscribe(self) -> threading.Event:
        """A new event that every `set()` from now on sets."""
        event = threading.Event()
        with self._lock:
            self._events.append(event)
        return event

    def set(self) -> None:
        """Wake every subscriber."""
        self._set.set()
        with self._lock:
            events = list(self._events)
        for event in events:
            event.set()

    def is_set(self) -> bool:
        """Whether `set()` was ever called."""
        return self._set.is_set()
