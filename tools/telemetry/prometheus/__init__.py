"""Prometheus's HTTP API as a metrics store."""
