"""A minimal, read-only client for the Prometheus HTTP API.

Only GETs to the read endpoints on the allow-list (tools/telemetry/readonly.py)
are ever sent: the admin API (delete series, snapshots) and lifecycle
endpoints (/-/quit, /-/reload) are refused before a connection is opened.
Standard library only: a triage sends a handful of requests.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from typing import Any

from tools.telemetry.backend import TelemetryError
from tools.telemetry.config import PrometheusConfig
from tools.telemetry.metering import QueryCounter
from tools.telemetry.readonly import check_prometheus_path

# Prometheus refuses a range query of more than 11,000 points per series.
MAX_POINTS = 11_000

Params = Sequence[tuple[str, str]]


class PrometheusClient:
    def __init__(self, config: PrometheusConfig, counter: QueryCounter | None = None) -> None:
        self.config = config
        self.base = config.url.rstrip("/")
        self.counter = counter or QueryCounter()

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": "incident-triage"}
        headers.update(self.config.headers)
        env = self.config.bearer_token_env
        token = os.environ.get(env) if env else None
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def raw(self, path: str, params: Params = ()) -> tuple[int, bytes]:
        """GET `path` (a read endpoint) and return (status, body)."""
        check_prometheus_path(path)
        url = f"{self.base}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(list(params))
        request = urllib.request.Request(url, headers=self._headers(), method="GET")
        with self.counter.timed(f"prometheus.{_operation(path)}"):
            try:
                with urllib.request.urlopen(request, timeout=self.config.timeout_s) as response:
                    return response.status, response.read()
            except urllib.error.HTTPError as error:
                return error.code, error.read()
            except (urllib.error.URLError, TimeoutError, OSError) as error:
                reason = getattr(error, "reason", error)
                raise TelemetryError(f"Prometheus at {self.base} unreachable: {reason}") from None

    def api(self, path: str, params: Params = ()) -> Any:
        """The `data` of an API answer; an error answer raises TelemetryError."""
        status, body = self.raw(path, params)
        try:
            answer = json.loads(body)
        except ValueError:
            raise TelemetryError(
                f"Prometheus {path}: HTTP {status}, not a Prometheus API answer"
            ) from None
        if status >= 400 or answer.get("status") != "success":
            raise TelemetryError(
                f"Prometheus {path}: {answer.get('errorType', f'HTTP {status}')}:"
                f" {answer.get('error', '')}".rstrip(": ")
            )
        return answer.get("data")

    # -- endpoints ---------------------------------------------------------------------
    def query(self, expr: str, at_s: float) -> Any:
        return self.api("/api/v1/query", [("query", expr), ("time", _num(at_s))])

    def query_range(
        self, expr: str, start_s: float, end_s: float, step_s: float
    ) -> list[dict[str, Any]]:
        """Matrix series of `expr` evaluated every `step_s` from start to end (inclusive),
        in as many requests as the 11,000-point limit needs, joined per series."""
        joined: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}
        per_call = (MAX_POINTS - 1) * step_s
        chunk_start = start_s
        while chunk_start <= end_s:
            chunk_end = min(end_s, chunk_start + per_call)
            data = self.api(
                "/api/v1/query_range",
                [
                    ("query", expr),
                    ("start", _num(chunk_start)),
                    ("end", _num(chunk_end)),
                    ("step", _num(step_s)),
                ],
            )
            for result in data.get("result", []):
                labels = result.get("metric", {})
                series = joined.setdefault(
                    tuple(sorted(labels.items())), {"metric": labels, "values": []}
                )
                series["values"] += result.get("values", [])
            chunk_start = chunk_end + step_s
        return list(joined.values())

    def series(self, match: str, start_s: float, end_s: float) -> list[dict[str, str]]:
        return list(
            self.api(
                "/api/v1/series",
                [("match[]", match), ("start", _num(start_s)), ("end", _num(end_s))],
            )
        )

    def label_values(self, label: str, start_s: float, end_s: float) -> list[str]:
        quoted = urllib.parse.quote(label, safe="")
        data = self.api(
            f"/api/v1/label/{quoted}/values", [("start", _num(start_s)), ("end", _num(end_s))]
        )
        return [str(v) for v in data or []]


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.3f}"


def _operation(path: str) -> str:
    parts = [p for p in path.split("/") if p and p not in {"api", "v1", "-"}]
    return "label_values" if parts and parts[0] == "label" else (parts[0] if parts else "root")


def values(pairs: list[list[Any]]) -> tuple[list[float], list[float]]:
    """A matrix series' [[ts, "value"], ...] as timestamps and floats (NaN kept)."""
    ts = [float(p[0]) for p in pairs]
    vs = [float(p[1]) for p in pairs]
    return ts, vs
