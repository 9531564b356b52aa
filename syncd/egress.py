"""Where connectors may send requests: never to a private address unless a config opts in.

An admin configures connector base URLs, and syncd fetches them with its credentials: a URL
naming the cloud metadata service, a host on the office network or the machine itself would
turn syncd into a proxy (SSRF). Two checks, both here:

- `check_base_url`, in each connector's config validation: https, no credentials in the URL,
  and no address literal that is private (every spelling a resolver accepts: dotted,
  decimal `2130706433`, octal `0177.0.0.1`, hex `0x7f000001`, short `127.1`, IPv6, IPv4
  mapped into IPv6) or a `localhost` name.
- `GuardedTransport`, under each connector's HTTP client: every new connection (redirects
  too, and each retry) resolves its host, refuses it if any address is private, and
  connects to the address it checked (pinned, so DNS cannot answer differently a moment
  later), before any socket is opened.

`allow_private_addresses = true` in a connector's table lifts both, with plain http: the
sandbox's config writer sets it, since its emulators listen on loopback.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx
from httpcore import SOCKET_OPTION as SocketOption

from syncd.errors import PermanentError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port -> the addresses a connection to them would try, in order.
Resolver = Callable[[str, int], Sequence[str]]

LOOPBACK_NAMES = ("localhost", "localhost.", "ip6-localhost", "ip6-loopback")
OPT_IN = "allow_private_addresses"


class EgressRefused(PermanentError):
    """A request to a private address was refused before any socket was opened."""


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the operating system resolves `host` to."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def literal_address(host: str) -> IPAddress | None:
    """`host` as an IP address if it is one in any spelling a resolver accepts, else None."""
    bare = host.strip("[]").split("%", 1)[0]  # an IPv6 zone id is not part of the address
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        pass
    try:
        # inet_aton takes the legacy IPv4 forms getaddrinfo also takes: 2130706433,
        # 0177.0.0.1, 0x7f.1, 127.1. A DNS name never parses as one.
        return ipaddress.IPv4Address(socket.inet_aton(bare))
    except (OSError, ValueError):
        return None


def is_private(address: IPAddress) -> bool:
    """True for anything but a public unicast address (loopback, RFC 1918, link-local with
    the metadata service, ULA, CGNAT, multicast, unspecified, reserved)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return is_private(embedded)
    return address.is_multicast or not address.is_global


def _private_name(host: str) -> bool:
    name = host.lower().rstrip(".")
    return name in LOOPBACK_NAMES or name.endswith(".localhost")


def check_base_url(url: str, *, allow_private: bool, setting: str = "base_url") -> str:
    """`url` unchanged if syncd may call it; ValueError naming the setting and why not."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        raise ValueError(f"{setting} must be an http(s) URL with a host, got {url!r}")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{setting} must not carry credentials; use the connector's settings")
    if allow_private:
        return url
    if parts.scheme != "https":
        raise ValueError(f"{setting} must use https (plain http only with {OPT_IN} = true)")
    address = literal_address(host)
    if _private_name(host) or (address is not None and is_private(address)):
        raise ValueError(
            f"{setting} names a private address ({host}); syncd only calls public hosts "
            f"unless {OPT_IN} = true (the sandbox, a lab)"
        )
    return url


class GuardedBackend(httpcore.NetworkBackend):
    """Opens a TCP connection only to a public address, the one it checked (pinned)."""

    def __init__(
        self,
        connector: str,
        *,
        resolver: Resolver = system_resolver,
        inner: httpcore.NetworkBackend | None = None,
    ) -> None:
        self._connector = connector
        self._resolve = resolver
        self._inner = inner or httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        """Resolve `host`, refuse it if any address is private, connect to the first."""
        address = self._public_address(host, port)
        # TLS still verifies the certificate for `host`: httpcore passes the name itself.
        return self._inner.connect_tcp(str(address), port, timeout, local_address, socket_options)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        """Never: a Unix socket is the machine itself."""
        del timeout, socket_options
        raise self._refused(path, "a Unix socket")

    def sleep(self, seconds: float) -> None:
        """As the backend underneath."""
        self._inner.sleep(seconds)

    def _public_address(self, host: str, port: int) -> IPAddress:
        if _private_name(host):
            raise self._refused(host, host)
        literal = literal_address(host)
        if literal is not None:
            candidates: list[IPAddress] = [literal]
        else:
            try:
                found = self._resolve(host, port)
            except OSError as exc:
                raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
            candidates = [ipaddress.ip_address(a.split("%", 1)[0]) for a in found]
        if not candidates:
            raise httpcore.ConnectError(f"cannot resolve {host}: no address")
        for candidate in candidates:
            if is_private(candidate):
                raise self._refused(host, str(candidate))
        return candidates[0]

    def _refused(self, host: str, address: str) -> EgressRefused:
        return EgressRefused(
            self._connector,
            f"refused to connect to {host} ({address}): a private address; set "
            f"{OPT_IN} = true in [connectors.{self._connector}] only for a sandbox or lab",
        )


class GuardedTransport(httpx.HTTPTransport):
    """httpx's own transport, its connections opened through a `GuardedBackend`."""

    def __init__(
        self,
        connector: str,
        *,
        resolver: Resolver = system_resolver,
        network: httpcore.NetworkBackend | None = None,
        **options: Any,
    ) -> None:
        ssl_context = httpx.create_ssl_context()  # one context for both pools (~ms each)
        super().__init__(verify=ssl_context, **options)
        # httpx builds its pool without a way to pass a network backend; the pool it builds
        # for no proxy is exactly this one with the default backend.
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=5.0,
            network_backend=GuardedBackend(connector, resolver=resolver, inner=network),
        )
