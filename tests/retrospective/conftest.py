"""Server fixtures (tests/server/fixtures.py)."""

from tests.server.fixtures import client, config, incident_id, pagerduty, server

__all__ = ["client", "config", "incident_id", "pagerduty", "server"]
