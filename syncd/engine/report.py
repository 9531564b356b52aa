"""What a sync did: counts summed over pages, entities and connectors."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SyncReport:
    """What a sync did, summed over connectors."""

    pulled: int = 0
    skipped: int = 0  # re-read with unchanged content (overlap windows, echoes)
    created: int = 0
    deleted: int = 0  # links marked gone (the tool deleted the record, or no longer has it)
    restored: int = 0  # links back from gone
    problems: int = 0  # problems newly reported at a source record or row, or settled
    changed_fields: int = 0
    conflicts_opened: int = 0
    differs_at_link: int = 0  # fields whose values differed when a source was first compared
    pushed: int = 0
    push_rejected: int = 0
    from_deliveries: int = 0  # records taken from webhook values instead of re-read
    errors: list[str] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)  # records whose writes were queued

    @property
    def changed_state(self) -> bool:
        """Whether what the rollups show may have changed (records, links or problems)."""
        return bool(
            self.changed_fields or self.created or self.deleted or self.restored or self.problems
        )

    def add(self, other: SyncReport) -> None:
        """Add another report's counts to this one."""
        self.touched |= other.touched
        for name in (
            "pulled",
            "skipped",
            "created",
            "deleted",
            "restored",
            "problems",
            "changed_fields",
            "conflicts_opened",
            "differs_at_link",
            "pushed",
            "push_rejected",
            "from_deliveries",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors += other.errors
