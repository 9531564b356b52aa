"""The HTTP service: webhooks in, admin API, health and metrics."""
