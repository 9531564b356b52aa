"""The example connector plugin, installed for real: found by its entry point, built from a
config table, its bad config refused naming the table, and a sync storing its records.

The plugin is installed with pip into a folder of its own and used from subprocesses whose
only extra path is that folder, as a third party's plugin would be; this process never
imports it from there. The walkthrough in docs/connectors/writing-a-connector.md is checked
against the plugin's files.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PLUGIN = Path(__file__).parent / "syncd_example_connector"
HARNESS = Path(__file__).parents[1] / "contract" / "harness_example.py"
GUIDE = Path(__file__).parents[2] / "docs" / "connectors" / "writing-a-connector.md"
CODE_BLOCK = re.compile(r"^```(python|toml)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the installed plugin (and its entry point), nothing else."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--no-build-isolation", "--target", str(target), str(PLUGIN)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return target


@pytest.fixture
def deployment(tmp_path: Path) -> Path:
    """A folder laid out like the plugin's example: config, tasks file and mapping."""
    for name in ("config.toml", "tasks.json"):
        shutil.copy(PLUGIN / name, tmp_path / name)
    shutil.copytree(PLUGIN / "mappings", tmp_path / "mappings")
    return tmp_path


def _run(site: Path, cwd: Path, *args: str) -> str:
    """A syncd-side subprocess that sees the installed plugin; its stdout."""
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _python(site: Path, cwd: Path, code: str) -> object:
    """Run `code` (which prints one JSON value) against the installed plugin."""
    return json.loads(_run(site, cwd, "-c", textwrap.dedent(code)).strip().splitlines()[-1])


@pytest.mark.slow
def test_the_registry_finds_and_builds_the_installed_plugin(site: Path, deployment: Path) -> None:
    found = _python(
        site,
        deployment,
        """
        import json
        from syncd.registry import build_connector, connector_classes
        import syncd_example_connector

        cls = connector_classes()["example"]
        connector = build_connector("example", {"kind": "example", "path": "tasks.json"})
        pulled = [r for b in connector.pull("tasks", None, fields=[]) for r in b.records]
        print(json.dumps({
            "class": f"{cls.__module__}.{cls.__qualname__}",
            "installed_at": syncd_example_connector.__file__,
            "name": connector.name,
            "ids": [r.external_id for r in pulled],
            "problems": [[r.row, r.problem] for r in pulled if r.problem],
        }))
        """,
    )
    assert found == {
        "class": "syncd_example_connector.connector.JsonFileConnector",
        "installed_at": str(site / "syncd_example_connector" / "__init__.py"),
        "name": "example",
        "ids": ["T-1", "T-2", None, "T-3"],
        "problems": [[3, "the item has no id"]],
    }


@pytest.mark.slow
def test_bad_config_is_refused_naming_the_table(site: Path, deployment: Path) -> None:
    problems = _python(
        site,
        deployment,
        """
        import json
        from syncd.errors import ConfigError
        from syncd.registry import build_connector

        try:
            build_connector("todo", {"kind": "example", "page_size": 0, "colour": "red"})
        except ConfigError as exc:
            print(json.dumps(sorted(p.where for p in exc.problems)))
        """,
    )
    assert problems == [
        "[connectors.todo] colour",
        "[connectors.todo] page_size",
        "[connectors.todo] path",
    ]


@pytest.mark.slow
def test_a_sync_stores_the_plugins_records(site: Path, deployment: Path) -> None:
    checked = _run(site, deployment, "-m", "syncd", "-c", "config.toml", "mappings", "validate")
    assert checked.startswith("ok: mappings/example.toml") and "warning" not in checked
    _run(site, deployment, "-m", "syncd", "-c", "config.toml", "sync", "--once")
    with sqlite3.connect(deployment / "syncd.sqlite3") as db:
        links = db.execute(
            "SELECT l.external_id, r.kind, r.fields FROM links l"
            " JOIN records r ON r.id = l.record_id"
            " WHERE l.connector = 'example' AND l.entity = 'tasks' ORDER BY l.external_id"
        ).fetchall()
        errors = db.execute(
            "SELECT location, message FROM source_errors WHERE connector = 'example'"
        ).fetchall()
    stored = {ext: (kind, json.loads(fields)) for ext, kind, fields in links}
    assert {ext: (kind, f["title"], f["status"]) for ext, (kind, f) in stored.items()} == {
        "T-1": ("task", "Model the hero", "in_progress"),
        "T-2": ("task", "Rig the hero", "todo"),
        "T-3": ("task", "Light the set", "done"),
    }
    assert errors == [("tasks row 3", "the item has no id")]


def test_the_guide_shows_the_plugins_own_code() -> None:
    sources = [
        p.read_text() for p in PLUGIN.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    ]
    sources.append(HARNESS.read_text())
    blocks = [body for _, body in CODE_BLOCK.findall(GUIDE.read_text())]
    assert len(blocks) >= 6
    for block in blocks:
        assert any(block in source for source in sources), f"not in the plugin:\n{block}"
