"""Seeded draws: small, fast helpers over one `random.Random`.

Everything the generator decides goes through one `Draw`, so a seed fixes the whole
production. The helpers build on `random()` alone (not `choice`/`randint`) because it is
the fastest draw and its sequence is the one CPython promises to keep stable.
"""

from __future__ import annotations

import random
import uuid
from bisect import bisect_right
from collections.abc import Iterable, MutableSequence, Sequence
from itertools import accumulate
from typing import Generic, TypeVar

T = TypeVar("T")


class Draw:
    """The generator's only source of randomness."""

    __slots__ = ("_rng", "random")

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self.random = self._rng.random

    def chance(self, probability: float) -> bool:
        """True with the given probability."""
        return self.random() < probability

    def pick(self, items: Sequence[T]) -> T:
        """One item, uniformly."""
        return items[int(self.random() * len(items))]

    def between(self, low: int, high: int) -> int:
        """An integer in [low, high], uniformly."""
        return low + int(self.random() * (high - low + 1))

    def uniform(self, low: float, high: float) -> float:
        """A float in [low, high)."""
        return low + (high - low) * self.random()

    def sample(self, population: Sequence[T], k: int) -> list[T]:
        """k distinct items, in draw order."""
        return self._rng.sample(population, k)

    def shuffle(self, items: MutableSequence[T]) -> None:
        """Shuffle in place."""
        self._rng.shuffle(items)

    def hex(self, digits: int) -> str:
        """Lower-case hex digits, e.g. a 24-digit Jira Cloud accountId."""
        return f"{self._rng.getrandbits(4 * digits):0{digits}x}"

    def uuid4(self) -> str:
        """A version-4 UUID string drawn from the seed (not from the OS)."""
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def token(self, length: int, alphabet: str) -> str:
        """A string of `length` characters from `alphabet`."""
        return "".join(self.pick(alphabet) for _ in range(length))


class Weighted(Generic[T]):
    """A fixed weighted choice, drawn by bisecting the cumulative weights."""

    __slots__ = ("_cumulative", "_items", "_total")

    def __init__(self, pairs: Iterable[tuple[T, float]]) -> None:
        items, weights = zip(*pairs, strict=True)
        self._items: tuple[T, ...] = items
        self._cumulative = tuple(accumulate(weights))
        self._total = self._cumulative[-1]

    def draw(self, draw: Draw) -> T:
        """One item, with probability proportional to its weight."""
        return self._items[bisect_right(self._cumulative, draw.random() * self._total)]


def band(bands: Sequence[tuple[int, T]], value: int) -> T:
    """The item of the first `(limit, item)` band with `value < limit` (else the last one)."""
    for limit, item in bands:
        if value < limit:
            return item
    return bands[-1][1]
