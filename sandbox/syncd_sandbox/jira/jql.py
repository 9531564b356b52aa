"""A JQL tokenizer and parser for the subset syncd sends.

Grammar (keywords case-insensitive):

    query   := [where] [ORDER BY sort ("," sort)*] EOF
    where   := term (AND term)*
    term    := "(" where ")" | clause
    clause  := field operator operand
    operand := value | "(" value ("," value)* ")"
    sort    := field [ASC | DESC]

`OR`, `NOT`, functions and `IS [NOT] EMPTY` are valid JQL the sandbox does not evaluate: they
are refused with a 400 that says so. Syntax errors use Jira's wording and position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

TokenKind = Literal["word", "string", "op", "(", ")", ",", "end"]
OPERATORS = ("!=", ">=", "<=", "!~", "=", ">", "<", "~")
KEYWORDS = frozenset(
    {"and", "or", "not", "in", "is", "order", "by", "asc", "desc", "empty", "null"}
)
_VALID_OPERATORS = "'=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'"
_WORD = re.compile(r"[^\s\"'(),=!<>~]+")


class JqlError(ValueError):
    """A JQL query Jira (or the sandbox) refuses; `str()` is the message Jira answers."""


@dataclass(frozen=True, slots=True)
class Token:
    """One lexeme and its 1-based character position."""

    kind: TokenKind
    text: str
    position: int

    def keyword(self) -> str | None:
        """The lower-cased keyword this unquoted word is, if it is one."""
        folded = self.text.casefold()
        return folded if self.kind == "word" and folded in KEYWORDS else None


@dataclass(frozen=True, slots=True)
class Clause:
    """`field operator values`; `values` holds one value unless the operator is (NOT) IN."""

    field: str
    operator: str
    values: tuple[str, ...]
    position: int


@dataclass(frozen=True, slots=True)
class Sort:
    """One ORDER BY element; `descending` is None when no direction was written."""

    field: str
    descending: bool | None


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query: clauses joined by AND, then the ORDER BY list (None when absent)."""

    clauses: tuple[Clause, ...]
    order: tuple[Sort, ...] | None


def _syntax(message: str, position: int | None = None) -> JqlError:
    where = f" (line 1, character {position})" if position is not None else ""
    return JqlError(f"Error in the JQL Query: {message}{where}")


def tokenize(text: str) -> list[Token]:
    """Split JQL into tokens; JqlError for an unterminated quoted string."""
    tokens: list[Token] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char.isspace():
            index += 1
        elif char in "\"'":
            value, end = _quoted(text, index)
            tokens.append(Token("string", value, index + 1))
            index = end
        elif char in "(),":
            tokens.append(Token(char, char, index + 1))  # type: ignore[arg-type]
            index += 1
        elif operator := next((op for op in OPERATORS if text.startswith(op, index)), None):
            tokens.append(Token("op", operator, index + 1))
            index += len(operator)
        else:
            match = _WORD.match(text, index)
            if match is None:
                raise _syntax(f"The character '{char}' is a reserved JQL character.", index + 1)
            tokens.append(Token("word", match.group(), index + 1))
            index = match.end()
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


def _quoted(text: str, start: int) -> tuple[str, int]:
    quote, index, out = text[start], start + 1, []
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            out.append(text[index + 1])
            index += 2
        elif char == quote:
            return "".join(out), index + 1
        else:
            out.append(char)
            index += 1
    raise _syntax(f"The quoted string '{text[start + 1 :]}' has not been completed.", start + 1)


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens, self.index = tokens, 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def at(self, kind: TokenKind) -> bool:
        """Whether the current token is of `kind` (a call, so type checkers do not narrow it)."""
        return self.tokens[self.index].kind == kind

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def parse(self) -> Query:
        clauses: list[Clause] = []
        if not self.at("end") and self.current.keyword() != "order":
            self._where(clauses, depth=0)
        order = self._order() if self.current.keyword() == "order" else None
        if not self.at("end"):
            raise self._unexpected("Expecting either 'OR' or 'AND'")
        return Query(tuple(clauses), order)

    def _unexpected(self, expecting: str) -> JqlError:
        token = self.current
        if token.kind == "end":
            return _syntax(f"{expecting} but reached the end of the query.")
        return _syntax(f"{expecting} but got '{token.text}'.", token.position)

    def _where(self, clauses: list[Clause], depth: int) -> None:
        self._term(clauses, depth)
        while True:
            keyword = self.current.keyword()
            if keyword == "and":
                self.advance()
                self._term(clauses, depth)
            elif keyword == "or":
                raise _unsupported("the OR operator", self.current.position)
            else:
                return

    def _term(self, clauses: list[Clause], depth: int) -> None:
        token = self.current
        if token.kind == "(":
            self.advance()
            self._where(clauses, depth + 1)
            if not self.at(")"):
                raise self._unexpected("Expecting ')'")
            self.advance()
        elif token.keyword() == "not":
            raise _unsupported("the NOT operator", token.position)
        else:
            clauses.append(self._clause())

    def _field(self) -> Token:
        token = self.current
        if token.kind == "string" or (token.kind == "word" and token.keyword() is None):
            return self.advance()
        raise self._unexpected("Expecting a field name")

    def _clause(self) -> Clause:
        field = self._field()
        operator = self._operator()
        values = self._list() if operator in ("in", "not in") else (self._value(),)
        return Clause(field.text, operator, values, field.position)

    def _operator(self) -> str:
        token = self.current
        if token.kind == "op":
            self.advance()
            return token.text
        keyword = token.keyword()
        if keyword == "in":
            self.advance()
            return "in"
        if keyword == "not" and self.tokens[self.index + 1].keyword() == "in":
            self.index += 2
            return "not in"
        if keyword == "is":
            raise _unsupported("the IS operator", token.position)
        got = "the end of the query" if token.kind == "end" else f"'{token.text}'"
        raise _syntax(
            f"Expecting operator but got {got}. The valid operators are {_VALID_OPERATORS}.",
            token.position,
        )

    def _value(self) -> str:
        token = self.current
        if token.kind == "string":
            return self.advance().text
        if token.kind == "word" and token.keyword() is None:
            self.advance()
            if self.at("("):
                raise _unsupported(f"the function '{token.text}()'", token.position)
            return token.text
        if token.kind == "word":
            raise _syntax(
                f"Expecting either a value, list or function but got '{token.text}'. You must "
                f"surround '{token.text}' in quotation marks to use it as a value.",
                token.position,
            )
        raise self._unexpected("Expecting either a value, list or function")

    def _list(self) -> tuple[str, ...]:
        if not self.at("("):
            raise self._unexpected("Expecting '('")
        self.advance()
        values = [self._value()]
        while self.at(","):
            self.advance()
            values.append(self._value())
        if not self.at(")"):
            raise self._unexpected("Expecting ')'")
        self.advance()
        return tuple(values)

    def _order(self) -> tuple[Sort, ...]:
        self.advance()
        if self.current.keyword() != "by":
            raise self._unexpected("Expecting 'by'")
        self.advance()
        sorts = [self._sort()]
        while self.at(","):
            self.advance()
            sorts.append(self._sort())
        return tuple(sorts)

    def _sort(self) -> Sort:
        field = self._field()
        keyword = self.current.keyword()
        if keyword in ("asc", "desc"):
            self.advance()
            return Sort(field.text, keyword == "desc")
        return Sort(field.text, None)


def _unsupported(what: str, position: int) -> JqlError:
    return _syntax(f"The Jira sandbox does not evaluate {what}.", position)


def parse(text: str) -> Query:
    """Parse a JQL query; JqlError carries Jira's message for a malformed one."""
    return _Parser(tokenize(text)).parse()
