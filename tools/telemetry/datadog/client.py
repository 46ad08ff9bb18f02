"""The one place Datadog API clients are made: read-only by construction, metered,
and patient with rate limits only as far as a triage can afford.

Every API object comes from `DatadogClients.api`, on one ApiClient of ours that
checks each call three times against READ_OPERATIONS: the operation itself (its
endpoint is replaced by a refusal before any argument is validated), the
method and route the ApiClient is asked for, and the URL the HTTP layer is
about to send. A write is refused with ReadOnlyViolation before a byte leaves.
The application key then needs only the scopes listed here (docs/telemetry.md
lists them too; a test keeps the two in sync).

A 429 is retried after the X-RateLimit-Reset seconds Datadog sends, if that is
within `max_wait_s`, at most `max_retries` times; every other failure (a
missing scope, an unreachable or slow site, an answer the client's models
cannot parse) becomes DatadogError, a TelemetryError, so the engine leaves that
kind of telemetry out and says why.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import urllib3
from datadog_api_client import ApiClient, Configuration
from datadog_api_client.api_client import Endpoint
from datadog_api_client.exceptions import ApiException, OpenApiException
from datadog_api_client.rest import RESTClientObject

from tools.telemetry.backend import TelemetryError
from tools.telemetry.config import DATADOG_SITES, DatadogConfig, TelemetryConfigError
from tools.telemetry.metering import QueryCounter
from tools.telemetry.readonly import ReadOnlyViolation

STORE = "datadog"
BACKOFF_S = 0.5


@dataclass(frozen=True, slots=True)
class Operation:
    """One read the backends and `triage doctor` send, and the scope it needs."""

    version: str
    method: str
    path: str
    scope: str | None  # None: the API key alone (key validation)

    def pattern(self) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(self.path)) + "$")


# operation id -> where it lives and the application-key scope it needs.
READ_OPERATIONS: Mapping[str, Operation] = {
    "validate": Operation("v1", "GET", "/api/v1/validate", None),
    "list_active_metrics": Operation("v1", "GET", "/api/v1/metrics", "metrics_read"),
    "query_timeseries_data": Operation(
        "v2", "POST", "/api/v2/query/timeseries", "timeseries_query"
    ),
    "list_logs": Operation("v2", "POST", "/api/v2/logs/events/search", "logs_read_data"),
    "aggregate_logs": Operation("v2", "POST", "/api/v2/logs/analytics/aggregate", "logs_read_data"),
    "list_spans": Operation("v2", "POST", "/api/v2/spans/events/search", "apm_read"),
    "aggregate_spans": Operation("v2", "POST", "/api/v2/spans/analytics/aggregate", "apm_read"),
    "list_service_dependencies": Operation("v1", "GET", "/api/v1/service_dependencies", "apm_read"),
    "search_events": Operation("v2", "POST", "/api/v2/events/search", "events_read"),
    "search_security_monitoring_signals": Operation(
        "v2", "POST", "/api/v2/security_monitoring/signals/search",
        "security_monitoring_signals_read",
    ),
}  # fmt: skip
_BY_ROUTE = {(op.method, op.path): name for name, op in READ_OPERATIONS.items()}
_PATHS = [(name, op.pattern()) for name, op in READ_OPERATIONS.items()]


def required_scopes() -> set[str]:
    return {op.scope for op in READ_OPERATIONS.values() if op.scope}


def _allowed(version: str, operation_id: str) -> bool:
    op = READ_OPERATIONS.get(operation_id)
    return op is not None and op.version == version


class DatadogError(TelemetryError):
    """A Datadog read that failed; `status` is the HTTP status (0: none came back)."""

    def __init__(self, operation: str, message: str, status: int = 0) -> None:
        super().__init__(f"Datadog {operation}: {message}")
        self.operation = operation
        self.status = status

    @property
    def scope(self) -> str | None:
        op = READ_OPERATIONS.get(self.operation)
        return op.scope if op else None


class _Refused:
    """What a write endpoint becomes: a refusal, before its arguments are even checked."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.version = endpoint.settings["version"]
        self.operation = endpoint.settings["operation_id"]

    def _refuse(self, *_: Any, **__: Any) -> Any:
        raise ReadOnlyViolation(STORE, f"{self.version}.{self.operation}")

    call_with_http_info = call_with_http_info_paginated = _refuse


class _ReadOnlyRest(RESTClientObject):
    """The HTTP layer, last line: only the read routes' URLs are ever requested."""

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        path = urlsplit(url).path
        name = next((n for n, pattern in _PATHS if pattern.match(path)), None)
        if name is None or READ_OPERATIONS[name].method != method.upper():
            raise ReadOnlyViolation(STORE, f"{method.upper()} {path}")
        return super().request(method, url, *args, **kwargs)


class _GuardedApiClient(ApiClient):
    """An ApiClient that sends only READ_OPERATIONS, meters them, retries 429s within
    bounds and turns every failure into DatadogError."""

    def __init__(self, configuration: Configuration, owner: DatadogClients) -> None:
        self.owner = owner
        super().__init__(configuration)
        self.user_agent = f"incident-triage {self.user_agent}"

    def _build_rest_client(self) -> RESTClientObject:
        return _ReadOnlyRest(self.configuration)

    def call_api(self, resource_path: str, method: str, *args: Any, **kwargs: Any) -> Any:
        name = _BY_ROUTE.get((method.upper(), resource_path))
        if name is None:
            raise ReadOnlyViolation(STORE, f"{method.upper()} {resource_path}")
        config = self.owner.config
        if missing := missing_keys(config):
            raise DatadogError(name, f"no key in {' and '.join(missing)}")
        for attempt in range(config.max_retries + 1):
            try:
                with self.owner.counter.timed(f"{STORE}.{name}"):
                    return super().call_api(resource_path, method, *args, **kwargs)
            except ApiException as error:
                wait = _retry_after(error, attempt, config)
                if wait is None or attempt == config.max_retries:
                    raise _explained(name, error) from None
                time.sleep(wait)
            except OpenApiException as error:
                raise DatadogError(name, f"answered in an unexpected shape: {error}") from None
            except urllib3.exceptions.HTTPError as error:
                where = self.configuration.host
                raise DatadogError(name, f"{where} unreachable or too slow: {error}") from None
        raise AssertionError("unreachable: the loop returns or raises")


def _retry_after(error: ApiException, attempt: int, config: DatadogConfig) -> float | None:
    """Seconds to wait before retrying, or None when the answer is final."""
    status = error.status or 0
    if status == 429:
        headers = {k.lower(): v for k, v in (error.headers or {}).items()}
        reset = headers.get("x-ratelimit-reset")
        wait = float(reset) if reset and reset.replace(".", "", 1).isdigit() else BACKOFF_S
        return wait if wait <= config.max_wait_s else None
    if status in {500, 502, 503, 504}:
        return min(BACKOFF_S * 2**attempt, config.max_wait_s)
    return None


def _explained(name: str, error: ApiException) -> DatadogError:
    status = error.status or 0
    scope = READ_OPERATIONS[name].scope
    if status == 403 and scope is None:
        return DatadogError(name, "forbidden: the API key is not valid", status)
    if status == 403:
        return DatadogError(
            name, f"forbidden: the application key lacks scope {scope} (or is not valid)", status
        )
    if status == 401:
        return DatadogError(name, "unauthorized: check the API and application keys", status)
    if status == 429:
        reset = {k.lower(): v for k, v in (error.headers or {}).items()}.get("x-ratelimit-reset")
        return DatadogError(name, f"rate limited (resets in {reset or '?'} s)", status)
    body = error.body if isinstance(error.body, str) else str(error.body or "")
    return DatadogError(name, f"HTTP {status} {error.reason or ''}: {body[:200]}".strip(), status)


Api = TypeVar("Api")


class DatadogClients:
    """Guarded, metered API objects for one Datadog configuration."""

    def __init__(self, config: DatadogConfig, counter: QueryCounter | None = None) -> None:
        self.config = config
        self.counter = counter or QueryCounter()
        self._lock = threading.Lock()
        self._apis: dict[type, Any] = {}
        self.client = _GuardedApiClient(configuration(config), self)

    @property
    def host(self) -> str:
        return str(self.client.configuration.host)

    def api(self, cls: Callable[[ApiClient], Api]) -> Api:
        """The API object of `cls` (e.g. LogsApi), every write endpoint refused."""
        with self._lock:
            if cls not in self._apis:
                made = cls(self.client)
                for attr, value in vars(made).items():
                    if isinstance(value, Endpoint):
                        settings = value.settings
                        if not _allowed(settings["version"], settings["operation_id"]):
                            setattr(made, attr, _Refused(value))
                self._apis[cls] = made  # type: ignore[index]
            return self._apis[cls]  # type: ignore[index]

    def created(self) -> list[Any]:
        """Every API object made so far (the read-only test walks them all)."""
        with self._lock:
            return list(self._apis.values())

    def endpoint(self, name: str, params: Mapping[str, Any], response_type: Any) -> Endpoint:
        """An endpoint the client library has no method for (the APM service map), made
        the library's way so it goes through the same checks and the same parsing."""
        op = READ_OPERATIONS[name]
        return Endpoint(
            settings={
                "response_type": response_type,
                "auth": ["apiKeyAuth", "appKeyAuth", "AuthZ"],
                "endpoint_path": op.path,
                "operation_id": name,
                "http_method": op.method,
                "version": op.version,
            },
            params_map={
                key: {"openapi_types": kind, "attribute": key, "location": "query"}
                for key, kind in params.items()
            },
            headers_map={"accept": ["application/json"]},
            api_client=self.client,
        )


def configuration(config: DatadogConfig) -> Configuration:
    """The client's Configuration: keys from the environment, the site or URL, timeouts,
    and no retries of its own (ours honour the reset header within bounds)."""
    keys = {
        "apiKeyAuth": os.environ.get(config.api_key_env, ""),
        "appKeyAuth": os.environ.get(config.app_key_env, ""),
    }
    settings = Configuration(
        api_key={k: v for k, v in keys.items() if v},
        request_timeout=config.timeout_s,
        retry_policy=urllib3.Retry(0, redirect=False, respect_retry_after_header=False,
                                   raise_on_status=False),
    )  # fmt: skip
    settings.server_variables["site"] = site(config)
    if config.url:
        settings.host = config.url.rstrip("/")
    return settings


def site(config: DatadogConfig) -> str:
    """`datadog.site`, else DD_SITE, else the US1 site; DD_SITE is checked here."""
    chosen = config.site or os.environ.get("DD_SITE") or "datadoghq.com"
    if chosen not in DATADOG_SITES:
        sites = ", ".join(DATADOG_SITES)
        raise TelemetryConfigError(f"DD_SITE={chosen}: not a Datadog site ({sites})")
    return chosen


def missing_keys(config: DatadogConfig) -> list[str]:
    """The environment variables that should hold a key and do not."""
    return [env for env in (config.api_key_env, config.app_key_env) if not os.environ.get(env)]
