"""Admin API mappings: read, preview (dry run), apply with hot reload, roll back."""

from __future__ import annotations

import sqlalchemy as sa

from syncd.mapping.load import MappingSet
from syncd.store import tables as t
from tests.api.admin_kit import ADMIN, API, VIEWER, Kit

B = "mappings/b.toml"
# Tool b starts using "wip"; the active mapping cannot read it (flagged), the new one can.
WIP = (
    'done = "done"\nwip = "in_progress"\n\n'
    "[values.st.push]  # two b values mean in_progress: write this one\n"
    'in_progress = "doing"\n'
)


def _files(kit: Kit) -> dict[str, str]:
    response = kit.client.get(f"{API}/mappings", headers=VIEWER)
    assert response.status_code == 200
    files: dict[str, str] = response.json()["files"]
    return files


def _with_wip(kit: Kit) -> dict[str, str]:
    return {B: _files(kit)[B].replace('done = "done"\n', WIP)}


def _versions(kit: Kit) -> int:
    with kit.service.store.transaction() as tx:
        return int(
            tx.conn.execute(sa.select(sa.func.count()).select_from(t.mapping_versions)).scalar_one()
        )


def _record(kit: Kit, connector: str, external_id: str) -> dict[str, object]:
    record_id = kit.record_of(connector, external_id)
    response = kit.client.get(f"{API}/records/{record_id}", headers=VIEWER)
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


def test_the_active_mapping_and_its_versions(kit: Kit) -> None:
    active = kit.client.get(f"{API}/mappings", headers=VIEWER).json()
    assert active["version_id"] == 1 and active["version"] == kit.service.engine.mappings.version
    assert sorted(active["files"]) == ["mappings/a.toml", "mappings/b.toml", "mappings/c.toml"]
    assert active["reload_pending"] is False
    assert any("no a value for status 'review'" in w for w in active["warnings"])
    [version] = kit.client.get(f"{API}/mappings/versions", headers=VIEWER).json()
    assert (version["id"], version["created_by"], version["active"]) == (1, "files", True)
    detail = kit.client.get(f"{API}/mappings/versions/1", headers=VIEWER).json()
    assert detail["files"] == active["files"]
    assert kit.client.get(f"{API}/mappings/versions/7", headers=VIEWER).status_code == 404
    # A version stored elsewhere (the CLI, another replica) is used after a restart: say so.
    changed = kit.service.versions.build(
        [*kit.service.engine.mappings.sources[:1], *kit.service.engine.mappings.sources[2:]]
    )
    kit.service.versions.save(changed, by="cli")
    assert kit.client.get(f"{API}/mappings", headers=VIEWER).json()["reload_pending"] is True


def test_an_invalid_upload_is_refused_with_every_problem_and_its_place(kit: Kit) -> None:
    active = _files(kit)
    # b's shape is wrong (two problems); a parses but means something impossible; c is not
    # TOML; d lacks a required table. Every one is reported, each with its place.
    broken_b = (
        active[B]
        .replace('policy = "manual"', 'policy = "sometimes"')
        .replace('path = "title"', 'path = "title"\ncolour = "red"')
    )
    broken_a = active["mappings/a.toml"].replace('transform = "labels"', 'transform = "frobnicate"')
    files = {
        B: broken_b,
        "mappings/a.toml": broken_a,
        "mappings/c.toml": "connector = = 'c'",
        "mappings/d.toml": "connector = 'd'",
    }
    for route in ("preview", "apply"):
        response = kit.client.post(f"{API}/mappings/{route}", headers=ADMIN, json={"files": files})
        assert response.status_code == 422, response.text
        problems = {
            (p["where"], p["warning"]) for p in response.json()["problems"] if not p["warning"]
        }
        wheres = {where for where, _ in problems}
        assert f"{B} [entities.item.fields.status] policy" in wheres
        assert f"{B} [entities.item.fields.title] colour" in wheres
        assert "mappings/a.toml [entities.item.fields.labels] transform" in wheres
        assert "mappings/c.toml" in wheres  # not TOML at all
        assert "mappings/d.toml entities" in wheres  # required table missing
    assert _versions(kit) == 1 and kit.service.engine.mappings.version == _files_version(kit)


def _files_version(kit: Kit) -> str:
    version: str = kit.client.get(f"{API}/mappings", headers=VIEWER).json()["version"]
    return version


def test_preview_names_the_records_and_fields_that_would_change_and_stores_nothing(
    kit: Kit,
) -> None:
    kit.world.put("b", 2, title="Model prop", status="wip")
    kit.world.engine.sync()
    before = _record(kit, "b", "b2")
    assert "b:status" in before["flags"]  # type: ignore[operator]
    version = kit.service.engine.mappings.version
    response = kit.client.post(
        f"{API}/mappings/preview", headers=ADMIN, json={"files": _with_wip(kit)}
    )
    assert response.status_code == 200, response.text
    preview = response.json()
    assert (preview["records"], preview["field_changes"], preview["left_out"]) == (1, 1, 0)
    [change] = preview["changes"]
    assert change["record_id"] == kit.record_of("b", "b2")
    assert (change["connector"], change["external_id"], change["field"]) == ("b", "b2", "status")
    assert (change["current"], change["new"]) == (None, "in_progress")
    assert "not in the value table" in change["current_problem"]
    assert preview["by_field"] == {"b.item.status": 1}
    statuses = {(e["connector"], e["status"]) for e in preview["entities"]}
    assert statuses == {("a", "unchanged"), ("b", "changed"), ("c", "unchanged")}
    assert preview["current_version"] == version != preview["new_version"]
    # Nothing stored, nothing reloaded, the record untouched.
    assert _versions(kit) == 1 and kit.service.engine.mappings.version == version
    assert _record(kit, "b", "b2") == before
    capped = kit.client.post(
        f"{API}/mappings/preview", headers=ADMIN, json={"files": _with_wip(kit), "limit": 0}
    ).json()
    assert capped["changes"] == [] and capped["left_out"] == 1


def test_preview_reports_fields_no_longer_read_and_removed_entities(kit: Kit) -> None:
    text = _files(kit)[B]
    no_title = text.replace(
        '[entities.item.fields.title]\npath = "title"',
        '[entities.item.fields.title]\npath = "name"',
    )
    preview = kit.client.post(
        f"{API}/mappings/preview", headers=ADMIN, json={"files": {B: no_title}}
    ).json()
    [change] = preview["changes"]
    assert (change["field"], change["current"], change["note"]) == (
        "title",
        "Rig hero",
        "no longer read",
    )
    files = _files(kit)
    without_c = {"mappings/c.toml": None}
    preview = kit.client.post(
        f"{API}/mappings/preview", headers=ADMIN, json={"files": without_c}
    ).json()
    removed = [e for e in preview["entities"] if e["connector"] == "c"]
    assert [(e["status"], e["links"]) for e in removed] == [("removed", 1)]
    assert "mappings/c.toml" in files
    everything = dict.fromkeys(files)
    refused = kit.client.post(f"{API}/mappings/preview", headers=ADMIN, json={"files": everything})
    assert refused.status_code == 422


def test_apply_makes_a_new_version_the_engine_uses_and_rollback_restores_the_old(kit: Kit) -> None:
    old = kit.service.engine.mappings.version
    upload = _with_wip(kit)
    response = kit.client.post(
        f"{API}/mappings/apply", headers=ADMIN, json={"files": upload, "note": "b uses WIP"}
    )
    assert response.status_code == 200, response.text
    applied = response.json()
    version = applied["version"]
    assert (version["id"], version["created_by"], version["note"]) == (2, "mia", "b uses WIP")
    assert version["active"] is True and applied["unchanged"] is False
    new = kit.service.engine.mappings.version
    assert new == version["version"] != old
    active = kit.client.get(f"{API}/mappings", headers=VIEWER).json()
    assert (active["version_id"], active["version"]) == (2, new)
    assert "wip" in active["files"][B]
    # Hot reload: the very next sync reads "wip" with the new mapping.
    kit.world.put("b", 3, title="Hero sword", status="wip")
    kit.world.engine.sync()
    assert _record(kit, "b", "b3")["fields"] == {"title": "Hero sword", "status": "in_progress"}
    # The same upload again stores nothing.
    again = kit.client.post(f"{API}/mappings/apply", headers=ADMIN, json={"files": upload})
    assert again.json()["unchanged"] is True and _versions(kit) == 2
    # Roll back: version 1 is active and used again.
    rolled = kit.client.post(f"{API}/mappings/rollback/1", headers=ADMIN)
    assert rolled.status_code == 200 and rolled.json()["active"] is True
    assert kit.service.engine.mappings.version == old
    assert kit.client.get(f"{API}/mappings", headers=VIEWER).json()["version_id"] == 1
    kit.world.put("b", 4, title="Hero shield", status="wip")
    kit.world.engine.sync()
    rolled_back = _record(kit, "b", "b4")
    assert rolled_back["fields"] == {"title": "Hero shield"}
    assert "b:status" in rolled_back["flags"]  # type: ignore[operator]
    assert kit.client.post(f"{API}/mappings/rollback/99", headers=ADMIN).status_code == 404
    versions = kit.client.get(f"{API}/mappings/versions", headers=VIEWER).json()
    assert [(v["id"], v["active"]) for v in versions] == [(2, False), (1, True)]


def test_apply_can_queue_a_full_reread_so_existing_records_are_translated_now(kit: Kit) -> None:
    kit.world.put("b", 2, title="Model prop", status="wip")
    kit.world.engine.sync()
    body = {"files": _with_wip(kit), "resync": True}
    applied = kit.client.post(f"{API}/mappings/apply", headers=ADMIN, json=body).json()
    assert applied["resync_queued"] == ["a", "b", "c"]
    assert kit.service.queue.depth() == {"poll": 3}
    assert kit.service.services.wake_worker.is_set()
    kit.run_worker()
    record = _record(kit, "b", "b2")
    assert record["fields"] == {"title": "Model prop", "status": "in_progress"}
    assert record["flags"] == {}


def test_a_stored_version_that_no_longer_validates_cannot_be_rolled_back_to(kit: Kit) -> None:
    broken = {s.name: s.text for s in kit.service.engine.mappings.sources}
    broken[B] = broken[B].replace('policy = "manual"', 'policy = "sometimes"')
    with kit.service.store.transaction() as tx:
        tx.conn.execute(
            t.mapping_versions.insert().values(
                version="old", files=broken, created_at=tx.now, created_by="files", active=False
            )
        )
    response = kit.client.post(f"{API}/mappings/rollback/2", headers=ADMIN)
    assert response.status_code == 422
    assert any(p["where"].startswith(B) for p in response.json()["problems"])
    assert isinstance(kit.service.engine.mappings, MappingSet)
    assert kit.client.get(f"{API}/mappings", headers=VIEWER).json()["version_id"] == 1


def test_file_names_outside_the_mapping_set_are_refused_and_nothing_is_stored(kit: Kit) -> None:
    text = _files(kit)[B]
    for name in ("../../etc/passwd", "/etc/passwd", "mappings/../../x.toml", "elsewhere/b.toml"):
        for route in ("preview", "apply"):
            response = kit.client.post(
                f"{API}/mappings/{route}", headers=ADMIN, json={"files": {name: text}}
            )
            assert response.status_code == 422, (name, route, response.text)
            wheres = [p["where"] for p in response.json()["problems"]]
            assert wheres == [f"files.{name}"]
    removing = kit.client.post(
        f"{API}/mappings/apply", headers=ADMIN, json={"files": {"mappings/zzz.toml": None}}
    )
    assert removing.status_code == 422
    assert "no such mapping file" in removing.text
    assert _versions(kit) == 1


def test_a_mapping_nested_too_deeply_is_a_clear_422_not_a_500(kit: Kit) -> None:
    deep = {
        "mappings/deep.toml": "x = " + "[" * 500 + "]" * 500,
        "mappings/deeper.toml": "x = " + "{a = " * 500 + "1" + "}" * 500,
    }
    for route in ("preview", "apply"):
        response = kit.client.post(f"{API}/mappings/{route}", headers=ADMIN, json={"files": deep})
        assert response.status_code == 422, response.text
        problems = {p["where"]: p["message"] for p in response.json()["problems"]}
        for name in deep:
            assert "nested too deeply" in problems[name]
    assert _versions(kit) == 1
