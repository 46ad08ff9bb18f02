"""Front-door traffic: a Japanese shop's day (lunch and evening peaks, a quiet
night) and week (weekends busier in the afternoon), with per-minute jitter.

The shape matters to the engine: a fault at 04:00 JST lands on a tenth of the
traffic a fault at 21:00 does, so error counts and latency percentiles are
noisier, as they are in production.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np

JST = timezone(timedelta(hours=9))
PEAK_RPS = 240.0
# Relative load by local hour (0..23), peak 1.0 at 21:00.
HOURLY = np.array(
    [0.42, 0.28, 0.18, 0.12, 0.10, 0.11, 0.17, 0.30, 0.45, 0.52, 0.56, 0.62,
     0.80, 0.74, 0.60, 0.58, 0.60, 0.64, 0.70, 0.80, 0.92, 1.00, 0.90, 0.66]
)  # fmt: skip
WEEKEND_AFTERNOON = 1.25


def shape(epoch_s: np.ndarray) -> np.ndarray:
    """Relative load at each time (hourly profile, linearly interpolated)."""
    out = np.empty(len(epoch_s))
    for i, t in enumerate(epoch_s):
        local = datetime.fromtimestamp(float(t), tz=JST)
        hour = local.hour + local.minute / 60.0
        lo = int(hour) % 24
        hi = (lo + 1) % 24
        frac = hour - int(hour)
        level = HOURLY[lo] * (1 - frac) + HOURLY[hi] * frac
        if local.weekday() >= 5 and 11 <= local.hour <= 18:
            level *= WEEKEND_AFTERNOON
        out[i] = level
    return out


def front_door_rps(epoch_s: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Requests per second reaching web-frontend, minute by minute."""
    base = PEAK_RPS * shape(epoch_s)
    wobble = 1.0 + 0.04 * np.sin(np.arange(len(epoch_s)) / 7.0 + rng.uniform(0, 6.28))
    return np.maximum(base * wobble * rng.normal(1.0, 0.03, len(epoch_s)), 1.0)
