"""Drive v3 routes gspread calls: files list/get/create/copy and permissions create/list/delete.

`local_http_client` sends `https://www.googleapis.com/drive/v3/...` here. The caller needs a
Drive scope (gspread asks for `drive` by default); a file the caller cannot see is a 404,
as Drive answers.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from syncd_sandbox.sheets.api_common import ApiBase, field_mask, flag, json_body
from syncd_sandbox.sheets.auth import SCOPE_PREFIX, Principal
from syncd_sandbox.sheets.drive import (
    DEFAULT_FILE_FIELDS,
    DEFAULT_PERMISSION_FIELDS,
    PERMISSION_TYPES,
    ROLES,
    ROOT_FOLDER,
    SPREADSHEET_MIME,
    DriveQueryError,
    drive_time,
    file_resource,
    parse_query,
    permission_id,
    permissions,
)
from syncd_sandbox.sheets.errors import SheetsApiError, drive_error
from syncd_sandbox.sheets.fieldmask import select
from syncd_sandbox.sheets.state import Spreadsheet

DRIVE_READ_SCOPES = frozenset(
    SCOPE_PREFIX + s
    for s in ("drive", "drive.readonly", "drive.file", "drive.metadata", "drive.metadata.readonly")
)
DRIVE_WRITE_SCOPES = frozenset(SCOPE_PREFIX + s for s in ("drive", "drive.file"))
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 100, 1000
FILE_KEYS = {"name", "mimeType", "parents", "description"}
PERMISSION_KEYS = {"type", "role", "emailAddress", "domain", "allowFileDiscovery", "withLink"}


def _scopes_error(method: str) -> SheetsApiError:
    error = drive_error(
        403, "Request had insufficient authentication scopes.", "insufficientPermissions"
    )
    error.errors = [
        {
            "message": "Insufficient Permission",
            "domain": "global",
            "reason": "insufficientPermissions",
        }
    ]
    error.details = [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
            "domain": "googleapis.com",
            "metadata": {"service": "drive.googleapis.com", "method": method},
        }
    ]
    return error


def _file_not_found(file_id: str) -> SheetsApiError:
    return drive_error(404, f"File not found: {file_id}.", "notFound", location="fileId")


def _invalid(location: str, message: str = "Invalid Value") -> SheetsApiError:
    return drive_error(400, message, "invalid", location=location)


def _cut(resource: dict[str, Any], fields: str | None, default: tuple[str, ...]) -> dict[str, Any]:
    if fields:
        selected: dict[str, Any] = select(resource, field_mask(fields))
        return selected
    return {k: resource[k] for k in default if k in resource}


class DriveApi(ApiBase):
    """The Drive v3 endpoints."""

    def _principal(self, request: Request, *, write: bool, method: str) -> Principal:
        principal = self.sandbox.auth.authenticate(request.headers.get("authorization"))
        if not principal.scopes & (DRIVE_WRITE_SCOPES if write else DRIVE_READ_SCOPES):
            raise _scopes_error(method)
        return principal

    def _file(self, principal: Principal, file_id: str, *, write: bool) -> Spreadsheet:
        spreadsheet = self.sandbox.spreadsheets.get(file_id)
        role = None if spreadsheet is None else spreadsheet.role(principal.email)
        if spreadsheet is None or role is None:
            raise _file_not_found(file_id)
        if write and role not in ("owner", "writer"):
            raise drive_error(
                403,
                "The user does not have sufficient permissions for this file.",
                "insufficientFilePermissions",
            )
        return spreadsheet

    async def list_files(self, request: Request) -> JSONResponse:
        """files.list: the caller's spreadsheets matching `q`, a page at a time."""
        params = request.query_params
        principal = self._principal(
            request, write=False, method="google.apps.drive.v3.DriveFiles.List"
        )
        try:
            query = parse_query(params.get("q") or "")
        except DriveQueryError as exc:
            raise _invalid("q") from exc
        size = _page_size(params.get("pageSize"))
        cap = self.sandbox.knobs.page_size_cap
        size = size if cap is None else min(size, cap)
        offset = _page_offset(params.get("pageToken"))
        flag(params.get("supportsAllDrives"), "supportsAllDrives")
        flag(params.get("includeItemsFromAllDrives"), "includeItemsFromAllDrives")
        with self.sandbox.lock:
            found = [
                file_resource(s)
                for s in self.sandbox.spreadsheets.values()
                if s.role(principal.email) is not None
            ]
        found = sorted((f for f in found if query.matches(f)), key=lambda f: (f["name"], f["id"]))
        page = found[offset : offset + size]
        body: dict[str, Any] = {"kind": "drive#fileList", "incompleteSearch": False}
        if offset + size < len(found):
            body["nextPageToken"] = base64.urlsafe_b64encode(f"o{offset + size}".encode()).decode()
        fields = params.get("fields")
        body["files"] = page
        if fields:
            return JSONResponse(select(body, field_mask(fields)))
        body["files"] = [_cut(f, None, DEFAULT_FILE_FIELDS) for f in page]
        return JSONResponse(body)

    async def get_file(self, request: Request, file_id: str) -> JSONResponse:
        """files.get: one file's metadata (gspread reads createdTime and modifiedTime)."""
        principal = self._principal(
            request, write=False, method="google.apps.drive.v3.DriveFiles.Get"
        )
        with self.sandbox.lock:
            resource = file_resource(self._file(principal, file_id, write=False))
        return JSONResponse(_cut(resource, request.query_params.get("fields"), DEFAULT_FILE_FIELDS))

    async def create_file(self, request: Request) -> JSONResponse:
        """files.create of a Google Sheets file: an empty spreadsheet the caller owns."""
        principal = self._principal(
            request, write=True, method="google.apps.drive.v3.DriveFiles.Create"
        )
        body = await _drive_body(request, FILE_KEYS)
        _check_new_file(body)
        with self.sandbox.lock:
            spreadsheet = self._new_spreadsheet(
                principal, str(body.get("name") or "Untitled spreadsheet")
            )
            spreadsheet.add_sheet({})
            self.sandbox.spreadsheets[spreadsheet.spreadsheet_id] = spreadsheet
            self.sandbox.record(
                principal.email, spreadsheet.spreadsheet_id, "drive.files.create", spreadsheet.title
            )
            resource = file_resource(spreadsheet)
        return JSONResponse(_cut(resource, request.query_params.get("fields"), DEFAULT_FILE_FIELDS))

    async def copy_file(self, request: Request, file_id: str) -> JSONResponse:
        """files.copy: the same tabs and cells in a new file the caller owns (no permissions)."""
        principal = self._principal(
            request, write=True, method="google.apps.drive.v3.DriveFiles.Copy"
        )
        body = await _drive_body(request, FILE_KEYS)
        _check_new_file(body)
        with self.sandbox.lock:
            source = self._file(principal, file_id, write=False)
            copy = self._new_spreadsheet(principal, source.title)
            copy.adopt(source.clone())
            copy.properties["title"] = str(body.get("name") or f"Copy of {source.title}")
            self.sandbox.spreadsheets[copy.spreadsheet_id] = copy
            self.sandbox.record(principal.email, copy.spreadsheet_id, "drive.files.copy", file_id)
            resource = file_resource(copy)
        return JSONResponse(_cut(resource, request.query_params.get("fields"), DEFAULT_FILE_FIELDS))

    async def delete_file(self, request: Request, file_id: str) -> Response:
        """files.delete (gspread's `del_spreadsheet`): only the owner may; 204."""
        principal = self._principal(
            request, write=True, method="google.apps.drive.v3.DriveFiles.Delete"
        )
        with self.sandbox.lock:
            spreadsheet = self._file(principal, file_id, write=True)
            if spreadsheet.owner != principal.email:
                raise drive_error(
                    403,
                    "The user does not have sufficient permissions for this file.",
                    "insufficientFilePermissions",
                )
            del self.sandbox.spreadsheets[file_id]
            self.sandbox.record(principal.email, file_id, "drive.files.delete", spreadsheet.title)
        return Response(status_code=204)

    async def list_comments(self, request: Request, file_id: str) -> JSONResponse:
        """comments.list: what `copy(copy_comments=True)` reads (one page; no replies)."""
        principal = self._principal(
            request, write=False, method="google.apps.drive.v3.DriveComments.List"
        )
        if not request.query_params.get("fields"):
            raise _invalid("fields", "The 'fields' parameter is required for this method.")
        with self.sandbox.lock:
            comments = list(self._file(principal, file_id, write=False).comments)
        body = {"kind": "drive#commentList", "comments": comments}
        return JSONResponse(select(body, field_mask(request.query_params["fields"])))

    async def create_comment(self, request: Request, file_id: str) -> JSONResponse:
        """comments.create: what `copy(copy_comments=True)` writes to the copy."""
        principal = self._principal(
            request, write=True, method="google.apps.drive.v3.DriveComments.Create"
        )
        if not request.query_params.get("fields"):
            raise _invalid("fields", "The 'fields' parameter is required for this method.")
        body = await json_body(request, {"content", "anchor", "quotedFileContent"})
        if not isinstance(body.get("content"), str) or not body["content"]:
            raise _invalid("comment.content", "The comment content field is required.")
        with self.sandbox.lock:
            spreadsheet = self._file(principal, file_id, write=False)
            comment = {
                "kind": "drive#comment",
                "id": f"AAAA{len(spreadsheet.comments) + 1:08d}",
                **body,
                "createdTime": drive_time(self.sandbox.clock()),
                "deleted": False,
            }
            spreadsheet.comments.append(comment)
        return JSONResponse(select(comment, field_mask(request.query_params["fields"])))

    def _new_spreadsheet(self, principal: Principal, title: str) -> Spreadsheet:
        return Spreadsheet(
            self.sandbox.new_spreadsheet_id(),
            title,
            time_zone=self.sandbox.time_zone,
            owner=principal.email,
            created_time=drive_time(self.sandbox.clock()),
        )

    async def create_permission(self, request: Request, file_id: str) -> JSONResponse:
        """permissions.create: share with a user, group, domain or anyone."""
        principal = self._principal(
            request, write=True, method="google.apps.drive.v3.DrivePermissions.Create"
        )
        body = await _drive_body(request, PERMISSION_KEYS)
        kind, role = body.get("type"), body.get("role")
        if kind not in PERMISSION_TYPES:
            raise _invalid("permission.type", "The permission type field is required.")
        if role not in ROLES:
            raise _invalid("permission.role", "The permission role field is required.")
        who = body.get("emailAddress") if kind in ("user", "group") else body.get("domain")
        if kind != "anyone" and not (isinstance(who, str) and who):
            field = "emailAddress" if kind in ("user", "group") else "domain"
            raise _invalid(f"permission.{field}", f"The permission {field} field is required.")
        transfer = flag(request.query_params.get("transferOwnership"), "transferOwnership")
        if role == "owner" and (kind != "user" or not transfer):
            raise drive_error(
                403,
                "The transferOwnership parameter must be enabled when the permission role is "
                "'owner'.",
                "forbidden",
                location="transferOwnership",
            )
        with self.sandbox.lock:
            spreadsheet = self._file(principal, file_id, write=True)
            resource = _grant(spreadsheet, str(kind), str(role), who, bool(body.get("withLink")))
            self.sandbox.record(
                principal.email, file_id, "drive.permissions.create", resource["id"]
            )
        return JSONResponse(
            _cut(resource, request.query_params.get("fields"), DEFAULT_PERMISSION_FIELDS)
        )

    async def list_permissions(self, request: Request, file_id: str) -> JSONResponse:
        """permissions.list: everyone the file is shared with."""
        principal = self._principal(
            request, write=False, method="google.apps.drive.v3.DrivePermissions.List"
        )
        with self.sandbox.lock:
            spreadsheet = self._file(principal, file_id, write=True)
            listed = permissions(spreadsheet)
        body: dict[str, Any] = {"kind": "drive#permissionList", "permissions": listed}
        fields = request.query_params.get("fields")
        if fields:
            return JSONResponse(select(body, field_mask(fields)))
        body["permissions"] = [_cut(p, None, DEFAULT_PERMISSION_FIELDS) for p in listed]
        return JSONResponse(body)

    async def delete_permission(self, request: Request, file_id: str, permission: str) -> Response:
        """permissions.delete: 204; the owner's permission cannot go."""
        principal = self._principal(
            request, write=True, method="google.apps.drive.v3.DrivePermissions.Delete"
        )
        with self.sandbox.lock:
            spreadsheet = self._file(principal, file_id, write=True)
            target = next((p for p in permissions(spreadsheet) if p["id"] == permission), None)
            if target is None:
                raise drive_error(
                    404, f"Permission not found: {permission}.", "notFound", location="permissionId"
                )
            if target["role"] == "owner":
                raise drive_error(
                    403, "The owner of a file cannot be removed.", "cannotRemoveOwner"
                )
            if target["type"] == "user":
                spreadsheet.shared_with.discard(str(target["emailAddress"]))
                spreadsheet.roles.pop(str(target["emailAddress"]), None)
            else:
                spreadsheet.other_permissions.pop(permission, None)
            self.sandbox.record(principal.email, file_id, "drive.permissions.delete", permission)
        return Response(status_code=204)


def _grant(
    spreadsheet: Spreadsheet, kind: str, role: str, who: Any, with_link: bool
) -> dict[str, Any]:
    """Record a permission (a new owner demotes the old one to writer) and return it."""
    if kind == "user":
        email = str(who)
        if role == "owner" and spreadsheet.owner is not None:
            spreadsheet.roles[spreadsheet.owner] = "writer"
            spreadsheet.owner = email
        spreadsheet.shared_with.add(email)
        spreadsheet.roles[email] = role
        return next(p for p in permissions(spreadsheet) if p.get("emailAddress") == email)
    pid = permission_id(kind, who, with_link=with_link)
    resource: dict[str, Any] = {"kind": "drive#permission", "id": pid, "type": kind, "role": role}
    if kind == "group":
        resource["emailAddress"] = str(who)
    elif kind == "domain":
        resource["domain"] = str(who)
    resource.update(deleted=False, pendingOwner=False)
    spreadsheet.other_permissions[pid] = resource
    return resource


def _check_new_file(body: dict[str, Any]) -> None:
    mime = body.get("mimeType")
    if mime != SPREADSHEET_MIME:
        raise _invalid(
            "mimeType",
            f"The syncd sandbox's Drive only creates Google Sheets ({SPREADSHEET_MIME}), "
            f"not {mime!r}.",
        )
    parents = body.get("parents") or [ROOT_FOLDER]
    for parent in parents:
        if parent != ROOT_FOLDER:
            raise _file_not_found(str(parent))


async def _drive_body(request: Request, allowed: set[str]) -> dict[str, Any]:
    return await json_body(request, allowed)


def _page_size(value: str | None) -> int:
    if value is None or value == "":
        return DEFAULT_PAGE_SIZE
    try:
        size = int(value)
    except ValueError as exc:
        raise _invalid("pageSize") from exc
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise _invalid(
            "pageSize", f"Invalid value '{size}'. Values must be within the range: [1, 1000]"
        )
    return size


def _page_offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
        if not text.startswith("o"):
            raise ValueError(text)
        return int(text[1:])
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise _invalid("pageToken") from exc
