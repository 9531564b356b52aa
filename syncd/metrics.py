"""Prometheus metrics, in a registry per service instance (no process-wide globals)."""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    """Every metric syncd exposes on /metrics."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.deliveries = Counter(
            "syncd_webhook_deliveries_total",
            "Webhook deliveries by outcome",
            ["connector", "outcome"],
            registry=r,
        )
        self.pulled = Counter(
            "syncd_records_pulled_total", "Source records read", ["connector"], registry=r
        )
        self.pushed = Counter(
            "syncd_records_pushed_total", "Source records written", ["connector"], registry=r
        )
        self.from_deliveries = Counter(
            "syncd_records_from_webhooks_total",
            "Source records brought up to date from webhook values instead of re-read",
            ["connector"],
            registry=r,
        )
        self.conflicts_opened = Counter(
            "syncd_conflicts_opened_total", "Conflicts opened", registry=r
        )
        self.conflicts_resolved = Counter(
            "syncd_conflicts_resolved_total", "Conflicts resolved by people", registry=r
        )
        self.retries = Counter(
            "syncd_http_retries_total", "Retried calls to the tools", ["connector"], registry=r
        )
        self.rate_limited = Counter(
            "syncd_http_429_total", "429 answers from the tools", ["connector"], registry=r
        )
        self.queue_depth = Gauge("syncd_queue_depth", "Waiting work", ["queue"], registry=r)
        self.job_seconds = Histogram(
            "syncd_job_duration_seconds",
            "Time to do a job",
            ["kind"],
            registry=r,
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
        )
        self.sync_seconds = Histogram(
            "syncd_sync_duration_seconds",
            "Time for a poll or full sync",
            ["connector"],
            registry=r,
            buckets=(0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600),
        )
        self.webhook_to_push_seconds = Histogram(
            "syncd_webhook_to_push_seconds",
            "From a delivery's arrival to its writes",
            registry=r,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
        )


class RetryCounter(logging.Handler):
    """Counts retries and 429s per connector from the shared retry policy's log records.

    The retry policy lives in each connector; it marks its "retrying" records with the
    connector and status, so counting needs no hook into every connector.
    """

    def __init__(self, metrics: Metrics) -> None:
        super().__init__(level=logging.WARNING)
        self.metrics = metrics

    def emit(self, record: logging.LogRecord) -> None:
        connector = getattr(record, "syncd_retry_connector", None)
        if connector is None:
            return
        self.metrics.retries.labels(connector).inc()
        if getattr(record, "syncd_retry_status", None) == 429:
            self.metrics.rate_limited.labels(connector).inc()
