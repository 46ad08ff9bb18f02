"""Containers set the engines through the environment, over triage.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from agent.config import ConfigError, load_config


def test_the_environment_wins_over_the_file_and_unset_keeps_it(tmp_path: Path) -> None:
    path = tmp_path / "triage.yaml"
    settings = {
        "engines": {"database_url": "postgresql://file@db/triage", "stream": "alerts"},
        "memory": {"server_url": "http://file-chroma:8000"},
    }
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    env = {
        "TRIAGE_DATABASE_URL": "postgresql://env@db/triage",
        "TRIAGE_QUEUE_URL": "redis://queue:6379/0",
        "TRIAGE_CHROMA_URL": "http://chroma:8000",
    }
    both = load_config(path, env)
    assert both.engines.database_url == "postgresql://env@db/triage"
    assert both.engines.queue_url == "redis://queue:6379/0" and both.engines.stream == "alerts"
    assert both.memory.server_url == "http://chroma:8000" and both.engines.distributed
    kept = load_config(path, {})
    assert kept.engines.database_url == "postgresql://file@db/triage"
    assert kept.memory.server_url == "http://file-chroma:8000" and not kept.engines.distributed
    embedded = load_config(None, {})
    assert embedded.engines.database_url is None and embedded.memory.server_url is None


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"TRIAGE_QUEUE_URL": "redis://q:6379/0"}, "engines: engines.queue_url needs engines.da"),
        (
            {"TRIAGE_DATABASE_URL": "mysql://x@db/t"},
            "TRIAGE_DATABASE_URL: must be a postgresql:// URL",
        ),
    ],
)
def test_a_bad_engine_url_is_one_clear_line(env: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigError, match=says) as raised:
        load_config(None, env)
    assert str(raised.value).startswith("environment: ") and "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("engines", "says"),
    [
        ({"pool_timeout_s": 0}, "engines.pool_timeout_s: Input should be greater than 0"),
        ({"connect_timeout_s": 1}, "engines.connect_timeout_s: Input should be greater than or"),
    ],
)
def test_the_database_waits_are_validated_in_one_line(
    tmp_path: Path, engines: dict[str, float], says: str
) -> None:
    path = tmp_path / "triage.yaml"
    path.write_text(yaml.safe_dump({"engines": engines}), encoding="utf-8")
    with pytest.raises(ConfigError, match=says) as raised:
        load_config(path, {})
    assert str(raised.value).startswith(f"{path}: ") and "\n" not in str(raised.value)
    assert load_config(None, {}).engines.pool_timeout_s == 5.0
