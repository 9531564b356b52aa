"""The bench command line: store names are checked, with PostgreSQL's usual name accepted."""

from __future__ import annotations

import pytest

from bench.__main__ import parse


def test_postgresql_is_another_name_for_postgres() -> None:
    assert parse(["ingest", "--backends", "sqlite,postgresql"]).backends == ["sqlite", "postgres"]
    assert parse(["ingest"]).backends == ["sqlite", "postgres"]


def test_an_unknown_store_is_refused_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse(["ingest", "--backends", "sqlite,mysql"])
    assert "unknown store 'mysql'" in capsys.readouterr().err
