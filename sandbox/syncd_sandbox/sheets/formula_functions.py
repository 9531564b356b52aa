"""The spreadsheet functions the sandbox's formula evaluator knows (`SUM`, `IF`, `SUMIF`...)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from syncd_sandbox.sheets.formula_values import (
    DIV0,
    NA,
    VALUE,
    Area,
    CellError,
    Value,
    compare,
    scalar,
    to_number,
    to_text,
)

Function = Callable[[list[Value | Area]], Value]


def _flat(args: list[Value | Area]) -> Iterator[tuple[Value, bool]]:
    """Every value with a flag: True when it came from a range (where text is skipped)."""
    for arg in args:
        if isinstance(arg, list):
            for row in arg:
                for value in row:
                    yield value, True
        else:
            yield arg, False


def _numbers(args: list[Value | Area]) -> list[float] | CellError:
    numbers: list[float] = []
    for value, from_range in _flat(args):
        if isinstance(value, CellError):
            return value
        if from_range and not isinstance(value, float):
            continue  # ranges contribute numbers only
        number = to_number(value)
        if isinstance(number, CellError):
            return number
        numbers.append(number)
    return numbers


def _aggregate(reduce: Callable[[list[float]], Value]) -> Callable[[list[Value | Area]], Value]:
    def function(args: list[Value | Area]) -> Value:
        numbers = _numbers(args)
        return numbers if isinstance(numbers, CellError) else reduce(numbers)

    return function


def _average(numbers: list[float]) -> Value:
    return sum(numbers) / len(numbers) if numbers else DIV0


def _if(args: list[Value | Area]) -> Value:
    if not 2 <= len(args) <= 3:
        return NA
    condition = scalar(args[0])
    if isinstance(condition, CellError):
        return condition
    truthy = condition if isinstance(condition, bool) else to_number(condition) not in (0.0, VALUE)
    chosen = args[1] if truthy else (args[2] if len(args) == 3 else False)
    return scalar(chosen)


def _iferror(args: list[Value | Area]) -> Value:
    value = scalar(args[0]) if args else None
    if isinstance(value, CellError):
        return scalar(args[1]) if len(args) > 1 else ""
    return value


def _round(args: list[Value | Area]) -> Value:
    value = to_number(scalar(args[0])) if args else VALUE
    places = to_number(scalar(args[1])) if len(args) > 1 else 0.0
    if isinstance(value, CellError):
        return value
    if isinstance(places, CellError):
        return places
    return float(round(value, int(places)))


def _matches(criterion: Value) -> Callable[[Value], bool]:
    if isinstance(criterion, str):
        match = re.match(r"^(<=|>=|<>|=|<|>)?(.*)$", criterion, re.DOTALL)
        op, operand = (match.group(1) or "=", match.group(2)) if match else ("=", criterion)
        number = to_number(operand)
        target: Value = operand if isinstance(number, CellError) or not operand else number
    else:
        op, target = "=", criterion

    def test(value: Value) -> bool:
        if isinstance(value, CellError):
            return False
        if isinstance(target, float) and isinstance(value, str):
            return False
        return compare(op, value, target)

    return test


def _conditional(args: list[Value | Area], *, total: bool) -> Value:
    if len(args) < 2 or not isinstance(args[0], list):
        return VALUE
    test = _matches(scalar(args[1]))
    source = args[0]
    summed = args[2] if total and len(args) > 2 and isinstance(args[2], list) else source
    result = 0.0
    for r, row in enumerate(source):
        for c, value in enumerate(row):
            if not test(value):
                continue
            if not total:
                result += 1
                continue
            cell = summed[r][c] if r < len(summed) and c < len(summed[r]) else None
            if isinstance(cell, float):
                result += cell
    return result


def _concat(args: list[Value | Area]) -> Value:
    parts = [to_text(value) for value, _ in _flat(args)]
    for part in parts:
        if isinstance(part, CellError):
            return part
    return "".join(str(part) for part in parts)


def _text_function(transform: Callable[[str], Value]) -> Callable[[list[Value | Area]], Value]:
    def function(args: list[Value | Area]) -> Value:
        text = to_text(scalar(args[0])) if args else ""
        return text if isinstance(text, CellError) else transform(text)

    return function


def _logical(combine: Callable[[list[bool]], bool]) -> Callable[[list[Value | Area]], Value]:
    def function(args: list[Value | Area]) -> Value:
        values: list[bool] = []
        for value, _ in _flat(args):
            if isinstance(value, CellError):
                return value
            if value is None or isinstance(value, str):
                continue
            values.append(bool(value))
        return combine(values) if values else VALUE

    return function


def _not(args: list[Value | Area]) -> Value:
    value = to_number(scalar(args[0])) if args else VALUE
    return value if isinstance(value, CellError) else value == 0


FUNCTIONS: dict[str, Function] = {
    "SUM": _aggregate(lambda n: float(sum(n))),
    "AVERAGE": _aggregate(_average),
    "MIN": _aggregate(lambda n: min(n) if n else 0.0),
    "MAX": _aggregate(lambda n: max(n) if n else 0.0),
    "COUNT": lambda args: float(sum(1 for v, _ in _flat(args) if isinstance(v, float))),
    "COUNTA": lambda args: float(sum(1 for v, _ in _flat(args) if v is not None and v != "")),
    "IF": _if,
    "IFERROR": _iferror,
    "ROUND": _round,
    "ABS": _aggregate(lambda n: abs(n[0]) if n else VALUE),
    "SUMIF": lambda args: _conditional(args, total=True),
    "COUNTIF": lambda args: _conditional(args, total=False),
    "CONCATENATE": _concat,
    "LEN": _text_function(lambda s: float(len(s))),
    "UPPER": _text_function(str.upper),
    "LOWER": _text_function(str.lower),
    "TRIM": _text_function(lambda s: " ".join(s.split())),
    "AND": _logical(all),
    "OR": _logical(any),
    "NOT": _not,
}
