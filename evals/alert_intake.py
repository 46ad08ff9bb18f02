"""Case alert payload -> Alerts, through the product's own intake; and late alerts.

Real alerts fire late (`for: 5m` rules, 5-minute CloudWatch periods, group
waits), so the eval can replay a case as if its alert had fired some seconds
later: a `LaggedCase` moves the case's clock, and `case_alerts` moves the
parsed alerts' times, by the same lag. Every source's payload is parsed as
sent; only the parsed times move, so no source needs its own surgery.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from pydantic import BaseModel, ConfigDict

from agent.alert.models import Alert
from agent.alert.parse import parse_alert
from tools.telemetry.replay.format import CaseRecord

_SPEC = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


class LaggedCase(CaseRecord):
    """A case whose alert fired `alert_lag_s` seconds later than recorded; `now`
    already includes the lag."""

    alert_lag_s: int


class AlertLag(BaseModel):
    """`--alert-lag SPEC`: a fixed lag ("300") or a range drawn per case ("60-360")."""

    model_config = ConfigDict(frozen=True)

    low_s: int
    high_s: int

    @classmethod
    def parse(cls, spec: str) -> AlertLag:
        """SECONDS or MIN-MAX (whole seconds, MIN <= MAX); ValueError says what is wrong."""
        match = _SPEC.match(spec)
        if match is None:
            raise ValueError(f"alert lag {spec!r}: expected SECONDS or MIN-MAX, e.g. 300 or 60-600")
        low = int(match.group(1))
        high = int(match.group(2)) if match.group(2) is not None else low
        if high < low:
            raise ValueError(f"alert lag {spec!r}: MIN is above MAX")
        return cls(low_s=low, high_s=high)

    @property
    def label(self) -> str:
        """How reports name the lag: "300 s", "60-360 s"."""
        span = str(self.low_s) if self.low_s == self.high_s else f"{self.low_s}-{self.high_s}"
        return f"{span} s"

    def draw(self, case_id: str, seed: int) -> int:
        """The lag of one case: the same for the same case id and seed, on any machine."""
        if self.low_s == self.high_s:
            return self.low_s
        digest = hashlib.sha256(f"{seed}:{case_id}".encode()).digest()
        return self.low_s + int.from_bytes(digest[:8], "big") % (self.high_s - self.low_s + 1)

    def apply(self, case: CaseRecord, seed: int = 0) -> CaseRecord:
        """The case as replayed at this lag (unchanged at lag 0)."""
        lag = self.draw(case.id, seed)
        if lag == 0:
            return case
        fields = case.model_dump()
        fields.update(now=case.now + timedelta(seconds=lag), alert_lag_s=lag)
        return LaggedCase.model_validate(fields)


ON_TIME = AlertLag(low_s=0, high_s=0)


def alert_lag_s(case: CaseRecord) -> int:
    return case.alert_lag_s if isinstance(case, LaggedCase) else 0


def case_alerts(case: CaseRecord) -> list[Alert]:
    """The alert(s) a case's payload carries, parsed as the live intake would, with
    their times moved by the case's lag."""
    alerts = parse_alert(case.alert.payload, case.alert.source)
    lag = timedelta(seconds=alert_lag_s(case))
    if not lag:
        return alerts
    return [
        alert.model_copy(
            update={
                "starts_at": alert.starts_at + lag,
                "ends_at": alert.ends_at + lag if alert.ends_at else None,
            }
        )
        for alert in alerts
    ]
