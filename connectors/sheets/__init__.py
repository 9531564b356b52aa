"""Google Sheets connector (Sheets API v4 through gspread, as a service account).

Modules: `config` (the `[connectors.<name>]` table), `client` (the API calls only: auth,
quotas, retries, error classification), `a1` (A1 ranges, on `gspread.utils`), `rows` (a
tab's values as source records),
`writes` (planning a write-back), `connector` (the connector contract), `webhooks` (the
Apps Script trigger's deliveries).
"""

from .config import SheetsConfig
from .connector import SheetsConnector

__all__ = ["SheetsConfig", "SheetsConnector"]
