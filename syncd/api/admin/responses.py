"""The error bodies admin routes answer with, and their OpenAPI descriptions."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from syncd.errors import ConfigError


class ErrorOut(BaseModel):
    """An error: what went wrong, in words."""

    detail: str


class ProblemOut(BaseModel):
    """One problem of a mapping, with its place (`file [table] key`)."""

    where: str = Field(
        description="file, TOML table and key, e.g. `mappings/jira.toml [values.st]`"
    )
    message: str
    warning: bool = Field(description="true: worth saying, but the mapping still works")


class MappingProblems(BaseModel):
    """A mapping that does not validate: every problem found, each with its place."""

    problems: list[ProblemOut]


class FieldError(BaseModel):
    """One malformed part of a request (FastAPI's validation error)."""

    loc: list[str | int]
    msg: str
    type: str


class InvalidRequest(BaseModel):
    """A malformed request: FastAPI's usual validation error body."""

    detail: list[FieldError]


def problems_response(exc: ConfigError) -> JSONResponse:
    """422 listing every problem of a ConfigError (warnings included)."""
    body = MappingProblems(
        problems=[
            ProblemOut(where=p.where, message=p.message, warning=p.warning) for p in exc.problems
        ]
    )
    return JSONResponse(body.model_dump(), status_code=422)


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorOut, "description": description}


# The largest id a stored row can have (a signed 64-bit integer on both backends).
MAX_ID = 2**63 - 1

AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _error("a body that is not JSON (or not UTF-8)"),
    401: _error("no bearer token, or one that is not configured (`WWW-Authenticate: Bearer`)"),
    413: _error("a body larger than `[api] max_body_bytes`"),
    429: _error("too many requests from this token or address (`Retry-After` says when)"),
}
ADMIN_RESPONSES: dict[int | str, dict[str, Any]] = {403: _error("a viewer token: admin only")}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: _error("no such object")}
INVALID_MAPPING: dict[int | str, dict[str, Any]] = {
    422: {
        "model": MappingProblems | InvalidRequest,
        "description": "the mapping does not validate: `problems` lists every problem with "
        "its place; a malformed request body gets FastAPI's usual `detail` list instead",
    }
}
