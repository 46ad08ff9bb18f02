"""The documented example configuration loads, and mistakes are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.config import ConfigError, load_config
from tests.agent.test_cli import triage

EXAMPLE = Path(__file__).parents[2] / "config" / "triage.example.yaml"


def test_the_example_config_loads_with_its_documented_values() -> None:
    config = load_config(EXAMPLE)
    assert config.language == "ja"
    assert config.telemetry.backend == "replay"
    assert config.llm.enabled is False
    assert config.dispatch.pagerduty is None


def test_an_unknown_key_is_named_with_its_path(tmp_path: Path) -> None:
    bad = tmp_path / "triage.yaml"
    bad.write_text("llm:\n  enabld: true\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"triage\.yaml: llm\.enabld"):
        load_config(bad)


def test_broken_yaml_is_reported_not_raised(tmp_path: Path) -> None:
    bad = tmp_path / "triage.yaml"
    bad.write_text("language: [en\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_broken_yaml_is_one_line_with_where(tmp_path: Path) -> None:
    bad = tmp_path / "triage.yaml"
    bad.write_text("engines:\n  database_url: [a\n", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(bad)
    message = str(raised.value)
    assert message.startswith(f"{bad}: not valid YAML: line 3, column 1: expected ','"), message
    assert "\n" not in message, message


def test_a_file_that_is_not_a_mapping_says_so_at_the_top_level(tmp_path: Path) -> None:
    bad = tmp_path / "triage.yaml"
    bad.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"triage\.yaml: \(top level\): Input should be"):
        load_config(bad)


@pytest.mark.parametrize("command", ["incidents", "doctor", "kb stats"])
@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x95", "not UTF-8 text"),
        (b"- a\n- b\n", "(top level)"),
        (b"just a sentence\n", "(top level)"),
    ],
)
def test_a_config_that_is_no_mapping_of_text_is_one_line_from_every_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str, content: bytes, says: str
) -> None:
    bad = tmp_path / "triage.yaml"
    bad.write_bytes(content)
    monkeypatch.setenv("TRIAGE_HOME", str(tmp_path / "home"))
    done = triage(*command.split(), "--config", str(bad))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith(f"error: {bad}: ") and says in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
