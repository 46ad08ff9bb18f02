"""The one place AWS clients are made: each guarded read-only and metered.

Backends never call boto3 themselves; they ask this factory, which installs
the read-only guard (tools/telemetry/readonly.py) and the query counter on
every client before handing it out, the STS client used for role assumption
included. Clients are cached: botocore clients are thread-safe, sessions are not.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from botocore.credentials import DeferredRefreshableCredentials

from tools.telemetry.config import AwsConfig
from tools.telemetry.metering import QueryCounter
from tools.telemetry.readonly import ALLOWED_OPERATIONS, install_guard


class AwsClients:
    """Guarded, metered, cached boto3 clients for one AWS configuration."""

    def __init__(self, config: AwsConfig, counter: QueryCounter | None = None) -> None:
        self.config = config
        self.counter = counter or QueryCounter()
        self._lock = threading.RLock()
        self._clients: dict[str, BaseClient] = {}
        self._session: boto3.Session | None = None

    def client(self, service: str) -> Any:
        """The client for `service` (a botocore name on the allow-list)."""
        if service not in ALLOWED_OPERATIONS:
            raise ValueError(f"{service}: not a service incident-triage reads")
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self._make(self._base_session(), service)
            return self._clients[service]

    def created(self) -> list[BaseClient]:
        """Every client made so far (the read-only test walks them all)."""
        with self._lock:
            return list(self._clients.values())

    @property
    def region(self) -> str | None:
        return self._base_session().region_name

    # -- construction ----------------------------------------------------------------
    def _base_session(self) -> boto3.Session:
        with self._lock:
            if self._session is None:
                source = boto3.Session(
                    profile_name=self.config.profile, region_name=self.config.region
                )
                self._session = self._assumed(source) if self.config.role_arn else source
            return self._session

    def _make(self, session: boto3.Session, service: str) -> BaseClient:
        cfg = self.config
        client = session.client(
            service,
            endpoint_url=cfg.endpoints.get(service) or cfg.endpoint_url,
            config=Config(
                connect_timeout=cfg.connect_timeout_s,
                read_timeout=cfg.read_timeout_s,
                retries={"mode": "adaptive", "max_attempts": cfg.max_attempts},
                user_agent_extra="incident-triage",
            ),
        )
        install_guard(client)
        self._meter(client)
        return client

    def _meter(self, client: BaseClient) -> None:
        service = client.meta.service_model.service_name

        def started(context: dict[str, Any], **_: Any) -> None:
            context["triage_started"] = time.perf_counter()

        def finished(context: dict[str, Any], event_name: str, **_: Any) -> None:
            began = context.get("triage_started", time.perf_counter())
            operation = event_name.rsplit(".", 1)[-1]
            self.counter.record(f"{service}.{operation}", time.perf_counter() - began)

        client.meta.events.register("before-call", started, unique_id="triage-meter-start")
        client.meta.events.register("after-call", finished, unique_id="triage-meter-end")
        client.meta.events.register("after-call-error", finished, unique_id="triage-meter-err")

    def _assumed(self, source: boto3.Session) -> boto3.Session:
        """A session whose credentials come from sts:AssumeRole, through a guarded
        client, fetched on first use and refreshed before they expire."""
        sts = self._make(source, "sts")
        with self._lock:
            self._clients["sts"] = sts
        cfg = self.config
        extra = {"ExternalId": cfg.external_id} if cfg.external_id else {}

        def refresh() -> dict[str, str]:
            found = sts.assume_role(
                RoleArn=cfg.role_arn, RoleSessionName=cfg.session_name, **extra
            )["Credentials"]
            return {
                "access_key": found["AccessKeyId"],
                "secret_key": found["SecretAccessKey"],
                "token": found["SessionToken"],
                "expiry_time": found["Expiration"].isoformat(),
            }

        core = source._session  # botocore session: carries region, profile, config
        core._credentials = DeferredRefreshableCredentials(refresh, "sts-assume-role")
        return boto3.Session(botocore_session=core)
