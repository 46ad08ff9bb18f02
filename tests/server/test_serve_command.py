"""`triage serve` links pages to its own war room unless configured otherwise."""

from __future__ import annotations

from agent.config import TriageConfig
from agent.server.cli import with_war_room


def test_pages_link_to_the_server_it_runs_on() -> None:
    settings = with_war_room(TriageConfig(), "127.0.0.1", 8080)
    assert settings.war_room_url == "http://127.0.0.1:8080"


def test_a_configured_war_room_wins() -> None:
    configured = TriageConfig(war_room_url="https://warroom.example")
    assert with_war_room(configured, "127.0.0.1", 8080).war_room_url == "https://warroom.example"


def test_a_wildcard_bind_names_no_link() -> None:
    assert with_war_room(TriageConfig(), "0.0.0.0", 8080).war_room_url is None
