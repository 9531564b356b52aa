"""What a sync did: counts summed over pages, entities and connectors."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SyncReport:
    """What a sync did, summed over connectors."""

    pulled: int = 0
    skipped: int = 0  # re-read with unchanged content (overlap windows, echoes)
    created: int = 0
    changed_fields: int = 0
    conflicts_opened: int = 0
    differs_at_link: int = 0  # fields whose values differed when a source was first compared
    pushed: int = 0
    push_rejected: int = 0
    from_deliveries: int = 0  # records taken from webhook values instead of re-read
    errors: list[str] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)  # records whose writes were queued

    def add(self, other: SyncReport) -> None:
        """Add another report's counts to this one."""
        self.touched |= other.touched
        for name in (
            "pulled",
            "skipped",
            "created",
            "changed_fields",
            "conflicts_opened",
            "differs_at_link",
            "pushed",
            "push_rejected",
            "from_deliveries",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors += other.errors
