"""`/_sandbox` routes: a person editing in the ShotGrid web UI, and the webhook format switch.

Edits made here are attributed to the named HumanUser (webhook `user`, `updated_by`), unlike
API writes with the script's token, which are the ApiUser's: the distinction syncd's echo
suppression relies on.
"""

from __future__ import annotations

from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from syncd_sandbox.knobs import CONTROL_PREFIX

PersonRef = int | str
AsParam = Annotated[str | None, Query(alias="as")]


class PersonWrite(BaseModel):
    """Body of a person's create or edit: who (`as`: id, login or email) and which values."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    as_: PersonRef = Field(alias="as")
    attributes: dict[str, Any] = Field(default_factory=dict)


class WebhookFormat(BaseModel):
    """Whether deliveries use the batched format (`{"data": {"deliveries": [...]}}`)."""

    model_config = ConfigDict(extra="forbid")

    batched: bool


class PersonApi(Protocol):
    """What the control routes drive (implemented by ShotGridSandbox)."""

    def edit_as(
        self, person: PersonRef, entity: str, record_id: int, attributes: dict[str, Any]
    ) -> dict[str, Any]: ...

    def create_as(
        self, person: PersonRef, entity: str, attributes: dict[str, Any]
    ) -> dict[str, Any]: ...

    def delete_as(self, person: PersonRef, entity: str, record_id: int) -> None: ...

    def revive_as(self, person: PersonRef, entity: str, record_id: int) -> bool: ...

    def people(self) -> list[dict[str, Any]]: ...

    @property
    def batched_webhooks(self) -> bool: ...

    @batched_webhooks.setter
    def batched_webhooks(self, value: bool) -> None: ...


def control_router(api: PersonApi) -> APIRouter:
    """Person routes and the webhook format switch under /_sandbox."""
    router = APIRouter(prefix=CONTROL_PREFIX, tags=["sandbox control"])

    @router.get("/people")
    def people() -> list[dict[str, Any]]:
        return api.people()

    @router.post("/entity/{entity}/{record_id}/edit")
    def edit(entity: str, record_id: int, body: PersonWrite) -> dict[str, Any]:
        return {"data": api.edit_as(body.as_, entity, record_id, body.attributes)}

    @router.post("/entity/{entity}", status_code=201)
    def create(entity: str, body: PersonWrite) -> dict[str, Any]:
        return {"data": api.create_as(body.as_, entity, body.attributes)}

    @router.delete("/entity/{entity}/{record_id}", status_code=204)
    def delete(entity: str, record_id: int, as_: AsParam = None) -> Response:
        api.delete_as(_person(as_, api), entity, record_id)
        return Response(status_code=204)

    @router.post("/entity/{entity}/{record_id}/revive")
    def revive(entity: str, record_id: int, as_: AsParam = None) -> dict[str, Any]:
        return {"did_revive": api.revive_as(_person(as_, api), entity, record_id)}

    @router.get("/webhook/format")
    def get_format() -> WebhookFormat:
        return WebhookFormat(batched=api.batched_webhooks)

    @router.put("/webhook/format")
    def put_format(body: WebhookFormat) -> WebhookFormat:
        api.batched_webhooks = body.batched
        return WebhookFormat(batched=api.batched_webhooks)

    return router


def _person(given: str | None, api: PersonApi) -> PersonRef:
    """The `as` query parameter (id, login or email), defaulting to the first person."""
    if given is not None:
        return int(given) if given.isdigit() else given
    people = api.people()
    return int(people[0]["id"]) if people else 0
