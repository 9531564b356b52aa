"""Contract harness for the example connector plugin (tests/plugins): tasks in a JSON file.

The tool is a local file, so the harness is what a third-party author writes first: seed a
few pages' worth of items, edit one as a person would, say what a push looks like read back.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from syncd_example_connector import JsonFileConfig, JsonFileConnector

from syncd.connector import ConnectorClass, PushItem, SourceRecord
from tests.contract.harness import ContractHarness

# mypy checks the plugin against both sides of the contract: the class, and its instances.
CONTRACT: ConnectorClass[JsonFileConfig] = JsonFileConnector

TASKS = 23  # with PAGE_SIZE 10: three batches, the last one short
PAGE_SIZE = 10


class ExampleHarness:
    """A JSON file of tasks in a temporary folder, and a connector over it."""

    name = "example"
    entity = "tasks"

    def __init__(self) -> None:
        self._folder: Path | None = None
        self._connector: JsonFileConnector | None = None

    @property
    def path(self) -> Path:
        """The tool's file."""
        assert self._folder is not None, "start() first"
        return self._folder / "tasks.json"

    def start(self) -> None:
        """Write the file with its tasks."""
        self._folder = Path(tempfile.mkdtemp(prefix="syncd-example-"))
        tasks = [
            {"id": f"T-{n}", "title": f"Task {n}", "status": "open"} for n in range(1, TASKS + 1)
        ]
        self._write({self.entity: tasks})
        config = JsonFileConfig(path=self.path, page_size=PAGE_SIZE)
        self._connector = JsonFileConnector.from_config(self.name, config)

    def stop(self) -> None:
        """Close the connector and remove the folder."""
        if self._connector is not None:
            self._connector.close()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)

    def connector(self) -> JsonFileConnector:
        """The connector over the file."""
        assert self._connector is not None, "start() first"
        return self._connector

    def expected_ids(self) -> set[str]:
        """The ids of every task in the file now."""
        return {str(item["id"]) for item in self._read()[self.entity]}

    def id_of(self, record: SourceRecord) -> str:
        """The id the connector gave the record."""
        assert record.external_id is not None
        return record.external_id

    def edit_as_person(self, external_id: str) -> None:
        """Retitle a task, as someone editing the file would."""
        content = self._read()
        for item in content[self.entity]:
            if item["id"] == external_id:
                item["title"] = f"{item['title']} (edited)"
        self._write(content)

    def push_item(self, external_id: str) -> tuple[PushItem, Callable[[SourceRecord], bool]]:
        """A status change, and a check that a fetched task shows it."""
        item = PushItem(external_id=external_id, payload={"status": "done"})

        def shows_it(record: SourceRecord) -> bool:
            return record.data.get("status") == "done"

        return item, shows_it

    def webhook(self, external_id: str) -> tuple[dict[str, str], bytes]:
        """Never called: the connector does not declare `Capability.WEBHOOK`."""
        raise AssertionError(f"a JSON file sends no webhooks (asked for {external_id})")

    def _read(self) -> dict[str, list[dict[str, Any]]]:
        content: dict[str, list[dict[str, Any]]] = json.loads(self.path.read_text())
        return content

    def _write(self, content: dict[str, list[dict[str, Any]]]) -> None:
        self.path.write_text(json.dumps(content, indent=2))


def make_harness() -> ContractHarness:
    """The harness the contract suite discovers."""
    return ExampleHarness()
