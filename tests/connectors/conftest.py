"""Sandbox harnesses shared by the connector tests (each test gets a fresh one)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.contract.harness_sheets import SheetsHarness
from tests.contract.harness_shotgrid import ShotGridHarness

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # one per session


@pytest.fixture
def sg() -> Iterator[ShotGridHarness]:
    harness = ShotGridHarness()
    harness.start()
    yield harness
    harness.stop()


@pytest.fixture
def sheets() -> Iterator[SheetsHarness]:
    harness = SheetsHarness(private_key=RSA_KEY)
    harness.start()
    yield harness
    harness.stop()


@pytest.fixture
def messy() -> Iterator[SheetsHarness]:
    """The production's Invoices tab as generated: with its duplicated row."""
    harness = SheetsHarness(clean=False, private_key=RSA_KEY)
    harness.start()
    yield harness
    harness.stop()
