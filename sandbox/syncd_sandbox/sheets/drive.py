"""The Drive v3 side of spreadsheets: file resources, the `q` search gspread sends, permissions.

Only what gspread 6.2.1 uses is emulated: `files.list` (its `open(title)`, `openall()`,
`list_spreadsheet_files()`), `files.get` (creation and modification times), `files.create`
and `files.copy` of Google Sheets, and `permissions` create/list/delete (`share`,
`list_permissions`, `remove_permissions`). Every file is a spreadsheet; there are no folders.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from syncd_sandbox.sheets.state import Spreadsheet

SPREADSHEET_MIME = "application/vnd.google-apps.spreadsheet"
ROOT_FOLDER = "root"
ROLES = ("owner", "organizer", "fileOrganizer", "writer", "commenter", "reader")
PERMISSION_TYPES = ("user", "group", "domain", "anyone")
# What Drive v3 answers when the request names no `fields`.
DEFAULT_FILE_FIELDS = ("kind", "id", "name", "mimeType")
DEFAULT_PERMISSION_FIELDS = ("kind", "id", "type", "role")


def drive_time(moment: datetime) -> str:
    """RFC 3339 in UTC with milliseconds, as Drive prints times: 2025-01-31T09:30:00.000Z."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class DriveQueryError(ValueError):
    """A `q` the sandbox cannot read (Drive answers 400 Invalid Value)."""


def file_resource(spreadsheet: Spreadsheet) -> dict[str, Any]:
    """The File resource with every field the sandbox knows."""
    return {
        "kind": "drive#file",
        "id": spreadsheet.spreadsheet_id,
        "name": spreadsheet.title,
        "mimeType": SPREADSHEET_MIME,
        "parents": [ROOT_FOLDER],
        "createdTime": spreadsheet.created_time,
        "modifiedTime": spreadsheet.modified_time,
        "trashed": False,
    }


def permission_id(kind: str, who: str | None, *, with_link: bool = False) -> str:
    """Stable ids shaped like Drive's: digits for accounts and domains, words for anyone."""
    if kind == "anyone":
        return "anyoneWithLink" if with_link else "anyone"
    digest = hashlib.sha256(f"{kind}:{(who or '').casefold()}".encode()).hexdigest()
    return str(int(digest[:16], 16)).rjust(20, "0")[:20]


def permissions(spreadsheet: Spreadsheet) -> list[dict[str, Any]]:
    """Every Permission resource of the file: the owner first, then accounts, then the rest."""
    users = sorted(spreadsheet.shared_with, key=lambda e: (e != spreadsheet.owner, e))
    listed = [
        {
            "kind": "drive#permission",
            "id": permission_id("user", email),
            "type": "user",
            "emailAddress": email,
            "role": spreadsheet.role(email),
            "deleted": False,
            "pendingOwner": False,
        }
        for email in users
    ]
    listed.extend(dict(p) for p in spreadsheet.other_permissions.values())
    return listed


# -- files.list `q` -----------------------------------------------------------------------------

_CLAUSE = re.compile(
    r"""\s*(?:
        (?P<field>mimeType|name|trashed)\s*(?P<op>=|!=|contains)\s*(?P<value>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|true|false)
      | (?P<parent>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\s+in\s+parents
      | parents\s+in\s+(?P<parent2>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    )\s*""",
    re.VERBOSE,
)
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)

Match = Callable[[dict[str, Any]], bool]


@dataclass(frozen=True, slots=True)
class DriveQuery:
    """A parsed `q`: every clause must hold (`and` is the only connective emulated)."""

    clauses: tuple[Match, ...]

    def matches(self, resource: dict[str, Any]) -> bool:
        """True when the file resource satisfies every clause."""
        return all(clause(resource) for clause in self.clauses)


def _literal(text: str) -> str | bool:
    if text in ("true", "false"):
        return text == "true"
    return re.sub(r"\\(.)", r"\1", text[1:-1])


def parse_query(q: str) -> DriveQuery:
    """Parse the subset of Drive's query language gspread sends; DriveQueryError otherwise."""
    clauses: list[Match] = []
    if not q.strip():
        return DriveQuery(())
    for part in _AND.split(q.strip()):
        match = _CLAUSE.fullmatch(part)
        if match is None:
            raise DriveQueryError(part)
        parent = match.group("parent") or match.group("parent2")
        if parent is not None:
            clauses.append(_in_parents(_literal(parent)))
            continue
        field, op, value = match.group("field"), match.group("op"), _literal(match.group("value"))
        clauses.append(_clause(field, op, value))
    return DriveQuery(tuple(clauses))


def _in_parents(folder: str | bool) -> Match:
    return lambda r: folder in r["parents"]


def _clause(field: str, op: str, value: str | bool) -> Match:
    if field == "trashed":
        if op == "contains" or not isinstance(value, bool):
            raise DriveQueryError(f"trashed {op} {value}")
        return lambda r: (r["trashed"] == value) == (op == "=")
    if isinstance(value, bool) or (op == "contains" and field != "name"):
        raise DriveQueryError(f"{field} {op} {value}")
    if op == "contains":  # Drive matches name prefixes of words; a substring is close enough
        return lambda r: str(value).casefold() in str(r[field]).casefold()
    return lambda r: (r[field] == value) == (op == "=")
