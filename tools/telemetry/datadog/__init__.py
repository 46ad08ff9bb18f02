"""Datadog as a telemetry store: metrics, logs, APM, events and Cloud SIEM signals."""
