"""What `triage serve` checks before it listens: settings that are unsafe or surprising.

Each finding is one line a person can act on. An error stops the server: the
incidents API, approvals, edits and chat open to anyone who can reach a
non-loopback address. Everything else is a warning printed at start: the
server runs, and the operator knows what it is running without.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from agent.config import TriageConfig
from agent.config.server import SourceAuth
from agent.isolation.degraded import gap_lines
from agent.server.auth import Env

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
WILDCARDS = frozenset({"0.0.0.0", "::", ""})


@dataclass
class Findings:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def preflight(config: TriageConfig, host: str, env: Env) -> Findings:
    """The findings for serving `config` on `host`, secrets read from `env`."""
    found = Findings()
    _api_auth(config, host, env, found)
    for name, source in config.server.sources.items():
        if source.enabled and (problem := _source_problem(name, source, env)):
            found.warnings.append(problem)
    slack = config.server.slack
    if slack.enabled and not env(slack.signing_secret_env):
        found.warnings.append(
            f"slack: ${slack.signing_secret_env} is not set: Slack requests are refused"
            " (set it, or server.slack.enabled: false)"
        )
    if config.policy is None:
        found.warnings.append(
            "no policy configured: the bundled fictional example decides severity, teams and"
            f" who is paged, and drafts are in {config.language or 'Japanese (its language)'};"
            " every draft and the war room say so (set policy: in triage.yaml)"
        )
    telemetry = config.telemetry
    if telemetry.is_replay_only and telemetry.path is None:
        found.warnings.append(
            "no telemetry configured: alerts are triaged from the alert alone (inconclusive,"
            " low confidence) until telemetry: is set in triage.yaml"
        )
    dispatch = config.dispatch
    if dispatch.pagerduty is None:
        found.warnings.append(
            "no dispatch.pagerduty: approved pages only reach the outbox file; nobody is paged"
        )
    if config.war_room_url is None and host in WILDCARDS:
        found.warnings.append(
            f"war_room_url is not set and {host or '*'} names no reachable host: pages say"
            " the war room link is not set"
        )
    if config.server.docs:
        found.warnings.append("server.docs is on: /docs loads Swagger UI from a CDN")
    return found


def telemetry_warnings(gaps: Mapping[str, str]) -> list[str]:
    """A store that does not answer at start: triages degrade until it does."""
    return [f"telemetry: {line}; triages degrade until it answers" for line in gap_lines(gaps)]


def _api_auth(config: TriageConfig, host: str, env: Env, found: Findings) -> None:
    name = config.server.api.token_env
    if name and env(name):
        return
    missing = (
        f"server.api.token_env names ${name} but it is not set"
        if name
        else ("server.api.token_env is not set")
    )
    if host in LOOPBACK:
        found.warnings.append(
            f"{missing}: the incidents API, approvals, edits and chat need no authentication"
            f" (only this machine can reach {host})"
        )
        return
    found.errors.append(
        f"{missing}: refusing to serve the incidents API, approvals, edits and chat without"
        f" authentication on {host or '*'}; set the token, or bind to 127.0.0.1"
    )


def _source_problem(name: str, source: SourceAuth, env: Env) -> str | None:
    if source.auth == "none":
        return f"{name}: auth none: anyone who can reach the port can post alerts"
    if source.auth == "sns" and not source.topic_arns:
        return (
            f"{name}: no topic_arns: every SNS message is refused until you list your topics"
            f" (server.sources.{name}.topic_arns)"
        )
    variable = source.token_env or source.secret_env
    if variable and not env(variable):
        return f"{name}: ${variable} is not set: its alerts are refused until it is"
    return None
