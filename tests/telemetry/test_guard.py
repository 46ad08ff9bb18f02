"""Telemetry that fails soft: a store that cannot answer is a recorded gap, asked once per
triage, and the other stores still answer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tests.support.synthetic import SyntheticDataset
from tools.telemetry.backend import TelemetryBackend, TelemetryError, TelemetryKind
from tools.telemetry.composite import CompositeBackend
from tools.telemetry.guard import GuardedBackend, guard, probe
from tools.telemetry.models import SecuritySignal, Series, TimeWindow, to_epoch

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


class Siem(TelemetryBackend):
    """A store that only holds SIEM signals."""

    def kinds(self) -> set[TelemetryKind]:
        return {"metrics"}

    def services(self) -> list[str]:
        return ["auth"]

    def _security_signals(self, window: TimeWindow) -> list[SecuritySignal]:
        return [SecuritySignal(id="s1", ts=self.now, service="auth", severity="high", rule="r")]


def test_siem_signals_pass_through_the_guard_alone_and_in_a_composite(
    synthetic: SyntheticDataset,
) -> None:
    """The triage reads every store through `guard`: a signal the store holds reaches
    the engine, whether the store stands alone or is one of several."""
    now = synthetic.open().cases()[0].now
    window = TimeWindow.of(to_epoch(now) - 600, to_epoch(now))
    alone = guard(Siem(now))
    routes = {"metrics": Siem(now), "logs": synthetic.backend(now)}
    composed = guard(CompositeBackend(now, routes))  # type: ignore[arg-type]
    for backend in (alone, composed):
        assert [s.id for s in backend.security_signals(window)] == ["s1"]


def test_every_wrapper_forwards_every_hook_of_a_backend() -> None:
    """A hook a wrapper does not override falls back to the base's empty answer, and the
    data silently disappears (as SIEM signals once did through the guard)."""
    hooks = {
        name
        for name, member in vars(TelemetryBackend).items()
        if name.startswith("_") and not name.startswith("__") and callable(member)
    } - {"_clamp"}
    for wrapper in (GuardedBackend, CompositeBackend):
        assert hooks <= set(vars(wrapper)), (
            f"{wrapper.__name__} misses {hooks - set(vars(wrapper))}"
        )
