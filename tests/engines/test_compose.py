"""The Dockerfile and compose.yaml, checked without a Docker engine (none on CI): the
services and their wiring, the commands parse as `triage` commands, the config validates."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from typer.main import get_command

from agent.cli import _load_plugins, app
from agent.config import load_config

REPO = Path(__file__).resolve().parents[2]
TRIAGE = ("api", "worker")


def compose() -> dict[str, Any]:
    found: dict[str, Any] = yaml.safe_load((REPO / "compose.yaml").read_text(encoding="utf-8"))
    return found


def parses(argv: list[str]) -> None:
    """`argv` is a valid `triage` command line (parsed, not run)."""
    _load_plugins()
    group: Any = get_command(app)
    assert argv[0] == "triage"
    context = group.make_context("triage", list(argv[1:]))
    name, command, rest = group.resolve_command(context, [*context._protected_args, *context.args])
    assert command is not None, f"no command {argv[1]!r}"
    command.make_context(name, rest, parent=context)


def test_compose_runs_the_api_two_workers_and_the_engines() -> None:
    services = compose()["services"]
    assert set(services) == {"api", "worker", "postgres", "redis", "chroma"}
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["api"]["command"][:2] == ["triage", "serve"]
    assert services["api"]["command"][-2:] == ["--role", "api"]
    assert services["worker"]["command"][:2] == ["triage", "worker"]
    for name in TRIAGE:
        parses(services[name]["command"])
        env = services[name]["environment"]
        assert env["TRIAGE_DATABASE_URL"].startswith("postgresql://triage:")
        assert env["TRIAGE_DATABASE_URL"].endswith("@postgres:5432/triage")
        assert env["TRIAGE_QUEUE_URL"] == "redis://redis:6379/0"
        assert env["TRIAGE_CHROMA_URL"] == "http://chroma:8000"
        assert set(services[name]["depends_on"]) == {"postgres", "redis", "chroma"}
    assert services["postgres"]["image"].startswith("postgres:15")
    assert "--appendonly" in services["redis"]["command"], "the stream survives a restart"
    assert services["api"]["ports"] == ["127.0.0.1:8080:8080"]


def test_the_compose_config_validates_with_the_environment_it_gets() -> None:
    env = compose()["services"]["api"]["environment"]
    filled = {k: re.sub(r"\$\{[^}]+\}", "secret", str(v)) for k, v in env.items()}
    config = load_config(REPO / "config" / "triage.compose.yaml", filled)
    assert config.engines.distributed and config.memory.server_url == "http://chroma:8000"
    assert config.server.api.token_env == "TRIAGE_API_TOKEN", "0.0.0.0 needs the API token"


def test_the_image_serves_the_api_and_installs_the_product() -> None:
    lines = (REPO / "Dockerfile").read_text(encoding="utf-8").splitlines()
    cmd = next(line for line in lines if line.startswith("CMD "))
    argv = yaml.safe_load(cmd.removeprefix("CMD "))
    parses(argv)
    assert argv[-2:] == ["--role", "api"]
    run = " ".join(line for line in lines if line.startswith(("RUN ", "    ")))
    assert "pip install ." in run and "knowledge.install" in run
    copied = {line.split()[1] for line in lines if line.startswith("COPY ")}
    assert {"agent", "tools", "knowledge", "pyproject.toml"} <= copied
