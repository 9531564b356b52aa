"""Admin API fixtures: a seeded service per test, and every response kept for a secret check."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.admin_kit import Kit, Seen, build_kit


@pytest.fixture(scope="session")
def seen() -> Iterator[Seen]:
    """Every admin API response of the session; none may contain a configured secret."""
    record = Seen()
    yield record
    leaks = record.leaks()
    assert not leaks, f"configured secrets in responses: {leaks}"


@pytest.fixture
def kit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seen: Seen) -> Iterator[Kit]:
    """A seeded service with admin token `mia` and viewer token `dash`, and a client."""
    monkeypatch.chdir(tmp_path)
    with build_kit(tmp_path, seen) as built:
        yield built
