"""`triage bench scale`: the deployment on this machine under a burst of alerts.

Starts the API and its workers as processes (distributed: `triage serve --role
api` and K `triage worker`s on PostgreSQL and Redis; embedded: one `triage
serve` with K triage threads), posts N generic alerts in groups of about twenty
per incident from 32 client threads (all at once, or paced at `--rate`),
optionally SIGKILLs one worker when half the alerts are triaged (embedded: the
server, then starts it again), waits for every triage, approves each incident's
page through the API and counts what a stand-in PagerDuty received. Distributed
runs use a schema and a stream of their own, dropped after.

Telemetry is not configured, so each triage is the degraded path (no store to
read): what is measured is the pipeline around the engine (intake, queue,
locks, store, checkpoints, drafts, approvals); telemetry latency adds to it per
triage (docs/scale.md has the model).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import httpx
import yaml
from pydantic import BaseModel

from agent.bench.isolated import isolated
from agent.bench.pager import FakePagerDuty
from agent.config import TriageConfig
from agent.config.engines import CHROMA_ENV, DATABASE_ENV, QUEUE_ENV, EnginesConfig
from agent.engines import Engines

log = logging.getLogger(__name__)

PD_KEY_ENV = "TRIAGE_BENCH_PD_KEY"
ALERTS_PER_INCIDENT = 20
CLIENTS = 32
BOOT_S = 120.0


class ScaleResult(BaseModel):
    """One run's counts and timings (docs/scale.md explains each)."""

    mode: Literal["embedded", "distributed"]
    alerts: int
    workers: int
    threads: int
    kill_worker: bool
    accepted: int
    triaged: int
    failed: int
    lost: int
    incidents: int
    duplicate_incidents: int
    pages: int
    duplicate_pages: int
    alerts_per_s: float
    triaged_per_s: float
    p50_alert_to_drafts_s: float
    p95_alert_to_drafts_s: float
    seconds: float


@dataclass(frozen=True)
class Plan:
    alerts: int
    workers: int
    threads: int = 2
    kill_worker: bool = False
    claim_after_s: float = 10.0
    rate: float | None = None  # alerts/s; None: all at once (a burst)
    timeout_s: float = 900.0

    @property
    def groups(self) -> int:
        return max(1, self.alerts // ALERTS_PER_INCIDENT)


def run_scale(plan: Plan, engines: EnginesConfig, work: Path) -> ScaleResult:
    """Run the plan on `engines` (embedded when it has no queue) under `work`."""
    with ExitStack() as stack:
        if engines.database_url is not None:
            engines = stack.enter_context(
                isolated(engines.database_url, engines.queue_url, "bench")
            )
        engines = engines.model_copy(update={"claim_after_s": plan.claim_after_s})
        pager = stack.enter_context(FakePagerDuty())
        config = bench_config(plan, engines, pager.url)
        fleet = stack.enter_context(Fleet(config, work, plan))
        return _measure(plan, config, fleet, pager)


def _measure(plan: Plan, config: TriageConfig, fleet: Fleet, pager: FakePagerDuty) -> ScaleResult:
    started = time.perf_counter()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    posted = post_alerts(fleet.url, plan, stamp)
    intake_s = time.perf_counter() - started
    rows = len({r for r in posted.values() if r is not None})
    if plan.kill_worker:
        fleet.wait(lambda c: c.get("done", 0) + c.get("failed", 0) >= rows // 2, plan.timeout_s)
        fleet.kill_one()
    fleet.wait(lambda c: c.get("done", 0) + c.get("failed", 0) >= rows, plan.timeout_s)
    triage_s = time.perf_counter() - started
    paged = approve_pages(fleet.url)
    deadline = time.monotonic() + 30
    while sum(pager.triggers.values()) < paged and time.monotonic() < deadline:
        time.sleep(0.1)
    engines = Engines(config, fleet.home, fleet.home / "outbox.jsonl")
    try:
        timing = (intake_s, triage_s)
        return _tally(
            plan,
            distributed=config.engines.distributed,
            engines=engines,
            posted=posted,
            pager=pager,
            timing=timing,
        )
    finally:
        engines.close()


def _tally(
    plan: Plan,
    *,
    distributed: bool,
    engines: Engines,
    posted: dict[str, int | None],
    pager: FakePagerDuty,
    timing: tuple[float, float],
) -> ScaleResult:
    """Counts from the inbox, the incidents and the stand-in PagerDuty."""
    intake_s, triage_s = timing
    items = engines.inbox.items(limit=len(posted) + 10)
    done = [i for i in items if i.state == "done"]
    waits = sorted((i.updated_at - i.received_at).total_seconds() for i in done)
    incidents = engines.store.recent(limit=len(posted) + 10)
    group_of = {fp: int(fp.rsplit("-g", 1)[1]) for fp in posted}
    found: set[str] = set()
    per_group: dict[int, set[str]] = defaultdict(set)
    for incident in incidents:
        for alert in incident.alerts:
            if alert.fingerprint in group_of:
                found.add(alert.fingerprint)
                per_group[group_of[alert.fingerprint]].add(incident.id)
    accepted = [fp for fp, row in posted.items() if row is not None]
    keys_per_group: dict[int, set[str]] = defaultdict(set)
    for incident in incidents:
        sent = pager.triggers.get(incident.id, 0)
        if sent:
            groups = {group_of[a.fingerprint] for a in incident.alerts if a.fingerprint in group_of}
            for group in groups:
                keys_per_group[group].add(incident.id)
    resends = sum(n - 1 for n in pager.triggers.values())
    extra_pages = sum(len(keys) - 1 for keys in keys_per_group.values())
    return ScaleResult(
        mode="distributed" if distributed else "embedded",
        alerts=plan.alerts,
        workers=plan.workers,
        threads=plan.threads,
        kill_worker=plan.kill_worker,
        accepted=len(accepted),
        triaged=len(done),
        failed=sum(1 for i in items if i.state == "failed"),
        lost=len(set(accepted) - found),
        incidents=len(incidents),
        duplicate_incidents=sum(len(ids) - 1 for ids in per_group.values()),
        pages=sum(pager.triggers.values()),
        duplicate_pages=extra_pages + resends,
        alerts_per_s=round(len(accepted) / intake_s, 1),
        triaged_per_s=round(len(done) / triage_s, 1),
        p50_alert_to_drafts_s=round(_quantile(waits, 0.50), 3),
        p95_alert_to_drafts_s=round(_quantile(waits, 0.95), 3),
        seconds=round(triage_s, 1),
    )


def _quantile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] if values else 0.0


def bench_config(plan: Plan, engines: EnginesConfig, pagerduty_url: str) -> TriageConfig:
    """A deployment for the bench: generic alerts without auth on loopback, pages to the
    stand-in, no telemetry, no memory, no time-driven jobs."""
    return TriageConfig.model_validate(
        {
            "language": "en",
            "reinvestigate": {"every_min": 0},
            "memory": {"enabled": False},
            "server": {
                "clock": "wall",
                "escalation_every_s": 0,
                "workers": plan.threads if engines.distributed else plan.workers,
                "sources": {"generic": {"auth": "none"}},
            },
            "dispatch": {
                "max_attempts": 2,
                "pagerduty": {"events_url": pagerduty_url, "routing_key_env": PD_KEY_ENV},
            },
            "engines": engines.model_dump(),
        }
    )


def alert(k: int, plan: Plan, stamp: str) -> dict[str, Any]:
    """Alert `k` of group k % groups: the group's service, a fingerprint of its own."""
    group = k % plan.groups
    return {
        "name": f"BenchErrorRate{k % 7}",
        "service": f"bench-{group}",
        "system": "bench",
        "severity": "critical",
        "starts_at": datetime.now(UTC).isoformat(),
        "fingerprint": f"bench-{stamp}-{k}-g{group}",
    }


def post_alerts(url: str, plan: Plan, stamp: str) -> dict[str, int | None]:
    """Fingerprint -> inbox row of each alert accepted (None: refused)."""
    limits = httpx.Limits(max_connections=CLIENTS)
    started = time.monotonic()
    with httpx.Client(base_url=url, timeout=60, limits=limits) as client:

        def post(k: int) -> tuple[str, int | None]:
            if plan.rate is not None:
                time.sleep(max(0.0, started + k / plan.rate - time.monotonic()))
            body = alert(k, plan, stamp)
            reply = client.post("/v1/alerts/generic", json=body)
            row = reply.json().get("inbox_id") if reply.status_code in (200, 202) else None
            return body["fingerprint"], row

        with ThreadPoolExecutor(CLIENTS) as pool:
            return dict(pool.map(post, range(plan.alerts)))


def approve_pages(url: str) -> int:
    """Approve every incident's page through the API (the run is resumed by the API
    process, whichever worker it stopped in); how many were approved."""
    with httpx.Client(base_url=url, timeout=120) as client:
        listed = client.get("/v1/incidents", params={"limit": 500}).json()
        ids = [i["id"] for i in listed]

        def approve(incident_id: str) -> bool:
            path = f"/v1/incidents/{incident_id}/drafts/{incident_id}-page/approve"
            reply = client.post(path, json={"by": "bench"})
            if reply.status_code != 200:
                log.warning(
                    "page of %s not approved: %s %s",
                    incident_id,
                    reply.status_code,
                    reply.text[:300],
                )
            return reply.status_code == 200

        with ThreadPoolExecutor(8) as pool:
            return sum(pool.map(approve, ids))


class Fleet:
    """The API and worker processes of one run, with their logs under `work`."""

    def __init__(self, config: TriageConfig, work: Path, plan: Plan) -> None:
        self.config = config
        self.work = work
        self.home = work / "home"
        self.plan = plan
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        work.mkdir(parents=True, exist_ok=True)
        self.config_path = work / "triage.yaml"
        settings = config.model_dump(mode="json", exclude_defaults=True)
        self.config_path.write_text(yaml.safe_dump(settings), encoding="utf-8")

    @property
    def distributed(self) -> bool:
        return self.config.engines.distributed

    def __enter__(self) -> Fleet:
        self._start_api()
        if self.distributed:
            for n in range(self.plan.workers):
                self._start(f"worker-{n}", ["worker", "--threads", str(self.plan.threads)])
        self.wait(lambda _: True, BOOT_S)
        return self

    def __exit__(self, *exc: object) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _start_api(self) -> None:
        role = ["--role", "api"] if self.distributed else []
        self._start("api", ["serve", "--port", str(self.port), *role])

    def _start(self, name: str, args: list[str]) -> None:
        env = {
            k: v for k, v in os.environ.items() if k not in (DATABASE_ENV, QUEUE_ENV, CHROMA_ENV)
        }
        env[PD_KEY_ENV] = "bench-routing-key"
        command = [sys.executable, "-m", "agent", *args, "--config", str(self.config_path)]
        command += ["--data-dir", str(self.home), "--log-level", "warning"]
        with (self.work / f"{name}.log").open("ab") as log:
            self.processes[name] = subprocess.Popen(
                command, env=env, stdout=log, stderr=log, cwd=self.work
            )  # not the caller's folder: `-m agent` there could be another checkout's

    def kill_one(self) -> None:
        """SIGKILL a worker (embedded: the server, then start it again)."""
        name = "worker-0" if self.distributed else "api"
        self.processes[name].send_signal(signal.SIGKILL)
        self.processes[name].wait()
        if not self.distributed:
            self._start_api()

    def counts(self) -> dict[str, int] | None:
        try:
            reply = httpx.get(f"{self.url}/v1/inbox/counts", timeout=10)
        except httpx.TransportError:
            return None
        states: dict[str, int] = reply.json().get("states", {})
        return states

    def wait(self, done: Any, timeout_s: float) -> None:
        """Until `done(inbox counts)` holds; a process that died unasked fails the run."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None and process.returncode != -signal.SIGKILL:
                    raise RuntimeError(f"{name} exited ({process.returncode}): {self.tail(name)}")
            found = self.counts()
            if found is not None and done(found):
                return
            time.sleep(0.2)
        raise TimeoutError(f"no progress within {timeout_s:.0f} s: {self.counts()}")

    def tail(self, name: str) -> str:
        text = (self.work / f"{name}.log").read_text(encoding="utf-8", errors="replace")
        return " | ".join(text.strip().splitlines()[-5:])


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
