"""Running RCAEval's metric-based rankers (BARO, NSigma) on a replay case.

RCAEval is an optional, heavy import (its e2e package pulls in causal-learn),
so it is imported on first use, once.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from datetime import datetime
from typing import Any

from evals.baselines import BaselineOutput, evidence_window
from evals.baselines.metric_table import metric_table
from tools.telemetry.backend import TelemetryBackend
from tools.telemetry.models import to_epoch

RcaFunction = Callable[..., dict[str, Any]]

# RCAEval's preprocess() only drops the time column and the constant columns
# when it is given a dataset name; any name but its sock-shop special case will do.
RCAEVAL_DATASET = "replay"


@functools.cache
def rcaeval_problem() -> str | None:
    """Why RCAEval's BARO and NSigma cannot be imported here, or None when they can."""
    try:
        rcaeval_functions()
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return None


@functools.cache
def rcaeval_functions() -> dict[str, RcaFunction]:
    """BARO and NSigma, imported without letting RCAEval's import-time side effects
    (a global "ignore all warnings" filter, a matplotlib style) leak into this process."""
    import matplotlib

    with warnings.catch_warnings(), matplotlib.rc_context():
        from RCAEval.e2e import nsigma
        from RCAEval.e2e.baro import baro

    return {"baro": baro, "nsigma": nsigma}


def rank_with_rcaeval(method: str, backend: TelemetryBackend, alert_at: datetime) -> BaselineOutput:
    """Rank services by RCAEval's `method` over the evidence window, split at `alert_at`."""
    series = backend.metric_series(evidence_window(backend.now))
    table = metric_table(series)
    if len(table.frame.columns) <= 1:
        return BaselineOutput(ranking=[], verdict="no-signal")
    rca = rcaeval_functions()[method]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constant columns and the like: RCAEval's own noise
        result = rca(table.frame, inject_time=to_epoch(alert_at), dataset=RCAEVAL_DATASET)
    ranking = table.services_ranked([str(c) for c in result["ranks"]])
    return BaselineOutput(ranking=ranking, verdict="conclusive" if ranking else "no-signal")
