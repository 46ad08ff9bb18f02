"""Datadog as a telemetry store: metrics, logs, APM, events and Cloud SIEM signals.

Request models are imported from their own modules (`datadog_api_client.v2.model.x`),
never from `datadog_api_client.v2.models`: that package imports all of the client's
~8,000 modules, about 3 s more each time the store is opened.
"""
