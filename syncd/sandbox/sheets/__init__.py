"""Google Sheets API v4 sandbox: `SheetsSandbox`, and `local_http_client` to point gspread at it."""

from syncd.sandbox.sheets.auth import GOOGLE_TOKEN_URI, ServiceAccount
from syncd.sandbox.sheets.client import local_http_client
from syncd.sandbox.sheets.quotas import QuotaLimits
from syncd.sandbox.sheets.sandbox import SheetsSandbox
from syncd.sandbox.sheets.trigger import SheetChangeEvent, SheetEditEvent

__all__ = [
    "GOOGLE_TOKEN_URI",
    "QuotaLimits",
    "ServiceAccount",
    "SheetChangeEvent",
    "SheetEditEvent",
    "SheetsSandbox",
    "local_http_client",
]
