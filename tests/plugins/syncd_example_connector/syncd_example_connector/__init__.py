"""An example syncd connector plugin: tasks kept in a JSON file."""

from syncd_example_connector.connector import JsonFileConfig, JsonFileConnector

__all__ = ["JsonFileConfig", "JsonFileConnector"]
