"""`syncd serve | sync | doctor | migrate`: run the service, or one sync, or check the set-up."""

from __future__ import annotations

import logging
import time
from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from syncd.cli.context import fail, print_problems, settings_from
from syncd.cli.plan import print_plan
from syncd.engine import SyncReport
from syncd.engine.dry_run import dry_run as run_dry
from syncd.errors import AuthError, ConfigError, ConnectorError
from syncd.logs import configure_logging
from syncd.redaction import configured_secrets
from syncd.service import Service
from syncd.settings import Settings
from syncd.store.store import Store

out = Console()


def _service(ctx: typer.Context, **kwargs: object) -> Service:
    settings = settings_from(ctx)
    configure_logging(
        settings.log_level, as_json=settings.log_json, secrets=configured_secrets(settings)
    )
    try:
        return Service(settings, **kwargs)  # type: ignore[arg-type]
    except ConfigError as exc:
        print_problems(exc)
        fail("syncd cannot start: fix the configuration above")


def register(app: typer.Typer) -> None:
    """Add the commands to the app."""
    app.command()(serve)
    app.command()(sync)
    app.command()(doctor)
    app.command()(migrate)
    app.command()(rollup)


def serve(
    ctx: typer.Context,
    workers: Annotated[int, typer.Option(help="worker threads")] = 1,
) -> None:
    """Run the service: webhook API, admin API, worker and scheduler."""
    service = _service(ctx, workers=workers)
    api = service.settings.api
    logging.getLogger(__name__).info("starting syncd: %s", service.describe())
    try:
        uvicorn.run(
            service.app(),
            host=api.host,
            port=api.port,
            log_config=None,
            timeout_graceful_shutdown=20,
        )
    finally:
        service.close()


def _print_report(report: SyncReport, seconds: float) -> None:
    table = Table(
        "pulled",
        "unchanged",
        "new records",
        "fields changed",
        "conflicts",
        "pushed",
        "rejected",
        "errors",
        title=f"sync done in {seconds:.1f} s",
    )
    table.add_row(
        str(report.pulled),
        str(report.skipped),
        str(report.created),
        str(report.changed_fields),
        str(report.conflicts_opened),
        str(report.pushed),
        str(report.push_rejected),
        str(len(report.errors)),
    )
    out.print(table)
    for error in report.errors:
        out.print(f"error: {error}", style="red", markup=False, soft_wrap=True)


def sync(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="one pass, then exit")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="change nothing anywhere")] = False,
    full: Annotated[bool, typer.Option("--full", help="re-read everything")] = False,
    connector: Annotated[
        list[str] | None, typer.Option("--connector", help="only this connector (repeatable)")
    ] = None,
) -> None:
    """Sync now, with progress: once, or every poll interval until Ctrl-C. With --dry-run:
    list every write, conflict and link the sync would make, and change nothing anywhere."""
    service = _service(ctx, schedule=False)
    unknown = set(connector or []) - set(service.connectors)
    if unknown:
        fail(
            f"no connector {', '.join(sorted(unknown))}; configured: "
            f"{', '.join(sorted(service.connectors))}"
        )
    try:
        while True:
            started = time.perf_counter()
            with Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=out,
                transient=True,
            ) as progress:
                task = progress.add_task("starting", total=None)

                def step(name: str, entity: str, count: int, task: TaskID = task) -> None:
                    progress.update(task, description=f"{name} {entity}: {count} read")

                if dry_run:
                    planned = run_dry(
                        service.store,
                        service.connectors,
                        service.engine.mappings,
                        only=connector,
                        full=full,
                        progress=step,
                    )
                    report = planned.report
                else:
                    report = service.engine.sync(only=connector, full=full, progress=step)
            _print_report(report, time.perf_counter() - started)
            if dry_run:
                print_plan(planned.plan, out)
                break
            if service.rollups is not None:
                result = service.rollups.run(force=True)
                out.print(
                    f"consolidated sheet: {len(result.written)} tab(s) rewritten, "
                    f"{len(result.unchanged)} unchanged"
                )
            if once:
                break
            time.sleep(service.settings.sync.poll_interval_seconds)
    except KeyboardInterrupt:
        out.print("stopped")
    finally:
        service.close()


def doctor(ctx: typer.Context) -> None:
    """Check every connector's configuration, credentials and reachability."""
    settings = settings_from(ctx)
    from syncd.registry import build_connector

    table = Table("connector", "check", "result")
    healthy = True
    for name, config in settings.connectors.items():
        try:
            plugin = build_connector(name, config)
        except ConfigError as exc:
            healthy = False
            table.add_row(name, "configuration", "; ".join(str(p) for p in exc.problems))
            continue
        table.add_row(name, "configuration", "ok")
        entity = _first_entity(settings, name)
        if entity is None:
            table.add_row(name, "mapping", f'no mapping file says connector = "{name}"')
            healthy = False
            continue
        try:
            first = next(iter(plugin.pull(entity, None, fields=[])), None)
            count = len(first.records) if first else 0
            table.add_row(name, "credentials and reachability", f"ok ({entity}: {count} read)")
        except AuthError as exc:
            healthy = False
            table.add_row(name, "credentials", f"refused: fix {exc.setting}")
        except ConnectorError as exc:
            healthy = False
            table.add_row(name, "reachability", str(exc))
        finally:
            plugin.close()
    out.print(table)
    if not healthy:
        raise typer.Exit(1)


def _first_entity(settings: Settings, connector: str) -> str | None:
    from syncd.mapping.load import load_mappings

    try:
        mappings = load_mappings(settings.mappings_dir)
    except ConfigError:
        return None
    entities = mappings.for_connector(connector)
    return entities[0].entity if entities else None


def migrate(ctx: typer.Context) -> None:
    """Bring the store's schema up to date (also done at every start)."""
    settings = settings_from(ctx)
    Store(settings.store_url).close()
    out.print(f"store is up to date: {settings.store_url.split('@')[-1]}")


def rollup(
    ctx: typer.Context,
    print_: Annotated[bool, typer.Option("--print", help="show the rollups as tables")] = True,
    publish: Annotated[bool, typer.Option("--publish", help="write the sheet now")] = False,
) -> None:
    """Compute the consolidated producer sheet from the store; show it, or write it."""
    from syncd.rollups.terminal import print_rollups

    service = _service(ctx, schedule=False)
    try:
        if service.rollups is None:
            fail(
                f"no Sheets connector {service.settings.rollup.connector!r} to compute for "
                "(see [rollup] connector in the config)"
            )
        rollups = service.rollups.compute()
        if print_:
            print_rollups(rollups, out)
        if publish:
            result = service.rollups.run(force=True)
            out.print(
                f"wrote {len(result.written)} tab(s) in one batch update "
                f"({result.requests} requests)"
            )
    finally:
        service.close()
