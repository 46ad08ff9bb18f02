"""Floors an engine must clear: a seeded random order and "the loudest service"."""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from datetime import datetime

from evals.baselines import BaselineOutput, evidence_window
from evals.models import RankedSuspect
from tools.telemetry.backend import TelemetryBackend

RANDOM_SEED = 20240601
ERROR_LEVELS = ("ERROR",)


def case_seed(case_id: str, seed: int = RANDOM_SEED) -> int:
    """A seed per case that is the same in every process (unlike hash())."""
    return int(hashlib.sha256(f"{seed}:{case_id}".encode()).hexdigest()[:16], 16)


class RandomBaseline:
    """Every service in a random order, the same order for a case in every run."""

    name = "random"

    def __init__(self, seed: int = RANDOM_SEED) -> None:
        self.seed = seed

    def rank(self, backend: TelemetryBackend, alert_at: datetime, case_id: str) -> BaselineOutput:
        services = sorted(backend.services())
        random.Random(case_seed(case_id, self.seed)).shuffle(services)
        share = 1.0 / len(services) if services else 0.0
        ranking = [RankedSuspect(service=s, score=share) for s in services]
        return BaselineOutput(ranking=ranking, verdict="inconclusive")


class MostErrorsBaseline:
    """Services by how many ERROR log lines they wrote in the evidence window.

    Only services that logged an error are ranked (ties by name): a service
    without one is no suspect to this baseline, so a dataset without logs
    gives empty rankings (all misses) rather than an alphabetical guess.
    """

    name = "most-errors"

    def rank(self, backend: TelemetryBackend, alert_at: datetime, case_id: str) -> BaselineOutput:
        window = evidence_window(backend.now)
        counts = backend.log_template_counts(
            window, bucket_s=max(window.seconds, 1.0), levels=ERROR_LEVELS
        )
        errors: Counter[str] = Counter()
        for service, count in zip(counts.service, counts.count, strict=True):
            errors[str(service)] += int(count)
        order = sorted((s for s in errors if errors[s] > 0), key=lambda s: (-errors[s], s))
        ranking = [RankedSuspect(service=s, score=float(errors[s])) for s in order]
        return BaselineOutput(ranking=ranking, verdict="conclusive" if ranking else "no-signal")
