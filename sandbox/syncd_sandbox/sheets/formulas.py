"""A tiny formula evaluator, so FORMATTED_VALUE of `=SUM(C2:C9)` shows a number as in Sheets.

Supported: numbers, "strings", TRUE/FALSE, references (`A1`, `$B$2`, `A1:C9`, `A:A`, `2:2`,
`A2:A`, `Other!A1`, `'Q1 Budget'!B2:B9`), error literals (`#REF!`, left where a reference
was deleted), operators `+ - * / ^ & = <> < > <= >=` and postfix `%`,
and the functions in `formula_functions.FUNCTIONS`. Anything else evaluates to an error
value (`#NAME?`, `#ERROR!`), which is also what Sheets shows for a formula it cannot compute.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from syncd_sandbox.sheets.a1 import A1Error, Bounds, parse_cells
from syncd_sandbox.sheets.formula_functions import FUNCTIONS
from syncd_sandbox.sheets.formula_tokens import Token, split_sheet, tokenize
from syncd_sandbox.sheets.formula_values import (
    DIV0,
    NA,
    NAME,
    PARSE,
    REF,
    VALUE,
    Area,
    CellError,
    Value,
    compare,
    scalar,
    to_number,
    to_text,
)

__all__ = ["REF", "Area", "CellError", "Resolver", "Value", "evaluate"]


class Resolver(Protocol):
    """Reads cells for the evaluator; `sheet` None means the formula's own sheet."""

    def area(self, sheet: str | None, bounds: Bounds) -> Area | CellError:
        """Effective values of a range clamped to the grid, or #REF! for an unknown sheet."""
        ...


class _ParseError(Exception):
    pass


_ERRORS = {e.code: e for e in (DIV0, NAME, PARSE, REF, VALUE, NA)}


def _tokenize(text: str) -> list[Token]:
    tokens = []
    for token in tokenize(text):
        if token.kind == "ws":
            continue
        if token.kind == "other":
            raise _ParseError(token.text)
        if token.kind == "func":
            token = Token("func", token.text, token.value.upper())
        tokens.append(token)
    return tokens


@dataclass(frozen=True, slots=True)
class _Val:
    value: Value


@dataclass(frozen=True, slots=True)
class _Ref:
    sheet: str | None
    bounds: Bounds


@dataclass(frozen=True, slots=True)
class _Unary:
    op: str  # "neg" or "pct"
    operand: Node


@dataclass(frozen=True, slots=True)
class _Bin:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class _Call:
    name: str
    args: tuple[Node, ...]


Node = _Val | _Ref | _Unary | _Bin | _Call


class _Parser:
    """Recursive descent over the token list, producing tuples (the AST)."""

    _LEVELS: list[tuple[str, ...]] = [
        ("=", "<>", "<", ">", "<=", ">="),
        ("&",),
        ("+", "-"),
        ("*", "/"),
        ("^",),
    ]

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens, self.pos = tokens, 0

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise _ParseError("unexpected end")
        self.pos += 1
        return token

    def expect(self, text: str) -> None:
        token = self.take()
        if token.kind != "op" or token.text != text:
            raise _ParseError(f"expected {text}")

    def parse(self) -> Node:
        node = self.binary(0)
        if self.peek() is not None:
            raise _ParseError("trailing tokens")
        return node

    def binary(self, level: int) -> Node:
        if level == len(self._LEVELS):
            return self.unary()
        node = self.binary(level + 1)
        while (token := self.peek()) and token.kind == "op" and token.text in self._LEVELS[level]:
            self.pos += 1
            node = _Bin(token.text, node, self.binary(level + 1))
        return node

    def unary(self) -> Node:
        token = self.peek()
        if token and token.kind == "op" and token.text in "+-":
            self.pos += 1
            operand = self.unary()
            return _Unary("neg", operand) if token.text == "-" else operand
        node = self.primary()
        while (token := self.peek()) and token.kind == "op" and token.text == "%":
            self.pos += 1
            node = _Unary("pct", node)
        return node

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "num":
            return _Val(float(token.text))
        if token.kind == "str":
            return _Val(token.text[1:-1].replace('""', '"'))
        if token.kind == "name":
            if token.text.upper() in ("TRUE", "FALSE"):
                return _Val(token.text.upper() == "TRUE")
            return _Val(NAME)
        if token.kind == "ref":
            return _reference(token.text)
        if token.kind == "err":
            return _Val(_ERRORS.get(token.text, PARSE))
        if token.kind == "func":
            args: list[Node] = []
            if not _is_op(self.peek(), ")"):
                args.append(self.binary(0))
                while _is_op(self.peek(), ","):
                    self.pos += 1
                    args.append(self.binary(0))
            self.expect(")")
            return _Call(token.value, tuple(args))
        if token.kind == "op" and token.text == "(":
            node = self.binary(0)
            self.expect(")")
            return node
        raise _ParseError(token.text)


def _is_op(token: Token | None, text: str) -> bool:
    return token is not None and token.kind == "op" and token.text == text


def _reference(ref: str) -> Node:
    sheet, text = split_sheet(ref)
    try:
        bounds = parse_cells(text.replace("$", ""))
    except A1Error as exc:
        raise _ParseError(text) from exc
    return _Ref(sheet, bounds)


def evaluate(formula: str, resolver: Resolver) -> Value:
    """Compute a formula (with its leading '=') to one value; never raises."""
    try:
        node = _Parser(_tokenize(formula.removeprefix("="))).parse()
    except (_ParseError, ValueError):
        return PARSE
    try:
        result = _eval(node, resolver)
    except RecursionError:
        return REF
    if isinstance(result, list):
        return result[0][0] if result and result[0] else None
    return result


def _eval(node: Node, resolver: Resolver) -> Value | Area:
    if isinstance(node, _Val):
        return node.value
    if isinstance(node, _Ref):
        return resolver.area(node.sheet, node.bounds)
    if isinstance(node, _Unary):
        value = to_number(scalar(_eval(node.operand, resolver)))
        if isinstance(value, CellError):
            return value
        return -value if node.op == "neg" else value / 100
    if isinstance(node, _Bin):
        left = scalar(_eval(node.left, resolver))
        right = scalar(_eval(node.right, resolver))
        return _binary(node.op, left, right)
    function = FUNCTIONS.get(node.name)
    if function is None:
        return NAME
    return function([_eval(arg, resolver) for arg in node.args])


def _binary(op: str, left: Value, right: Value) -> Value:
    for side in (left, right):
        if isinstance(side, CellError):
            return side
    if op == "&":
        return f"{to_text(left)}{to_text(right)}"
    if op in ("=", "<>", "<", ">", "<=", ">="):
        return compare(op, left, right)
    a, b = to_number(left), to_number(right)
    if isinstance(a, CellError):
        return a
    if isinstance(b, CellError):
        return b
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return DIV0 if b == 0 else a / b
    try:
        return float(a**b)
    except (OverflowError, ZeroDivisionError):
        return DIV0
