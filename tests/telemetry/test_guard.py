"""Telemetry that fails soft: a store that cannot answer is a recorded gap, asked once per
triage, and the other stores still answer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tests.support.synthetic import SyntheticDataset
from tools.telemetry.backend import TelemetryBackend, TelemetryError, TelemetryKind
from tools.telemetry.composite import CompositeBackend
from tools.telemetry.guard import guard, probe
from tools.telemetry.models import Series, TimeWindow

WHY = "Prometheus at http://127.0.0.1:9 unreachable: [Errno 111] Connection refused"


class DeadMetrics(TelemetryBackend):
    """A metrics store whose every request fails, counting the requests."""

    def __init__(self, now: datetime) -> None:
        super().__init__(now)
        self.asked = 0

    def kinds(self) -> set[TelemetryKind]:
        return {"metrics"}

    def services(self) -> list[str]:
        self.asked += 1
        raise TelemetryError(WHY)

    def _metric_series(
        self,
        window: TimeWindow,
        services: Sequence[str] | None,
        metrics: Sequence[str] | None,
        instances: Sequence[str] | None,
    ) -> list[Series]:
        self.asked += 1
        raise TelemetryError(WHY)


def test_a_dead_store_is_a_gap_asked_once_and_the_others_still_answer(
    synthetic: SyntheticDataset,
) -> None:
    case = synthetic.open().cases()[0]
    replay = synthetic.backend(case.now)
    dead = DeadMetrics(case.now)
    routes = {"metrics": dead, "logs": replay, "topology": replay}
    backend = guard(CompositeBackend(case.now, routes))  # type: ignore[arg-type]
    window = TimeWindow.of(backend.now_s - 600, backend.now_s)

    assert backend.services() == replay.services()
    assert backend.metric_series(window) == [] and backend.metric_series(window) == []
    assert dead.asked == 1, "a store that failed is not asked again in the same triage"
    assert backend.logs(window, limit=3), "logs are read from the replay store as before"
    assert backend.gaps.reasons == {"metrics": WHY}

    again = guard(CompositeBackend(case.now, routes))  # type: ignore[arg-type]
    assert probe(again, ["metrics", "logs"]) == {"metrics": WHY}
    routes["metrics"] = replay
    assert probe(guard(CompositeBackend(case.now, routes)), ["metrics"]) == {}  # type: ignore[arg-type]
