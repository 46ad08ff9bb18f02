"""BARO (Pham et al., FSE 2024) as RCAEval implements it: the largest robust
z-score (median / IQR of the normal part) a service's metrics reach after the alert."""

from __future__ import annotations

from datetime import datetime

from evals.baselines import BaselineOutput
from evals.baselines.rcaeval_runner import rank_with_rcaeval
from tools.telemetry.backend import TelemetryBackend


class BaroBaseline:
    name = "baro"

    def rank(self, backend: TelemetryBackend, alert_at: datetime, case_id: str) -> BaselineOutput:
        return rank_with_rcaeval("baro", backend, alert_at)
