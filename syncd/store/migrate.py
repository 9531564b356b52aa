"""Bring a store's schema up to date with alembic (run at start-up and by `syncd migrate`).

Replicas started together on one PostgreSQL database migrate one at a time: the upgrade
runs in a transaction that first takes a PostgreSQL advisory lock, so the others wait, then
find the schema current and do nothing. A store whose schema is newer than this code knows
(another replica was upgraded first) is refused with a message saying so, rather than run
against tables it does not understand.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from syncd.errors import ConfigError, Problem

MIGRATIONS = Path(__file__).parent / "migrations"
# pg_advisory_xact_lock key for migrations ("syncd mig" in ASCII); jobs use their own key.
MIGRATION_LOCK = 0x73796E6364206D69


def alembic_config(connection: Connection) -> Config:
    """An alembic config that runs on `connection` with syncd's migration scripts."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every migration up to `revision`; a no-op on an up-to-date store.

    Raises ConfigError when the store's schema is newer than this code knows.
    """
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Held until this transaction ends: the whole upgrade runs under it.
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(MIGRATION_LOCK)))
        config = alembic_config(connection)
        _refuse_newer_schema(connection, ScriptDirectory.from_config(config))
        command.upgrade(config, revision)


def _refuse_newer_schema(connection: Connection, scripts: ScriptDirectory) -> None:
    current = MigrationContext.configure(connection).get_current_heads()
    known = {script.revision for script in scripts.walk_revisions()}
    unknown = sorted(set(current) - known)
    if unknown:
        raise ConfigError(
            [
                Problem(
                    "store_url",
                    f"the store's schema is at revision {', '.join(unknown)}, newer than this "
                    f"syncd knows (its newest is {scripts.get_current_head()}): it was "
                    "upgraded by a newer syncd. Run that version (or newer) here too; an "
                    "older one must not write to a schema it does not understand",
                )
            ]
        )
