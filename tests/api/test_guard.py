"""The guard middlewares, driven over ASGI directly: what the app reads of a request body.

A refused request must be answered without a single `receive()` of its body; a body over
the limit must be cut off once it passes the limit, whatever its chunks look like.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message

from syncd.api.auth import TokenTable
from syncd.api.body_limit import BodyLimitMiddleware
from syncd.api.rate_limit import RateLimitMiddleware, default_rules
from syncd.settings import ApiSettings
from tests.api.admin_kit import ADMIN_TOKEN, VIEWER_TOKEN, Kit


@dataclass
class Exchange:
    """One request over ASGI: the body's chunks offered, how many were read, the answer."""

    chunks: Sequence[bytes]
    read: int = 0
    sent: list[Message] = field(default_factory=list)

    @property
    def status(self) -> int:
        return int(self.sent[0]["status"])

    @property
    def headers(self) -> dict[str, str]:
        return {k.decode(): v.decode() for k, v in self.sent[0]["headers"]}

    @property
    def json(self) -> object:
        return json.loads(b"".join(m.get("body", b"") for m in self.sent[1:]))


def call(
    app: ASGIApp,
    method: str,
    path: str,
    chunks: Sequence[bytes],
    headers: dict[str, str] | None = None,
    *,
    declare: bool = True,
    client: str = "10.0.0.7",
) -> Exchange:
    """Send one request to `app`; `declare`: with a Content-Length, else chunked."""
    exchange = Exchange(chunks)
    size = sum(len(c) for c in chunks)
    all_headers = {**(headers or {}), "content-type": "application/json"}
    if declare:
        all_headers["content-length"] = str(size)
    else:
        all_headers["transfer-encoding"] = "chunked"
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in all_headers.items()],
        "client": (client, 5000),
        "server": ("testserver", 80),
    }

    async def receive() -> Message:
        if exchange.read < len(chunks):
            exchange.read += 1
            more = exchange.read < len(chunks)
            return {"type": "http.request", "body": chunks[exchange.read - 1], "more_body": more}
        await asyncio.sleep(3600)  # a client that sends nothing more
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        exchange.sent.append(message)

    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    return exchange


BIG = [b'{"note": "' + b"x" * 65536] * 64 + [b'"}']  # 4 MiB of valid JSON in 64 KiB chunks


def test_admin_requests_without_a_known_token_are_refused_before_the_body_is_read(
    kit: Kit,
) -> None:
    app = kit.client.app
    for headers in ({}, {"Authorization": "Bearer not-a-configured-token-0000"}):
        for path in ("/admin/v1/mappings/apply", "/admin/v1/conflicts/1/resolve"):
            answer = call(app, "POST", path, BIG, headers)
            assert (answer.status, answer.read) == (401, 0)
            assert answer.headers["www-authenticate"].startswith('Bearer realm="syncd"')
            assert answer.headers["connection"] == "close"  # the body is left unread
    # Known tokens pass the guard; the route still checks the role (a viewer cannot apply).
    small = [b'{"files": {}}']
    viewer = call(app, "POST", "/admin/v1/mappings/apply", small, _bearer(VIEWER_TOKEN))
    assert viewer.status == 403 and viewer.read == 1
    assert call(app, "GET", "/admin/v1/status", [b""], _bearer(VIEWER_TOKEN)).status == 200


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_bodies_over_the_limit_are_refused_on_every_route(kit: Kit) -> None:
    app = kit.client.app
    limit = kit.service.settings.api.max_body_bytes
    auth = _bearer(ADMIN_TOKEN)
    for method, path in (
        ("POST", "/admin/v1/mappings/apply"),
        ("POST", "/admin/v1/mappings/preview"),
        ("POST", "/webhooks/a"),
        ("GET", "/healthz"),
        ("POST", "/no/such/route"),
    ):
        declared = call(app, method, path, BIG, auth)
        assert (declared.status, declared.read) == (413, 0), path
        assert str(limit) in str(declared.json)
        chunked = call(app, method, path, BIG, auth, declare=False)
        if chunked.read == 0:
            continue  # a route that never reads a body (GET /healthz, a 404) is not cut off
        assert chunked.status == 413, path
        assert (chunked.read - 1) * 65536 <= limit < chunked.read * 65536 + 10


def _echo_app() -> Starlette:
    async def echo(request: Request) -> JSONResponse:
        return JSONResponse({"size": len(await request.body())})

    return Starlette(routes=[Route("/echo", echo, methods=["POST"])])


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 3000), max_size=12),
    limit=st.integers(1, 12000),
    declare=st.booleans(),
)
def test_the_body_limit_reads_no_chunk_past_the_limit(
    sizes: list[int], limit: int, declare: bool
) -> None:
    chunks = [b"y" * size for size in sizes] or [b""]
    total = sum(sizes)
    answer = call(
        BodyLimitMiddleware(_echo_app(), limit=limit), "POST", "/echo", chunks, declare=declare
    )
    if total <= limit:
        assert answer.status == 200 and answer.json == {"size": total}
        return
    assert answer.status == 413
    if declare:
        assert answer.read == 0
    else:  # read up to the chunk that passed the limit, and not one more
        read = sum(sizes[: answer.read])
        assert read > limit and read - sizes[answer.read - 1] <= limit


def test_rate_limits_count_webhooks_per_address_and_admin_calls_per_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="syncd.api.rate_limit")
    tokens = TokenTable(
        {"mia": SecretStr(ADMIN_TOKEN)},
        {"dash": SecretStr(VIEWER_TOKEN)},
    )
    app = RateLimitMiddleware(
        _echo_app(), rules=default_rules(webhooks="3/minute", admin="2/minute", tokens=tokens)
    )

    def webhook(client: str) -> Exchange:
        return call(app, "POST", "/webhooks/jira", [b"{}"], client=client)

    statuses = [webhook("10.0.0.1").status for _ in range(5)]
    assert statuses == [404, 404, 404, 429, 429]  # the echo app has no such route: passed on
    assert webhook("10.0.0.2").status == 404  # another address has its own count
    refused = webhook("10.0.0.1")
    assert refused.json == {"detail": refused.json["detail"]}  # type: ignore[index]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    # A throttled client is logged once, not once per refused request.
    said = [r.getMessage() for r in caplog.records if "address:10.0.0.1" in r.getMessage()]
    assert len(said) == 1 and "refusing webhooks requests" in said[0]

    def admin(token: str, client: str = "10.0.0.1") -> int:
        return call(app, "GET", "/admin/v1/status", [b""], _bearer(token), client=client).status

    assert [admin(ADMIN_TOKEN) for _ in range(3)] == [404, 404, 429]
    assert [admin(VIEWER_TOKEN) for _ in range(3)] == [404, 404, 429]  # per token name
    # The same token from elsewhere is the same caller; unknown tokens count per address.
    assert admin(ADMIN_TOKEN, "10.9.9.9") == 429
    assert [admin("guess-one-000000000000000000"), admin("guess-two-0000000000000")] == [404, 404]
    assert admin("guess-three-000000000000000000") == 429
    assert call(app, "GET", "/healthz", [b""], client="10.0.0.1").status == 404  # not limited


@pytest.mark.parametrize("field", ["webhook_rate_limit", "admin_rate_limit"])
def test_a_rate_limit_setting_that_does_not_parse_is_named(field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ApiSettings(**{field: "lots per hour"})
    [error] = caught.value.errors()
    assert error["loc"] == (field,) and "'lots per hour' is not a rate limit" in error["msg"]
    assert ApiSettings(**{field: ""}).model_dump()[field] == ""  # off
