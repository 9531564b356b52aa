"""Requests over a bare socket, to see when a server answers while a large body is still
being sent (an HTTP client library sends the whole body before it reads anything)."""

from __future__ import annotations

import select
import socket
from dataclasses import dataclass

CHUNK = 1 << 20


@dataclass(frozen=True)
class Sent:
    """What happened to one large request."""

    status: int | None  # None: the connection was reset before an answer could be read
    body_bytes_sent: int
    headers: dict[str, str]


def _answer(sock: socket.socket) -> tuple[int | None, dict[str, str]]:
    sock.settimeout(60)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            more = sock.recv(65536)
            if not more:
                break
            data += more
    except (ConnectionResetError, TimeoutError):
        return None, {}
    if not data:
        return None, {}
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(head[0].split()[1]), headers


def post_large(
    port: int,
    path: str,
    size: int,
    *,
    token: str | None = None,
    chunked: bool = False,
    first_wait: float = 2.0,
) -> Sent:
    """POST a valid JSON body of about `size` bytes, stopping as soon as an answer arrives."""
    body_prefix, body_suffix = b'{"note": "', b'"}'
    filler = size - len(body_prefix) - len(body_suffix)
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    if token is not None:
        lines.append(f"Authorization: Bearer {token}")
    lines.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}")
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        # A server that refuses on the headers answers now; one that reads the body does not.
        answered = bool(select.select([sock], [], [], first_wait)[0])
        sent = 0
        parts = [body_prefix, *([b"x" * CHUNK] * (filler // CHUNK)), b"x" * (filler % CHUNK)]
        parts = [part for part in [*parts, body_suffix] if part]  # an empty chunk ends a body
        try:
            for part in parts:
                if answered or select.select([sock], [], [], 0)[0]:
                    answered = True
                    break
                sock.sendall(b"%x\r\n%s\r\n" % (len(part), part) if chunked else part)
                sent += len(part)
            if chunked and not answered:
                sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        status, headers = _answer(sock)
        return Sent(status, sent, headers)
