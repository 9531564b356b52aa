"""One cell: what was entered (string, number, bool or formula), its format, note and validation.

Cells are immutable; edits replace them. `CellData` JSON (the API's shape) goes in and out
through `cell_from_data` / `Cell.to_data`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

EnteredKind = Literal["string", "number", "bool", "formula"]
_JSON_KEYS: dict[EnteredKind, str] = {
    "string": "stringValue",
    "number": "numberValue",
    "bool": "boolValue",
    "formula": "formulaValue",
}
Scalar = str | float | bool


@dataclass(frozen=True, slots=True)
class Entered:
    """A cell's userEnteredValue: one of string, number, bool or formula (text starting '=')."""

    kind: EnteredKind
    value: Scalar

    def to_json(self) -> dict[str, Any]:
        """The ExtendedValue JSON, e.g. {"numberValue": 1200.5}."""
        return {
            _JSON_KEYS[self.kind]: json_number(self.value) if self.kind == "number" else self.value
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Entered | None:
        """Read an ExtendedValue; None for an empty object. Raises ValueError when malformed."""
        present = [kind for kind, key in _JSON_KEYS.items() if key in data]
        extra = set(data) - set(_JSON_KEYS.values())
        if extra or len(present) > 1:
            raise ValueError(f"invalid ExtendedValue {data!r}")
        if not present:
            return None
        kind = present[0]
        value = data[_JSON_KEYS[kind]]
        if kind == "number":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"numberValue must be a number, got {value!r}")
            return cls("number", float(value))
        if kind == "bool":
            if not isinstance(value, bool):
                raise ValueError(f"boolValue must be a boolean, got {value!r}")
            return cls("bool", value)
        if not isinstance(value, str):
            raise ValueError(f"{_JSON_KEYS[kind]} must be a string, got {value!r}")
        return cls(kind, value)


def json_number(value: Scalar) -> Scalar:
    """Whole floats as ints, the way Google's JSON prints them (1200, not 1200.0)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


@dataclass(frozen=True, slots=True)
class Cell:
    """One grid cell. Every field optional; a cell with none of them is not stored."""

    entered: Entered | None = None
    fmt: dict[str, Any] | None = None  # userEnteredFormat (never mutated in place)
    note: str | None = None
    validation: dict[str, Any] | None = None  # dataValidation rule

    @property
    def is_blank(self) -> bool:
        """True when nothing at all is set (value, format, note, validation)."""
        return self.entered is None and not self.fmt and not self.note and not self.validation

    @property
    def number_format(self) -> dict[str, Any] | None:
        """userEnteredFormat.numberFormat, if any."""
        fmt = self.fmt or {}
        number_format = fmt.get("numberFormat")
        return number_format if isinstance(number_format, dict) else None

    def with_value(self, entered: Entered | None) -> Cell:
        """The same cell holding another value (format kept)."""
        return replace(self, entered=entered)

    def editable_data(self) -> dict[str, Any]:
        """The writable CellData fields, for FieldMask updates."""
        data: dict[str, Any] = {}
        if self.entered is not None:
            data["userEnteredValue"] = self.entered.to_json()
        if self.fmt:
            data["userEnteredFormat"] = self.fmt
        if self.note:
            data["note"] = self.note
        if self.validation:
            data["dataValidation"] = self.validation
        return data


def cell_from_data(data: dict[str, Any]) -> Cell:
    """Build a cell from writable CellData fields; raises ValueError when malformed."""
    value = data.get("userEnteredValue")
    entered = Entered.from_json(value) if isinstance(value, dict) else None
    if value is not None and not isinstance(value, dict):
        raise ValueError("userEnteredValue must be an object")
    fmt = data.get("userEnteredFormat")
    note = data.get("note")
    validation = data.get("dataValidation")
    if fmt is not None and not isinstance(fmt, dict):
        raise ValueError("userEnteredFormat must be an object")
    if validation is not None and not isinstance(validation, dict):
        raise ValueError("dataValidation must be an object")
    if note is not None and not isinstance(note, str):
        raise ValueError("note must be a string")
    return Cell(entered, fmt or None, note or None, validation or None)
