"""Identities (each tool's users), run on both backends."""

from __future__ import annotations

from syncd.store.store import Store


def test_people_directory(store: Store) -> None:
    with store.transaction() as tx:
        tx.identities.save("jira", [("acc-1", "Zoe@Studio.example", "Zoë"), ("acc-2", None, "X")])
    with store.transaction() as tx:
        assert tx.identities.emails("jira") == {"acc-1": "zoe@studio.example"}
