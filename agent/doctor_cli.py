"""`triage doctor`: is this deployment's config one every other command accepts, and can
its telemetry stores be reached and read?

The config is checked the way every other command loads it (the whole triage.yaml, then
the policy file it names), so a typo'd key or a missing policy fails here first instead
of at the first alert. The telemetry probes are the tools' (tools/telemetry/cli.py),
which may not import the agent; this command hands its config check to them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from agent.cli_options import ConfigOption
from agent.config import ConfigError, config_path, load_config
from agent.policy.errors import PolicyError
from agent.policy.load import load_policy
from tools.telemetry.cli import run_doctor
from tools.telemetry.doctor import Check


def doctor(
    config: ConfigOption = None,
    at: Annotated[
        datetime | None,
        typer.Option("--at", help="Probe as of this time (UTC); default: now."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines instead.")] = False,
) -> None:
    """Check the config (and its policy) and that every configured telemetry store answers
    and lets us read it."""
    chosen = config_path(config)
    run_doctor(chosen, at, as_json, first=[config_check(chosen)])


def config_check(path: Path | None) -> Check:
    """The config as `triage run` would load it, policy included: ok, or the first
    reason it would be refused, on one line."""
    try:
        settings = load_config(path)
        if settings.policy is not None:
            load_policy(settings.policy, today=datetime.now(UTC).date())
    except (ConfigError, PolicyError) as error:
        return Check("triage", "config", "fail", _one_line(str(error)))
    policy = settings.policy or "the bundled example"
    return Check("triage", "config", "ok", f"{path or 'built-in defaults'}; policy {policy}")


def _one_line(message: str) -> str:
    """A policy with several problems lists them a line each; a check's detail is one."""
    head, *rest = message.splitlines()
    return " ".join([head, "; ".join(line.strip() for line in rest)]).strip()
