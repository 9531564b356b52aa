"""`/_sandbox/...` routes of the Sheets sandbox: people editing, sharing, tokens, quotas.

Person routes (`as` = the editor's email) change the sheet as the UI would and send the
Apps Script webhook; API writes made with the service account never do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from syncd_sandbox.knobs import CONTROL_PREFIX
from syncd_sandbox.sheets.quotas import QuotaLimits, QuotaLimitsPatch

if TYPE_CHECKING:
    from syncd_sandbox.sheets.host import SheetsHost

CellInput = str | int | float | bool | None


class _PersonAction(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    as_: str | None = Field(None, alias="as", description="editor's email; null = withheld")


class PersonEdit(_PersonAction):
    """Type values into a block: `{"as", "range": "'Invoices'!C5:D5", "values": [[...]]}`."""

    range: str
    values: list[list[CellInput]]


class InsertRows(_PersonAction):
    """Insert rows above row `at` (1-based), optionally typing `values` into them."""

    action: Literal["insert"]
    sheet: str
    at: int = Field(ge=1)
    values: list[list[CellInput]] | None = None
    count: int | None = Field(None, ge=1)


class DeleteRows(_PersonAction):
    """Delete `count` rows from row `at` (1-based)."""

    action: Literal["delete"]
    sheet: str
    at: int = Field(ge=1)
    count: int = Field(1, ge=1)


class SortRows(_PersonAction):
    """Sort the sheet by a column (letter or 1-based number), header rows stay on top."""

    action: Literal["sort"]
    sheet: str
    column: str | int
    descending: bool = False
    headerRows: int = Field(1, ge=0)


RowsAction = Annotated[InsertRows | DeleteRows | SortRows, Field(discriminator="action")]


class Share(BaseModel):
    """Share or unshare a spreadsheet with an account."""

    model_config = ConfigDict(extra="forbid")

    email: str
    shared: bool = True


def control_router(sandbox: SheetsHost) -> APIRouter:
    """The Sheets-specific control API under /_sandbox."""
    router = APIRouter(prefix=CONTROL_PREFIX, tags=["sandbox control"])

    @router.post("/spreadsheets/{spreadsheet_id}/edit")
    def person_edit(spreadsheet_id: str, edit: PersonEdit) -> dict[str, Any]:
        """A person types values (USER_ENTERED); sends `sheet.edit`; returns the events sent."""
        event = sandbox.person_edit(
            spreadsheet_id, as_=edit.as_, range_=edit.range, values=edit.values
        )
        return {"events": [event]}

    @router.post("/spreadsheets/{spreadsheet_id}/rows")
    def person_rows(spreadsheet_id: str, action: RowsAction) -> dict[str, Any]:
        """A person inserts, deletes or sorts rows; sends the onChange/onEdit events."""
        if isinstance(action, InsertRows):
            events = sandbox.person_insert_rows(
                spreadsheet_id, as_=action.as_, sheet=action.sheet, at=action.at,
                values=action.values, count=action.count,
            )  # fmt: skip
        elif isinstance(action, DeleteRows):
            events = sandbox.person_delete_rows(
                spreadsheet_id, as_=action.as_, sheet=action.sheet, at=action.at, count=action.count
            )
        else:
            events = sandbox.person_sort(
                spreadsheet_id, as_=action.as_, sheet=action.sheet, column=action.column,
                descending=action.descending, header_rows=action.headerRows,
            )  # fmt: skip
        return {"events": events}

    @router.post("/spreadsheets/{spreadsheet_id}/share", status_code=204)
    def share(spreadsheet_id: str, body: Share) -> None:
        """Share or unshare the spreadsheet with an account (unshared: 403)."""
        sandbox.share(spreadsheet_id, body.email, shared=body.shared)

    @router.get("/spreadsheets")
    def list_spreadsheets() -> list[dict[str, Any]]:
        """Every spreadsheet with its tabs."""
        with sandbox.lock:
            return [
                {
                    "spreadsheetId": s.spreadsheet_id,
                    "title": s.title,
                    "sheets": [t.title for t in s.sheets],
                }
                for s in sandbox.spreadsheets.values()
            ]

    @router.get("/service-account")
    def service_account(request: Request, token_uri: str | None = None) -> dict[str, str]:
        """The service-account key JSON (token_uri defaults to this server's /token)."""
        return sandbox.service_account_info(
            token_uri or f"{str(request.base_url).rstrip('/')}/token"
        )

    @router.post("/tokens/expire", status_code=204)
    def expire_tokens() -> None:
        """Expire every access token: the next call gets 401 and the client re-authenticates."""
        sandbox.expire_tokens()

    @router.get("/quotas")
    def get_quotas() -> QuotaLimits:
        """The per-minute quotas in force."""
        return sandbox.quotas.limits

    @router.patch("/quotas")
    def patch_quotas(patch: QuotaLimitsPatch) -> QuotaLimits:
        """Change quotas (e.g. {"enabled": true, "write_per_user": 5})."""
        for name, value in patch.model_dump(exclude_unset=True).items():
            setattr(sandbox.quotas.limits, name, value)
        return sandbox.quotas.limits

    @router.post("/quotas/reset", status_code=204)
    def reset_quotas() -> None:
        """Forget this minute's usage."""
        sandbox.quotas.reset()

    return router
