"""The api3 JSON-RPC envelope `shotgun_api3` speaks: requests, results and faults.

The client (shotgun_api3 3.10.3, `Shotgun._build_payload`) POSTs
`{"method_name": ..., "params": [auth_params, method_params]}` to `/api3/json`; `info` alone is
sent without the auth hash. A reply is `{"results": ...}`, or, for any refused call,
`{"exception": true, "message": ..., "error_code": ...}` with HTTP 200: the client reads faults
from the body (`_response_errors`), and turns a non-2xx status into a `ProtocolError` before it
looks at the body at all. Error code 102 becomes `AuthenticationFault`, anything else `Fault`.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import CODE_AUTH, CODE_PARAMETERS, SgError

ERR_AUTH = CODE_AUTH  # the client raises AuthenticationFault for exactly this code
ERR_PARAMETERS = CODE_PARAMETERS


class Api3Fault(Exception):
    """A call the server refuses; rendered as the exception body."""

    def __init__(self, message: str, error_code: int = ERR_PARAMETERS) -> None:
        super().__init__(message)
        self.message, self.error_code = message, error_code

    @classmethod
    def from_sg_error(cls, error: SgError) -> Api3Fault:
        """The REST emulator's error, in api3 words (the detail when it says more)."""
        return cls(error.detail or error.title, error.code)

    def body(self) -> dict[str, Any]:
        """`{"exception": true, "message", "error_code"}`."""
        return {"exception": True, "message": self.message, "error_code": self.error_code}


class RpcCall(BaseModel):
    """One decoded request envelope."""

    model_config = ConfigDict(extra="ignore")

    method_name: str
    params: list[Any] = []


def parse_call(raw: bytes) -> RpcCall:
    """Decode a request body; a fault naming what is wrong when it is not an envelope."""
    try:
        decoded = json.loads(raw or b"null")
    except ValueError:
        raise Api3Fault("Invalid JSON in request body.") from None
    try:
        return RpcCall.model_validate(decoded)
    except ValidationError as error:
        where = ", ".join(".".join(str(p) for p in e["loc"]) or "body" for e in error.errors())
        raise Api3Fault(f"Invalid request envelope: check {where}.") from None


def split_params(call: RpcCall, *, needs_auth: bool) -> tuple[dict[str, Any], Any]:
    """`(auth_params, method_params)`; method params are None when the client sent none."""
    params = list(call.params)
    auth: dict[str, Any] = {}
    if needs_auth:
        if not params or not isinstance(params[0], dict):
            raise Api3Fault("No authentication parameters were sent.", ERR_AUTH)
        auth = params.pop(0)
    if len(params) > 1:
        raise Api3Fault(f"API {call.method_name}() takes one parameter hash, got {len(params)}.")
    return auth, (params[0] if params else None)


def results(value: Any) -> dict[str, Any]:
    """`{"results": value}`."""
    return {"results": value}


def require_hash(method: str, params: Any) -> dict[str, Any]:
    """The method's parameters as a hash; a fault naming the method otherwise."""
    if not isinstance(params, dict):
        raise Api3Fault(f"API {method}() expects a parameter hash.")
    return params
