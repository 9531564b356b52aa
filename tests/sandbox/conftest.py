"""Fixtures the Sheets emulator's tests share: a service-account key, and a loopback guard."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    """A service account's private key (one per test module: generating one takes time)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Fail the test if anything (google-auth's background lookups too) resolves a real host:
    every Sheets and Drive call must stay on 127.0.0.1."""
    attempts: list[str] = []
    real = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in ("127.0.0.1", "localhost", "::1"):
            attempts.append(str(host))
            raise socket.gaierror(f"test tried to reach {host}")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    yield attempts
    assert attempts == []
