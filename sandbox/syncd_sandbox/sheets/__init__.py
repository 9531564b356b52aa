"""Google Sheets API v4 sandbox: `SheetsSandbox` (point gspread at it with
`connectors.sheets.local_http.local_http_client`)."""

from syncd_sandbox.sheets.auth import GOOGLE_TOKEN_URI, ServiceAccount
from syncd_sandbox.sheets.quotas import QuotaLimits
from syncd_sandbox.sheets.sandbox import SheetsSandbox
from syncd_sandbox.sheets.trigger import SheetChangeEvent, SheetEditEvent

__all__ = [
    "GOOGLE_TOKEN_URI",
    "QuotaLimits",
    "ServiceAccount",
    "SheetChangeEvent",
    "SheetEditEvent",
    "SheetsSandbox",
]
