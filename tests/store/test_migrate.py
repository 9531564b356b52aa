"""Migrations: replicas starting together on one new database all come up; a store whose
schema is newer than the code is refused with a clear message.

Real processes, not threads: the race was between separate `syncd serve` processes, one of
which died in its migrations (`UniqueViolation` on `alembic_version`).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from syncd.errors import ConfigError
from syncd.store.store import Store
from tests.conftest import PG_ADMIN_URL

REPLICAS = 4


@pytest.fixture
def fresh_pg_database() -> Iterator[str]:
    """A brand-new PostgreSQL database (no schema, no alembic_version)."""
    name = f"syncd_migrate_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    yield f"{base}/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _open_store_at(url: str, start_at: float) -> subprocess.Popen[str]:
    script = textwrap.dedent(
        f"""
        import time
        from syncd.store.store import Store
        time.sleep(max(0.0, {start_at!r} - time.time()))  # all start in the same instant
        Store({url!r}).close()
        print("up")
        """
    )
    return subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


@pytest.mark.postgres
@pytest.mark.slow
def test_replicas_starting_together_on_a_new_database_all_come_up(
    fresh_pg_database: str,
) -> None:
    for attempt in range(3):  # several rounds: one lucky interleaving proves little
        if attempt:
            with psycopg.connect(
                fresh_pg_database.replace("+psycopg", ""), autocommit=True
            ) as conn:
                conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        start_at = time.time() + 3.0  # after every interpreter has imported syncd
        replicas = [_open_store_at(fresh_pg_database, start_at) for _ in range(REPLICAS)]
        outcomes = [(p.wait(timeout=120), *p.communicate()) for p in replicas]
        failed = [err for code, _, err in outcomes if code != 0]
        assert failed == [], failed[0][-2000:] if failed else ""
        assert all(out.strip() == "up" for _, out, _ in outcomes)
        engine = sa.create_engine(fresh_pg_database)
        with engine.connect() as conn:
            versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
        engine.dispose()
        assert len(versions) == 1


@pytest.mark.parametrize(
    "store_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_a_schema_newer_than_the_code_is_refused_with_a_clear_message(store_url: str) -> None:
    Store(store_url).close()  # migrated to this code's head
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0099_from_the_future'"))
    engine.dispose()
    with pytest.raises(ConfigError) as caught:
        Store(store_url)
    message = str(caught.value)
    assert "0099_from_the_future" in message and "newer than this syncd knows" in message
    # Nothing was changed by the refused start.
    engine = sa.create_engine(store_url)
    with engine.connect() as conn:
        version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
    engine.dispose()
    assert version == "0099_from_the_future"


def test_the_error_names_the_setting(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite3'}"
    Store(url).close()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = 'zzz'"))
    engine.dispose()
    with pytest.raises(ConfigError) as caught:
        Store(url)
    assert [p.where for p in caught.value.problems] == ["store_url"]
