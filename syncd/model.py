"""The normalized model: what syncd keeps, in one vocabulary, whatever tool a value came from.

Records are stored as flat dicts of *canonical* JSON values (dates as ISO strings, decimals as
plain strings, people as lower-case emails, labels as a sorted list), so that two values are
equal exactly when they mean the same thing. `canonical_value()` produces them; the pydantic
models below are the typed view and the place each field's type is declared.
"""

from __future__ import annotations

import copy
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cache, lru_cache
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    TypeAdapter,
    ValidationError,
)
from pydantic.fields import FieldInfo

JsonValue = str | int | float | bool | None | list[Any] | dict[str, Any]


class RecordKind(StrEnum):
    """The kinds of record syncd keeps."""

    TASK = "task"
    INVOICE = "invoice"
    ASSET = "asset"
    BUDGET_LINE = "budget_line"


class TaskStatus(StrEnum):
    """Where a piece of work stands, whatever tool tracks it."""

    TODO = "todo"  # not started (ShotGrid wtg/rdy, Jira "To Do")
    IN_PROGRESS = "in_progress"  # someone is working on it
    REVIEW = "review"  # done by the assignee, waiting for review or approval
    BLOCKED = "blocked"  # cannot go on until something else moves (ShotGrid hld)
    DONE = "done"  # approved or final; counts as complete in every rollup
    OMITTED = "omitted"  # cut from scope; excluded from progress figures


class PipelineStatus(StrEnum):
    """Where an asset or shot stands in the art pipeline (ShotGrid's status list)."""

    WAITING = "waiting"  # wtg: waiting to start, inputs not ready
    READY = "ready"  # rdy: inputs ready, can start
    IN_PROGRESS = "in_progress"  # ip
    REVIEW = "review"  # rev: pending review
    APPROVED = "approved"  # apr: approved by the lead/director
    FINAL = "final"  # fin: final, delivered
    ON_HOLD = "on_hold"  # hld
    OMITTED = "omitted"  # omt: cut


class InvoiceStatus(StrEnum):
    """Where a vendor invoice stands in the payment process."""

    DRAFT = "draft"  # being prepared, not yet sent by the vendor
    SUBMITTED = "submitted"  # received, waiting for approval
    APPROVED = "approved"  # approved for payment: counts as committed spend
    PAID = "paid"  # paid out
    DISPUTED = "disputed"  # on hold pending a question to the vendor
    VOID = "void"  # cancelled; excluded from every figure


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def _email(value: str) -> str:
    value = value.strip().lower()
    if not _EMAIL.match(value):
        raise ValueError(f"{value!r} is not an email address")
    return value


def _currency(value: str) -> str:
    value = value.strip().upper()
    if not _CURRENCY.match(value):
        raise ValueError(f"{value!r} is not an ISO 4217 currency code")
    return value


def _plain_decimal(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("must be a finite number")
    # 1200.50 and 1200.5 are the same amount: strip the exponent noise so they compare equal.
    normalized = value.normalize()
    return normalized.quantize(Decimal(1)) if normalized == normalized.to_integral() else normalized


def _to_decimal(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation as exc:
            raise ValueError(f"{value!r} is not a number") from exc
    return value


def _labels(value: list[str]) -> list[str]:
    return sorted({label.strip() for label in value if label.strip()})


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("datetimes must carry a time zone")
    return value


Email = Annotated[str, AfterValidator(_email)]
Currency = Annotated[str, AfterValidator(_currency)]
Amount = Annotated[Decimal, BeforeValidator(_to_decimal), AfterValidator(_plain_decimal)]
Labels = Annotated[list[str], AfterValidator(_labels)]
AwareDatetime = Annotated[datetime, AfterValidator(_aware)]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=True)


class Task(_Record):
    """A piece of work: a Jira issue, a ShotGrid pipeline task, or both linked."""

    title: str | None = None
    status: TaskStatus | None = None
    assignee: Email | None = None
    department: str | None = None
    milestone: str | None = None
    due_date: date | None = None
    estimate_hours: Amount | None = None
    spent_hours: Amount | None = None
    linked_asset: str | None = None  # the asset or shot code the work is on
    labels: Labels = []
    jira_key: str | None = None  # the Jira issue key, for write-backs and links
    pipeline_status: PipelineStatus | None = None  # ShotGrid status of the work, as-is


class Invoice(_Record):
    """A vendor or freelancer invoice from the budget sheet."""

    number: str | None = None
    vendor: str | None = None
    amount: Amount | None = None
    currency: Currency | None = None
    status: InvoiceStatus | None = None
    issued: date | None = None
    due: date | None = None
    milestone: str | None = None
    budget_line: str | None = None
    po: str | None = None
    # Written by syncd back to the sheet: "ok", or what it could not read in the row.
    sync_status: str | None = None
    synced_at: AwareDatetime | None = None


class Asset(_Record):
    """A ShotGrid asset or shot and where it stands in the pipeline."""

    name: str | None = None
    asset_type: str | None = None  # character, prop, environment, vehicle, fx, shot...
    pipeline_status: PipelineStatus | None = None
    step_statuses: dict[str, PipelineStatus] = {}  # pipeline step -> status of its task
    description: str | None = None


class BudgetLine(_Record):
    """One line of the budget sheet: what was budgeted for a category of spend."""

    name: str | None = None
    department: str | None = None
    milestone: str | None = None
    amount: Amount | None = None
    currency: Currency | None = None
    owner: str | None = None


MODELS: dict[RecordKind, type[_Record]] = {
    RecordKind.TASK: Task,
    RecordKind.INVOICE: Invoice,
    RecordKind.ASSET: Asset,
    RecordKind.BUDGET_LINE: BudgetLine,
}


@cache
def _field_infos(kind: RecordKind) -> dict[str, FieldInfo]:
    # Looked up per field value in a sync: read pydantic's (computed) mapping once.
    return dict(MODELS[kind].model_fields)


@cache
def _defaults(kind: RecordKind) -> dict[str, JsonValue]:
    return {
        name: info.get_default(call_default_factory=True)
        for name, info in _field_infos(kind).items()
    }


def field_names(kind: RecordKind) -> frozenset[str]:
    """The fields a record of this kind has."""
    return frozenset(_field_infos(kind))


def field_default(kind: RecordKind, field: str) -> JsonValue:
    """The value a record of this kind has in `field` when it was never set (a fresh copy)."""
    default = _defaults(kind)[field]
    return copy.deepcopy(default) if isinstance(default, list | dict) else default


@cache
def _adapter(kind: RecordKind, field: str) -> TypeAdapter[Any]:
    info = _field_infos(kind)[field]
    annotation: Any = info.annotation
    if info.metadata:
        annotation = Annotated[annotation, *info.metadata]
    return TypeAdapter(annotation, config=ConfigDict(use_enum_values=True))


def canonical_value(kind: RecordKind, field: str, value: Any) -> JsonValue:
    """Validate `value` for a record field and return its canonical JSON form.

    Raises ValueError naming the value and what is wrong with it.
    """
    if type(value) in _CACHEABLE:
        # Sources repeat values (statuses, people, dates): validate each one once.
        cached = _canonical_scalar(kind, field, value)
        return copy.deepcopy(cached) if isinstance(cached, list | dict) else cached
    return _canonical(kind, field, value)


# Exact types whose equal values are the same value (not Decimal("1.0") == Decimal("1.00"),
# nor datetimes equal across zones): safe to validate once.
_CACHEABLE = frozenset({str, int, float, bool, date, type(None)})


@lru_cache(maxsize=8_192, typed=True)
def _canonical_scalar(kind: RecordKind, field: str, value: Any) -> JsonValue:
    return _canonical(kind, field, value)


def _canonical(kind: RecordKind, field: str, value: Any) -> JsonValue:
    if field not in _field_infos(kind):
        raise ValueError(f"{kind} records have no field {field!r}")
    adapter = _adapter(kind, field)
    try:
        validated = adapter.validate_python(value)
    except ValidationError as exc:
        # Keep the message a person can act on, without pydantic's type plumbing.
        first = exc.errors()[0]
        raise ValueError(f"{value!r} is not a valid {field}: {first['msg']}") from None
    if isinstance(validated, Decimal):
        return format(validated, "f")
    dumped: JsonValue = adapter.dump_python(validated, mode="json")
    return dumped


def enum_for(kind: RecordKind, field: str) -> type[StrEnum] | None:
    """The enum a field's values come from, if any (for value-map validation)."""
    annotation = _field_infos(kind)[field].annotation
    for candidate in (TaskStatus, PipelineStatus, InvoiceStatus):
        if annotation == candidate | None or annotation is candidate:
            return candidate
    if annotation == dict[str, PipelineStatus]:
        return PipelineStatus
    return None


def as_model(kind: RecordKind, fields: dict[str, JsonValue]) -> _Record:
    """The typed view of a stored record's fields."""
    return MODELS[kind].model_validate(fields)
