"""N-sigma as RCAEval implements it: the largest plain z-score (mean / standard
deviation of the normal part) a service's metrics reach after the alert."""

from __future__ import annotations

from datetime import datetime

from evals.baselines import BaselineOutput
from evals.baselines.rcaeval_runner import rank_with_rcaeval
from tools.telemetry.backend import TelemetryBackend


class NSigmaBaseline:
    name = "nsigma"

    def rank(self, backend: TelemetryBackend, alert_at: datetime, case_id: str) -> BaselineOutput:
        return rank_with_rcaeval("nsigma", backend, alert_at)
