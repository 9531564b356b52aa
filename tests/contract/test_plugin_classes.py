"""Every built-in connector follows both sides of the contract, checked by mypy and at run time."""

from __future__ import annotations

from connectors.jira import JiraConfig, JiraConnector
from connectors.memory import MemoryConfig, MemoryConnector
from connectors.sheets import SheetsConfig, SheetsConnector
from connectors.shotgrid import ShotGridConfig, ShotGridConnector
from syncd.connector import Capability, ConnectorClass, SpreadsheetApi
from syncd.registry import connector_classes

# mypy checks these assignments: a class that drifts from `ConnectorClass` (or whose
# `from_config` builds something that is not a `Connector`) fails type checking.
JIRA: ConnectorClass[JiraConfig] = JiraConnector
SHEETS: ConnectorClass[SheetsConfig] = SheetsConnector
SHOTGRID: ConnectorClass[ShotGridConfig] = ShotGridConnector
MEMORY: ConnectorClass[MemoryConfig] = MemoryConnector
# The one built-in that declares `Capability.SPREADSHEETS` offers what the rollups call.
SPREADSHEET_WRITER: type[SpreadsheetApi] = SheetsConnector


def test_the_registry_finds_every_built_in_connector_through_its_entry_point() -> None:
    found = connector_classes()
    assert found["jira"] is JIRA
    assert found["sheets"] is SHEETS
    assert found["shotgrid"] is SHOTGRID
    assert found["memory"] is MEMORY
    for kind, cls in found.items():
        assert cls.kind == kind


def test_only_spreadsheet_writers_declare_spreadsheets() -> None:
    writers = {
        kind
        for kind, cls in connector_classes().items()
        if Capability.SPREADSHEETS in cls.capabilities
    }
    assert writers == {"sheets"}
