"""The composite backend: each kind from its own store, one clock for all."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.telemetry.conftest import Shifted
from tools.telemetry.backend import TelemetryError
from tools.telemetry.composite import CompositeBackend, Telemetry, load_topology, open_telemetry
from tools.telemetry.config import TelemetryConfig, TelemetryConfigError
from tools.telemetry.models import TimeWindow
from tools.telemetry.replay.backend import ReplayBackend


def test_nothing_configured_opens_nothing() -> None:
    assert open_telemetry(TelemetryConfig()) is None


def test_a_replay_only_config_is_the_replay_dataset_itself(shifted: Shifted) -> None:
    opened = open_telemetry(TelemetryConfig(path=shifted.root))
    assert opened is not None
    assert isinstance(opened(shifted.case.now), ReplayBackend)
    override = open_telemetry(TelemetryConfig(), dataset=shifted.root)
    assert override is not None and isinstance(override(shifted.case.now), ReplayBackend)


def test_kinds_come_only_from_their_routes(shifted: Shifted) -> None:
    opened = open_telemetry(TelemetryConfig(path=shifted.root, logs="none", traces="none"))
    assert isinstance(opened, Telemetry)
    backend = opened(shifted.case.now)
    assert backend.kinds() == {"metrics", "changes", "topology"}
    window = TimeWindow.of(backend.now_s - 600, backend.now_s)
    assert backend.logs(window) == []
    assert len(backend.log_template_counts(window, 60.0).count) == 0
    assert len(backend.span_stats(window, 60.0)) == 0
    assert backend.metric_series(window)
    assert backend.services() == shifted.dataset.at(shifted.case.now).services()


def test_every_answer_stops_at_now(shifted: Shifted) -> None:
    backend = open_telemetry(TelemetryConfig(path=shifted.root, logs="none"))
    assert isinstance(backend, Telemetry)
    at = backend(shifted.case.now)
    future = TimeWindow.of(at.now_s - 600, at.now_s + 7200)
    assert max(float(s.ts.max()) for s in at.metric_series(future)) == at.now_s
    assert all(c.ts <= at.now for c in at.changes(future))
    frame = at.spans(future)
    assert (frame.ts + frame.duration_ms / 1000 <= at.now_s).all()


def test_backends_must_share_the_clock(shifted: Shifted) -> None:
    now = shifted.case.now
    with pytest.raises(ValueError, match="clock"):
        CompositeBackend(now, {"metrics": shifted.dataset.at(now + timedelta(minutes=1))})


def test_a_declared_topology_wins(shifted: Shifted, tmp_path: Path) -> None:
    path = tmp_path / "topology.yaml"
    path.write_text("services:\n  - {name: edge, depends_on: [payment]}\n  - {name: payment}\n")
    opened = open_telemetry(TelemetryConfig(path=shifted.root, topology_file=path))
    assert isinstance(opened, Telemetry)
    backend = opened(shifted.case.now)
    assert backend.topology().callees("edge") == ["payment"]
    assert "edge" in backend.services() and "payment" in backend.services()
    path.write_text("services: 3\n")
    with pytest.raises(TelemetryConfigError, match="not a topology"):
        load_topology(path)


def test_a_kind_read_from_replay_needs_a_path(tmp_path: Path) -> None:
    config = TelemetryConfig(topology_file=tmp_path / "t.json")
    (tmp_path / "t.json").write_text('{"services": []}')
    with pytest.raises(TelemetryConfigError, match="no path"):
        open_telemetry(config)


def test_store_errors_are_telemetry_errors(shifted: Shifted) -> None:
    config = TelemetryConfig.model_validate(
        {"backend": "prometheus",
         "prometheus": {"url": "http://127.0.0.1:9", "timeout_s": 2,
                        "metrics": [{"match": '{service!=""}'}]}}
    )  # fmt: skip
    opened = open_telemetry(config)
    assert opened is not None
    backend = opened(shifted.case.now)
    with pytest.raises(TelemetryError, match="unreachable"):
        backend.metric_series(TimeWindow.of(backend.now_s - 60, backend.now_s))
