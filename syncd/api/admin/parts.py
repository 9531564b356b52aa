"""What admin routes need from the running service (`Services.extras`), typed.

`syncd.service.Service` puts itself, its scheduler and its mapping versions there. An app
built without them (a bare `Services`, as in some tests) answers 503 for the routes that
need them instead of failing obscurely.
"""

from __future__ import annotations

from typing import Protocol, TypeVar, cast

from fastapi import HTTPException

from syncd.api.services import Services
from syncd.mapping.load import MappingSet
from syncd.mapping_versions import MappingVersions
from syncd.scheduler import Scheduler

T = TypeVar("T")


class MappingSwitch(Protocol):
    """Applies and rolls back mapping versions with a hot reload (`syncd.service.Service`)."""

    def apply_mappings(self, mappings: MappingSet, *, by: str, note: str | None = None) -> int:
        """Store a new version and use it from now on."""
        ...

    def rollback_mappings(self, version_id: int) -> MappingSet:
        """Make an earlier version active again."""
        ...


def _extra(services: Services, name: str, kind: type[T]) -> T:
    value = services.extras.get(name)
    if value is None:
        raise HTTPException(503, f"not available in this process: no {name} is running")
    if not isinstance(value, kind):
        raise TypeError(f"services.extras[{name!r}] is a {type(value).__name__}")
    return value


def versions_of(services: Services) -> MappingVersions:
    """The stored mapping versions."""
    return _extra(services, "versions", MappingVersions)


def scheduler_of(services: Services) -> Scheduler:
    """The scheduler that queues syncs."""
    return _extra(services, "scheduler", Scheduler)


def switch_of(services: Services) -> MappingSwitch:
    """The service that applies mapping versions and reloads the engine."""
    service = services.extras.get("service")
    if service is None:
        raise HTTPException(503, "not available in this process: no service is running")
    return cast(MappingSwitch, service)
