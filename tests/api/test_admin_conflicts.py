"""Admin API conflicts and records: list, resolve both ways (pushed to every tool), history."""

from __future__ import annotations

from tests.api.admin_kit import ADMIN, API, RECORD_LINK, VIEWER, Kit


def test_conflicts_are_listed_with_what_each_tool_holds_and_where(kit: Kit) -> None:
    conflict = kit.open_conflict()
    listed = kit.client.get(f"{API}/conflicts", headers=VIEWER).json()
    [item] = listed
    assert (item["id"], item["record_id"], item["kind"]) == (
        conflict.id,
        conflict.record_id,
        "task",
    )
    assert (item["field"], item["status"], item["base"]) == ("status", "open", "todo")
    assert item["holds"] == {"a": "done", "b": "in_progress"}
    sources = {(s["connector"], s["external_id"]): s["url"] for s in item["sources"]}
    assert sources == {
        ("a", "a1"): RECORD_LINK.format(entity="item", external_id="a1"),
        ("b", "b1"): None,
        ("c", "c1"): None,
    }
    assert kit.client.get(f"{API}/conflicts?status=resolved", headers=VIEWER).json() == []
    assert len(kit.client.get(f"{API}/conflicts?status=all", headers=VIEWER).json()) == 1
    assert kit.client.get(f"{API}/conflicts?status=maybe", headers=VIEWER).status_code == 422


def test_taking_a_side_reaches_every_tool_and_is_recorded_with_the_token_name(kit: Kit) -> None:
    conflict = kit.open_conflict()
    response = kit.client.post(
        f"{API}/conflicts/{conflict.id}/resolve", headers=ADMIN, json={"take": "b"}
    )
    assert response.status_code == 200, response.text
    resolved = response.json()
    assert (resolved["value"], resolved["resolved_by"]) == ("in_progress", "mia")
    assert set(resolved["pushes_queued"]) == {"a", "c"}
    assert kit.service.queue.depth() == {"push": 2}
    assert kit.service.services.wake_worker.is_set()
    kit.run_worker()
    assert kit.status_everywhere() == {"doing"}
    [done] = kit.client.get(f"{API}/conflicts?status=resolved", headers=VIEWER).json()
    assert (done["resolution"], done["resolved_by"]) == ("in_progress", "mia")
    again = kit.client.post(
        f"{API}/conflicts/{conflict.id}/resolve", headers=ADMIN, json={"take": "a"}
    )
    assert again.status_code == 409
    unknown = kit.client.post(f"{API}/conflicts/999/resolve", headers=ADMIN, json={"take": "a"})
    assert unknown.status_code == 404
    history = kit.client.get(f"{API}/records/{conflict.record_id}/history", headers=VIEWER).json()
    last = history["entries"][-1]
    assert (last["field"], last["origin"], last["reason"]) == ("status", "mia", "resolved")
    assert (last["old"], last["new"]) == ("done", "in_progress")


def test_setting_a_value_reaches_every_tool_and_bad_bodies_are_refused(kit: Kit) -> None:
    conflict = kit.open_conflict()
    url = f"{API}/conflicts/{conflict.id}/resolve"
    for body in (
        {},  # neither
        {"take": "a", "value": "done"},  # both
        {"take": "zz"},  # not a side
        {"value": "finished-ish"},  # not a task status
        {"value": "done", "by": "someone else"},  # no mass assignment
    ):
        response = kit.client.post(url, headers=ADMIN, json=body)
        assert response.status_code == 422, (body, response.text)
    assert kit.conflicts()[0].id == conflict.id  # still open
    response = kit.client.post(url, headers=ADMIN, json={"value": "done"})
    assert response.status_code == 200, response.text
    assert set(response.json()["pushes_queued"]) == {"b", "c"}
    kit.run_worker()
    assert kit.status_everywhere() == {"done"}
    assert kit.conflicts() == []


def test_a_record_shows_its_fields_flags_conflicts_and_source_records(kit: Kit) -> None:
    conflict = kit.open_conflict()
    kit.world.put("c", 1, who="c-u9")  # a user syncd cannot identify: flagged, not guessed
    kit.world.engine.sync()
    record = kit.client.get(f"{API}/records/{conflict.record_id}", headers=VIEWER).json()
    assert record["kind"] == "task" and record["fields"]["title"] == "Rig hero"
    assert record["origins"]["title"]["origin"] in {"a", "b", "c"}
    assert [c["field"] for c in record["conflicts"]] == ["status"]
    assert record["conflicts"][0]["holds"] == {"a": "done", "b": "in_progress"}
    assert "c:assignee" in record["flags"]
    links = {(ln["connector"], ln["external_id"]): ln for ln in record["links"]}
    assert set(links) == {("a", "a1"), ("b", "b1"), ("c", "c1")}
    assert links[("b", "b1")]["data"]["status"] == "doing"  # as the tool last held it
    assert links[("a", "a1")]["url"] == "https://tool-a.example/item/a1"
    assert kit.client.get(f"{API}/records/no-such-record", headers=VIEWER).status_code == 404
    history = kit.client.get(f"{API}/records/no-such-record/history", headers=VIEWER)
    assert history.status_code == 404


def test_history_lists_every_change_with_origin_reason_times_and_mapping_version(kit: Kit) -> None:
    kit.world.put("b", 1, status="doing")
    kit.world.engine.sync()
    record_id = kit.record_of("b", "b1")
    history = kit.client.get(f"{API}/records/{record_id}/history", headers=VIEWER).json()
    assert history["total"] == len(history["entries"]) == 3 and history["left_out"] == 0
    first, second, change = history["entries"]
    assert (first["field"], first["new"], first["reason"]) == ("title", "Rig hero", "pulled")
    assert (second["field"], second["new"]) == ("status", "todo")
    assert (change["field"], change["old"], change["new"], change["origin"]) == (
        "status",
        "todo",
        "in_progress",
        "b",
    )
    assert change["at"] is not None and change["recorded_at"] and change["run_id"]
    assert change["mapping_version"] == kit.service.engine.mappings.version
    latest = kit.client.get(f"{API}/records/{record_id}/history?limit=1", headers=VIEWER).json()
    assert latest["entries"] == [change] and latest["left_out"] == 2
