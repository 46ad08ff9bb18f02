"""Traffic surges: where inbound traffic far above normal enters the estate.

A flash sale, a client retrying without backoff or a bot floods the service
it reaches first; everything behind it gets busier and, soon, slower and
failing. The culprit is the traffic itself, at its entry point: the service
whose inbound requests rose although its callers' did not (a service nobody
in the topology calls is an entry point by definition), and which passes the
load on (a callee of it is busier too). That second condition keeps a
datastore hammered by its callers' retries or cache misses from looking like
an entry point: what a callee receives, its callers decide.

The evidence is read off the metric evidence already collected (each
service's own request-rate series against its baseline), so this costs no
query.
"""

from __future__ import annotations

import math
from collections import defaultdict
from statistics import median

from agent.isolation.evidence import Evidence
from tools.telemetry.models import Topology

# Inbound traffic at least this many times normal is a surge; FULL_RATIO is full strength.
SURGE_RATIO = 1.5
FULL_RATIO = 4.0
# ... as sure as the rise itself stands out: one request become six, on a function that
# sees a handful an hour, is a ratio of 6 and no surge (full strength from z = SURE_Z).
SURE_Z = 10.0


def traffic_ratios(evidence: list[Evidence]) -> dict[str, float]:
    """Each service's own inbound request rate now over normal (rises only): its
    service-level series where there is one, else the median over its instances."""
    level: dict[str, list[float]] = defaultdict(list)
    pods: dict[str, list[float]] = defaultdict(list)
    for item in evidence:
        if item.kind != "metric" or item.signal != "traffic" or item.peer:
            continue
        now, usual = item.values.get("current", 0.0), item.values.get("baseline", 0.0)
        if usual <= 0 or now <= usual:
            continue
        (pods if item.instance else level)[item.service].append(now / usual)
    return {s: max(level[s]) if level.get(s) else median(pods[s]) for s in set(level) | set(pods)}


def surge_evidence(evidence: list[Evidence], topology: Topology) -> list[Evidence]:
    """One `surge` item per service where a surge enters."""
    ratios = traffic_ratios(evidence)
    out = []
    for service, ratio in sorted(ratios.items()):
        callers = topology.callers(service)
        upstream = max((ratios.get(c, 1.0) for c in callers), default=1.0)
        entering = ratio / max(upstream, 1.0)
        passed_on = [c for c in topology.callees(service) if ratios.get(c, 1.0) >= SURGE_RATIO]
        if entering < SURGE_RATIO or not passed_on:
            continue
        source = max(
            (
                e
                for e in evidence
                if e.kind == "metric" and e.signal == "traffic" and e.service == service
            ),
            key=lambda e: e.strength,
        )
        held = (
            "nothing calls it"
            if not callers
            else f"its callers' traffic rose at most {upstream:.1f}x"
        )
        held_ja = (
            "呼び出し元はありません" if not callers else f"呼び出し元の増加は最大{upstream:.1f}倍"
        )
        out.append(
            Evidence(
                id=Evidence.make_id("metric", source.query, f"{service}|surge"),
                kind="metric",
                service=service,
                summary=(
                    f"Requests into {service} rose {ratio:.1f}x while {held}: the surge enters"
                    f" here, and {len(passed_on)} service(s) it calls are busier too"
                    f" ({', '.join(sorted(passed_on)[:4])})."
                ),
                summary_ja=(
                    f"{service}へのリクエストが{ratio:.1f}倍に増えました（{held_ja}）。急増はここから"
                    f"入っており、呼び出し先の{len(passed_on)}サービスも負荷が増えています"
                    f"（{'、'.join(sorted(passed_on)[:4])}）。"
                ),
                query=source.query,
                strength=min(1.0, math.log(entering) / math.log(FULL_RATIO))
                * min(1.0, source.values.get("z", 0.0) / SURE_Z),
                signal="surge",
                values={"ratio": ratio, "entering": entering, "upstream": upstream},
            )
        )
    return out
