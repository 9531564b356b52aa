"""Store turns: one page at a time, the smallest page read next, each reader's in order."""

from __future__ import annotations

import threading
import time

import pytest

from syncd.engine.turns import PageLine, StoreTurns


def _store_later(line: PageLine, name: str, order: list[str], pages: int = 1) -> threading.Thread:
    def store() -> None:
        for _ in range(pages):
            with line.turn():
                order.append(name)

    thread = threading.Thread(target=store)
    thread.start()
    return thread


def _settle() -> None:
    time.sleep(0.05)  # long enough for a thread that could take the turn to take it


def test_the_smallest_page_read_goes_next_and_each_readers_pages_keep_their_order() -> None:
    turns = StoreTurns()
    jira, shotgrid, sheets = turns.line(), turns.line(), turns.line()
    order: list[str] = []
    holder = turns.line()
    holder.arrived(1)
    with holder.turn():  # the store is busy while the pages are read
        sheets.arrived(500)
        shotgrid.arrived(500)
        jira.arrived(100)
        jira.arrived(99)  # smaller, but behind jira's first page
        shotgrid.arrived(400)  # smaller than sheets', but behind shotgrid's first page
        threads = [
            _store_later(sheets, "sheets", order),
            _store_later(shotgrid, "shotgrid", order, pages=2),
            _store_later(jira, "jira", order, pages=2),
        ]
        _settle()
        assert order == []
    for thread in threads:
        thread.join(5)
    # jira 100, jira 99; sheets 500 and shotgrid 500 tie: the first read goes first; then
    # shotgrid's 400.
    assert order == ["jira", "jira", "sheets", "shotgrid", "shotgrid"]


def test_a_page_read_keeps_its_place_while_its_thread_finishes_the_last_one() -> None:
    turns = StoreTurns()
    jira, shotgrid = turns.line(), turns.line()
    order: list[str] = []
    jira.arrived(100)
    shotgrid.arrived(500)
    with jira.turn():
        jira.arrived(100)  # read ahead while the first page is stored
        thread = _store_later(shotgrid, "shotgrid-500", order)
        _settle()
    _settle()  # the jira thread is "busy elsewhere": shotgrid still may not go first
    assert order == []
    with jira.turn():
        order.append("jira-100")
    thread.join(5)
    assert order == ["jira-100", "shotgrid-500"]


def test_a_closed_line_no_longer_holds_the_others_up() -> None:
    turns = StoreTurns()
    jira, shotgrid = turns.line(), turns.line()
    order: list[str] = []
    jira.arrived(100)  # read, but its reader stops before storing it (a failure)
    shotgrid.arrived(500)
    thread = _store_later(shotgrid, "shotgrid-500", order)
    _settle()
    assert order == []
    jira.close()
    jira.arrived(100)  # a late read after closing is ignored
    thread.join(5)
    assert order == ["shotgrid-500"]


def test_one_page_at_a_time() -> None:
    turns = StoreTurns()
    inside, most = 0, 0
    lock = threading.Lock()

    def store(records: int) -> None:
        nonlocal inside, most
        line = turns.line()
        try:
            for _ in range(20):
                line.arrived(records)
                with line.turn():
                    with lock:
                        inside += 1
                        most = max(most, inside)
                    time.sleep(0.0005)
                    with lock:
                        inside -= 1
        finally:
            line.close()

    threads = [threading.Thread(target=store, args=(n,)) for n in (1, 100, 500)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert most == 1


def test_a_failed_store_gives_the_turn_to_the_next_page() -> None:
    turns = StoreTurns()
    first, second = turns.line(), turns.line()
    first.arrived(10)
    second.arrived(10)
    with pytest.raises(RuntimeError, match="page failed"), first.turn():
        raise RuntimeError("page failed")
    order: list[str] = []
    _store_later(second, "second", order).join(5)
    assert order == ["second"]


def test_a_turn_needs_a_page() -> None:
    line = StoreTurns().line()
    with pytest.raises(RuntimeError, match="before it arrived"), line.turn():
        pass
