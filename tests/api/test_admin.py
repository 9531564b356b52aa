"""Admin API access: the auth matrix, tokens, the OpenAPI document, and no secret in any answer."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from syncd.api.auth import Caller, Role, TokenTable
from tests.api.admin_kit import (
    ADMIN,
    ADMIN_TOKEN,
    API,
    SECRETS,
    VIEWER,
    VIEWER_TOKEN,
    WRONG,
    Kit,
    Seen,
    build_kit,
)

# Every admin API route: who may call it, and a request that succeeds for that role.
VIEWER_ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/mappings", None),
    ("GET", "/mappings/versions", None),
    ("GET", "/mappings/versions/{version_id}", None),
    ("GET", "/conflicts", None),
    ("GET", "/status", None),
    ("GET", "/source-errors", None),
    ("GET", "/records/{record_id}", None),
    ("GET", "/records/{record_id}/history", None),
]
ADMIN_ROUTES: list[tuple[str, str, Any]] = [
    ("POST", "/mappings/preview", {"files": {}}),
    ("POST", "/mappings/apply", {"files": {}, "note": "no change"}),
    ("POST", "/mappings/rollback/{version_id}", None),
    ("POST", "/conflicts/{conflict_id}/resolve", {"take": "a"}),
    ("POST", "/sync", {"connector": None, "full": False}),
    ("POST", "/sync/dry-run", {"connector": None, "full": False}),
]
ALL_ROUTES = [(*r, Role.VIEWER) for r in VIEWER_ROUTES] + [(*r, Role.ADMIN) for r in ADMIN_ROUTES]


def _admin_routes(kit: Kit) -> set[tuple[str, str]]:
    paths = kit.client.get("/openapi.json").json()["paths"]
    return {
        (method.upper(), path.removeprefix(API))
        for path, operations in paths.items()
        if path.startswith(API)
        for method in operations
    }


def _call(kit: Kit, method: str, template: str, body: Any, headers: dict[str, str]) -> Any:
    conflict = kit.conflicts()
    path = template.format(
        version_id=1,
        record_id=kit.record_of("a", "a1"),
        conflict_id=conflict[0].id if conflict else 1,
    )
    return kit.client.request(method, API + path, json=body, headers=headers)


def test_the_matrix_names_every_admin_route(kit: Kit) -> None:
    assert _admin_routes(kit) == {(m, p) for m, p, _, _ in ALL_ROUTES}


@pytest.mark.parametrize(("method", "path", "body", "role"), ALL_ROUTES)
def test_auth_matrix(kit: Kit, method: str, path: str, body: Any, role: Role) -> None:
    kit.open_conflict()
    refused = [
        {},  # no token
        WRONG,  # not configured
        {"Authorization": f"Basic {ADMIN_TOKEN}"},  # not a bearer token
        {"Authorization": "Bearer "},  # empty
        {"Authorization": f"Bearer {ADMIN_TOKEN}x"},  # almost
    ]
    for headers in refused:
        response = _call(kit, method, path, body, headers)
        assert response.status_code == 401, (headers, response.text)
        assert response.headers["www-authenticate"].startswith("Bearer")
    # A token in the URL is never read.
    response = kit.client.request(method, f"{API}{path}?access_token={ADMIN_TOKEN}", json=body)
    assert response.status_code == 401
    viewer = _call(kit, method, path, body, VIEWER)
    if role is Role.ADMIN:
        assert viewer.status_code == 403, viewer.text
        assert "admin token" in viewer.json()["detail"]
    else:
        assert 200 <= viewer.status_code < 300, viewer.text
    admin = _call(kit, method, path, body, ADMIN)
    assert 200 <= admin.status_code < 300, admin.text


def test_without_configured_tokens_everyone_gets_401_and_the_log_says_why_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, seen: Seen
) -> None:
    monkeypatch.chdir(tmp_path)
    caplog.set_level(logging.WARNING, logger="syncd.api.auth")
    with build_kit(tmp_path, seen, api={}) as kit:
        for method, path, body, _ in ALL_ROUTES:
            assert _call(kit, method, path, body, ADMIN).status_code == 401
            assert _call(kit, method, path, body, {}).status_code == 401
    why = [r for r in caplog.records if "no tokens are configured" in r.getMessage()]
    assert len(why) == 1


def test_token_table_hashes_and_identifies() -> None:
    table = TokenTable(
        {"mia": SecretStr(ADMIN_TOKEN), "both": SecretStr("same-token-in-both-lists-000")},
        {
            "dash": SecretStr(VIEWER_TOKEN),
            "both": SecretStr("same-token-in-both-lists-000"),
            "blank": SecretStr(""),
        },
    )
    assert len(table) == 4  # the blank one is ignored
    assert table.identify(ADMIN_TOKEN) == Caller("mia", Role.ADMIN)
    assert table.identify(VIEWER_TOKEN) == Caller("dash", Role.VIEWER)
    assert table.identify("same-token-in-both-lists-000") == Caller("both", Role.ADMIN)
    assert table.identify("") is None and table.identify(ADMIN_TOKEN[:-1]) is None
    # Only digests are kept: no token value is reachable from the table.
    assert not any(secret in repr(vars(table)) for secret in (ADMIN_TOKEN, VIEWER_TOKEN))


def test_openapi_documents_every_admin_route_with_models_and_bearer_auth(kit: Kit) -> None:
    document = kit.client.get("/openapi.json").json()
    scheme = document["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    schemas = document["components"]["schemas"]
    for method, path, _, role in ALL_ROUTES:
        operation = document["paths"][API + path][method.lower()]
        assert operation["security"] == [{"bearer": []}], path
        assert operation["summary"] and operation["description"], path
        responses = operation["responses"]
        ok = responses["202" if path == "/sync" else "200"]
        ref = ok["content"]["application/json"]["schema"]
        ref = ref.get("items", ref)  # lists of models
        assert ref["$ref"].split("/")[-1] in schemas, path
        assert "401" in responses
        assert ("403" in responses) == (role is Role.ADMIN), path
        if method == "POST" and path not in ("/mappings/rollback/{version_id}",):
            body = operation["requestBody"]["content"]["application/json"]["schema"]
            refs = [body] if "$ref" in body else body["anyOf"]
            assert all(r["$ref"].split("/")[-1] in schemas for r in refs), path
    for name in (
        "TakeSide",
        "SetValue",
        "SyncRequest",
        "DryRunRequest",
        "ApplyRequest",
        "PreviewRequest",
    ):
        assert schemas[name]["additionalProperties"] is False, name


def test_no_configured_secret_in_any_answer_or_log(
    kit: Kit, seen: Seen, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    kit.open_conflict()
    with kit.service.store.transaction() as tx:  # a tool echoed a credential into an error
        tx.source_errors.add("a", "item", "a1", f"GET /x?api_token={SECRETS[2]} failed")
    for method, path, body, _ in ALL_ROUTES:
        for headers in ({}, WRONG, VIEWER, ADMIN):
            _call(kit, method, path, body, headers)
    for path in ("/openapi.json", "/docs", f"{API}/records/nope", f"{API}/mappings/versions/99"):
        kit.client.get(path, headers=ADMIN)
    kit.client.post(f"{API}/mappings/preview", headers=ADMIN, json={"files": {"x.toml": "= ="}})
    kit.client.post(f"{API}/sync", headers=ADMIN, json={"connector": "nope"})
    errors = kit.client.get(f"{API}/source-errors", headers=VIEWER).json()
    assert any("**********" in e["message"] for e in errors)
    assert len(seen.responses) > 50
    assert seen.leaks() == []
    assert not any(secret in caplog.text for secret in SECRETS)
    assert not any(secret in repr(kit.service.settings) for secret in SECRETS)


@pytest.mark.postgres
@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
def test_the_admin_api_on_postgresql(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seen: Seen, store_url: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with build_kit(tmp_path, seen, store_url=store_url) as kit:
        conflict = kit.open_conflict()
        kit.world.put("b", 2, title="Model prop", status="wip")
        kit.world.engine.sync()
        status = kit.client.get(f"{API}/status", headers=VIEWER).json()
        assert [c["last_run"]["status"] for c in status["connectors"]] == ["ok"] * 3
        assert all(c["lag_seconds"] >= 0 for c in status["connectors"])
        files = kit.client.get(f"{API}/mappings", headers=VIEWER).json()["files"]
        wip = files["mappings/b.toml"].replace(
            'done = "done"\n',
            'done = "done"\nwip = "in_progress"\n[values.st.push]\nin_progress = "doing"\n',
        )
        upload = {"files": {"mappings/b.toml": wip}}
        preview = kit.client.post(f"{API}/mappings/preview", headers=ADMIN, json=upload).json()
        assert preview["by_field"] == {"b.item.status": 1}
        assert (
            kit.client.post(f"{API}/mappings/apply", headers=ADMIN, json=upload).status_code == 200
        )
        assert kit.client.post(f"{API}/mappings/rollback/1", headers=ADMIN).status_code == 200
        resolved = kit.client.post(
            f"{API}/conflicts/{conflict.id}/resolve", headers=ADMIN, json={"take": "b"}
        )
        assert resolved.status_code == 200
        kit.run_worker()
        assert kit.status_everywhere() == {"doing"}
        history = kit.client.get(f"{API}/records/{conflict.record_id}/history", headers=VIEWER)
        assert history.json()["entries"][-1]["origin"] == "mia"
        record = kit.client.get(f"{API}/records/{conflict.record_id}", headers=VIEWER).json()
        assert record["conflicts"] == [] and len(record["links"]) == 3
