"""Formula text cut into tokens without losing a character, for evaluating and for rewriting.

Joining the `text` of every token gives the formula back exactly, so the reference shifter
can change references and nothing else: string literals (`"A1"`), function names and
spacing come out as they went in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SHEET = r"(?:'(?:[^']|'')+'|[A-Za-z_][A-Za-z0-9_.]*)!"
_CELL = r"\$?[A-Za-z]{1,3}\$?[0-9]+"
_COL = r"\$?[A-Za-z]{1,3}"
_ROW = r"\$?[0-9]+"
ERROR_LITERALS = ("#REF!", "#N/A", "#DIV/0!", "#NAME?", "#VALUE!", "#NUM!", "#NULL!", "#ERROR!")

_TOKENS = re.compile(
    rf"""
    (?P<ws>\s+)
  | (?P<func>[A-Za-z_][A-Za-z0-9_.]*)\s*\(
  | (?P<ref>(?:{_SHEET})?
        (?:{_CELL}(?::(?:{_CELL}|{_COL}(?![0-9])))?|{_COL}:{_COL}|{_ROW}:{_ROW})
        (?![A-Za-z0-9_.(!]))
  | (?P<err>{"|".join(re.escape(e) for e in ERROR_LITERALS)})
  | (?P<num>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<str>"(?:[^"]|"")*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<op><=|>=|<>|[-+*/^&=<>%(),])
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its kind, its exact text, and its value (a function's name without `(`)."""

    kind: str  # ws, func, ref, err, num, str, name, op, other
    text: str
    value: str


def tokenize(text: str) -> list[Token]:
    """Every token of `text` in order; characters no rule knows come out as `other`."""
    tokens: list[Token] = []
    for match in _TOKENS.finditer(text):
        kind = match.lastgroup or "other"
        tokens.append(Token(kind, match.group(0), match.group(kind)))
    return tokens


def split_sheet(ref: str) -> tuple[str | None, str]:
    """`'It''s'!A1:B2` to (`It's`, `A1:B2`); no sheet part gives (None, ref)."""
    if ref.startswith("'"):
        end = 1
        while end < len(ref):
            if ref[end] == "'":
                if ref[end + 1 : end + 2] == "'":
                    end += 2
                    continue
                break
            end += 1
        return ref[1:end].replace("''", "'"), ref[end + 2 :]
    sheet, bang, cells = ref.partition("!")
    return (sheet, cells) if bang else (None, ref)
