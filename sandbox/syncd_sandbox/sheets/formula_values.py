"""Formula values: the error values (`#DIV/0!`...) and Sheets' coercion and ordering rules."""

from __future__ import annotations

from dataclasses import dataclass

from syncd_sandbox.sheets.number_format import general_number


@dataclass(frozen=True, slots=True)
class CellError:
    """An error value such as `#DIV/0!`; `kind` is the API's ErrorType."""

    code: str
    kind: str
    message: str = ""


DIV0 = CellError("#DIV/0!", "DIVIDE_BY_ZERO", "Function DIVIDE parameter 2 cannot be zero.")
VALUE = CellError("#VALUE!", "VALUE", "Function expects a number value.")
NAME = CellError("#NAME?", "NAME", "Unknown function.")
REF = CellError("#REF!", "REF", "Reference does not exist or is circular.")
PARSE = CellError("#ERROR!", "ERROR", "Formula parse error.")
NA = CellError("#N/A", "N_A", "Value not available.")

Value = float | str | bool | None | CellError
Area = list[list[Value]]


def scalar(value: Value | Area) -> Value:
    """A range used where one value is expected: its top-left cell."""
    if isinstance(value, list):
        return value[0][0] if value and value[0] else None
    return value


def to_number(value: Value) -> float | CellError:
    """Sheets' number coercion: blank 0, TRUE 1, numeric text parsed, other text #VALUE!."""
    if isinstance(value, CellError):
        return value
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float):
        return value
    try:
        return float(value.replace(",", "")) if value.strip() else 0.0
    except ValueError:
        return VALUE


def to_text(value: Value) -> str | CellError:
    """Sheets' text coercion (numbers in the automatic format)."""
    if isinstance(value, CellError):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return general_number(value)
    return value


def sort_key(value: Value) -> tuple[int, float | str]:
    """Ordering across types: numbers < text < booleans; blank sorts as 0."""
    if value is None:
        return (0, 0.0)
    if isinstance(value, bool):
        return (2, float(value))
    if isinstance(value, float):
        return (0, value)
    return (1, str(value).lower())


def compare(op: str, left: Value, right: Value) -> bool:
    """Evaluate a comparison operator the way Sheets orders values."""
    if left is None and isinstance(right, str):
        left = ""
    if right is None and isinstance(left, str):
        right = ""
    a, b = sort_key(left), sort_key(right)
    return {
        "=": a == b,
        "<>": a != b,
        "<": a < b,
        ">": a > b,
        "<=": a <= b,
        ">=": a >= b,
    }[op]
