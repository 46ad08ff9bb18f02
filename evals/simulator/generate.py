"""A whole dataset: plan the cases, simulate each, write replay/1.

Cases are spread over consecutive days, three to eight hours apart, so no
case's window (or the two hours of changes before its onset) overlaps
another's; docs/simulator.md explains the choice. Fault kinds rotate through
the requested list so every kind is covered, culprits are drawn from each
kind's candidates, and times of day follow the kind (a flash sale in the
evening, anything else at any hour).
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from evals.simulator.case import LATE_STREAM, CaseOutput, CasePlan, simulate
from evals.simulator.estate import Estate
from evals.simulator.faults import CATALOGUE, FaultKind, kind
from evals.simulator.timeutil import iso
from evals.simulator.traffic import JST
from evals.simulator.writers import traces
from evals.simulator.writers.files import Partitions, dumps, write_json, write_jsonl

START = datetime(2026, 5, 11, 0, 0, tzinfo=UTC).timestamp()
GAP_MIN_H, GAP_MAX_H = 3.0, 8.0
METRICS_HEADER = "ts,service,instance,metric,value"
VERSION = "1"


@dataclass(frozen=True)
class Options:
    """What `triage simulate` was asked for."""

    out: Path
    seed: int = 1
    cases: int = 20
    faults: tuple[str, ...] = ()
    storm: int = 0
    storm_cases: int = 1
    prefix: str = "sim"
    name: str | None = None
    compress: bool = True
    start_s: float = START
    truth: bool = True
    volume: float = 1.0
    # Late alerts: each case's alert fires a lag drawn from this range of
    # minutes after the fault began; `fault_over` is the share of cases (of
    # kinds that can end) whose fault is over before the triage runs.
    alert_lag_min: tuple[float, float] | None = None
    fault_over: float = 0.0


@dataclass(frozen=True)
class Summary:
    cases: int
    seconds: float
    bytes: int
    fault_counts: dict[str, int]
    truths: list[dict[str, object]]
    outputs: list[CaseOutput]


def plan(options: Options, estate: Estate) -> list[CasePlan]:
    """Which fault strikes where and when, case by case (deterministic by seed)."""
    rng = np.random.default_rng([options.seed, 0xCA5E])
    kinds: list[FaultKind] = [kind(k) for k in options.faults] or list(CATALOGUE)
    order = [kinds[i % len(kinds)] for i in range(options.cases)]
    rng.shuffle(order)
    plans = []
    cursor = options.start_s
    for index, fault in enumerate(order):
        at = _when(cursor, fault, rng)
        culprit = fault.culprits[int(rng.integers(0, len(fault.culprits)))]
        if culprit not in estate.components:
            raise ValueError(f"fault {fault.key}: {culprit} is not in the estate")
        plans.append(
            CasePlan(
                case_id=f"{options.prefix}-{index + 1:04d}",
                index=index,
                kind=fault,
                culprit=culprit,
                fault_s=at,
                seed=options.seed,
                storm=options.storm if index < options.storm_cases else 0,
                volume=options.volume,
            )
        )
        cursor = at
    return _late(plans, options) if options.alert_lag_min else plans


def _late(plans: list[CasePlan], options: Options) -> list[CasePlan]:
    """Each case's alert lag and whether its fault is over by the triage,
    from a random stream of their own (the rest of the plan is unchanged)."""
    assert options.alert_lag_min is not None
    low, high = options.alert_lag_min
    rng = np.random.default_rng([options.seed, LATE_STREAM])
    out = []
    for case in plans:
        lag_s = float(np.floor(rng.uniform(60.0 * low, 60.0 * high)))
        ends = bool(rng.random() < options.fault_over) and case.kind.ends
        out.append(replace(case, alert_lag_s=lag_s, fault_ends=ends))
    return out


def _when(cursor: float, fault: FaultKind, rng: np.random.Generator) -> float:
    earliest = cursor + 3600.0 * GAP_MIN_H
    if not fault.hours:
        return float(np.floor(earliest + rng.uniform(0, 3600.0 * (GAP_MAX_H - GAP_MIN_H))))
    t = earliest
    while datetime.fromtimestamp(t, tz=JST).hour not in fault.hours:
        t += 900.0
    return float(np.floor(t + rng.uniform(0, 1800.0)))


class OutputRefused(ValueError):
    """The output folder holds something other than a dataset written before."""


def _clear(out: Path) -> None:
    """Remove an earlier dataset (or an empty folder) at `out`; refuse anything else, so
    a mistyped --out never deletes someone's folder."""
    if not out.exists():
        return
    if not out.is_dir():
        raise OutputRefused(f"{out}: exists and is not a folder")
    if any(out.iterdir()) and not (out / "dataset.json").is_file():
        raise OutputRefused(
            f"{out}: not empty and not a replay/1 dataset (no dataset.json); refusing to replace it"
        )
    shutil.rmtree(out)


def generate(
    options: Options,
    estate: Estate | None = None,
    plans: list[CasePlan] | None = None,
    keep: bool = False,
) -> Summary:
    """Write the dataset to `options.out` (replacing what was there); with
    `keep`, the summary also holds every case's output (tests read it)."""
    started = time.perf_counter()
    estate = estate or Estate.from_policy()
    plans = plans if plans is not None else plan(options, estate)
    out = options.out
    _clear(out)
    out.mkdir(parents=True)
    tables = {
        "metrics": Partitions(out / "metrics", ".csv", METRICS_HEADER, options.compress),
        "logs": Partitions(out / "logs", ".jsonl", None, options.compress),
        "traces": Partitions(out / "traces", ".csv", traces.HEADER, options.compress),
    }
    cases, truths, changes = [], [], []
    kept: list[CaseOutput] = []
    windows: list[tuple[float, float]] = []
    counts: dict[str, int] = {}
    for case_plan in plans:
        result = simulate(case_plan, estate)
        _write(result, tables)
        cases.append(result.case)
        truths.append(result.truth)
        changes.extend(result.changes)
        windows.append(result.window)
        counts[case_plan.kind.key] = counts.get(case_plan.kind.key, 0) + 1
        if keep:
            kept.append(result)
        if result.storm:
            write_jsonl(out / "alerts" / f"{case_plan.case_id}.jsonl", result.storm)
    for table in tables.values():
        table.close()
    changes.sort(key=lambda c: (c.ts, c.id))
    write_jsonl(out / "changes.jsonl", [_change(c) for c in changes])
    write_jsonl(out / "cases.jsonl", cases)
    if options.truth:
        write_jsonl(out / "truth.jsonl", truths)
    write_json(out / "topology.json", _topology(estate))
    write_json(out / "dataset.json", _info(options, windows, counts))
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return Summary(len(plans), time.perf_counter() - started, size, counts, truths, kept)


def _write(result: CaseOutput, tables: dict[str, Partitions]) -> None:
    for name, rows in (
        ("metrics", result.metrics),
        ("logs", result.logs),
        ("traces", result.spans),
    ):
        for ts, line in rows:
            tables[name].write(ts, line)


def _change(change: object) -> dict[str, object]:
    from evals.simulator.state import Change

    assert isinstance(change, Change)
    record: dict[str, object] = {
        "id": change.id,
        "ts": iso(change.ts),
        "service": change.service,
        "kind": change.kind,
        "summary": change.summary,
    }
    if change.from_version:
        record["from_version"] = change.from_version
        record["to_version"] = change.to_version
    record["actor"] = change.actor
    if change.done_ts:
        record["done_ts"] = iso(change.done_ts)
    return record


def _topology(estate: Estate) -> dict[str, object]:
    return {
        "services": [
            {k: v for k, v in node.model_dump().items() if v is not None}
            for node in estate.topology().services
        ]
    }


def _info(
    options: Options, windows: list[tuple[float, float]], counts: dict[str, int]
) -> dict[str, object]:
    return {
        "format": "replay/1",
        "name": options.name or f"sakuramart-sim-s{options.seed}",
        "system": "sakuramart",
        "description": (
            f"Simulated Sakura Mart estate (evals/simulator, seed {options.seed}):"
            f" {options.cases} planted incidents with metrics, logs, sampled traces, changes,"
            " alerts as their senders post them, and ground truth with severity and the"
            " team paged from the policy."
        ),
        "source": "evals/simulator",
        "simulated": True,
        "license": "Apache-2.0",
        "attribution": "Generated by incident-triage's estate simulator; no real data.",
        "time_range": [iso(min(w[0] for w in windows)), iso(max(w[1] for w in windows))]
        if windows
        else None,
        "generator": {
            "version": VERSION,
            "seed": options.seed,
            "cases": options.cases,
            "faults": list(options.faults) or [k.key for k in CATALOGUE],
            "storm": options.storm,
            "alert_lag_min": list(options.alert_lag_min) if options.alert_lag_min else None,
            "fault_over": options.fault_over,
        },
        "fault_counts": dict(sorted(counts.items())),
        "notes": [
            "Telemetry exists only in each case's window (about an hour before the fault to"
            " the case's now); nothing is written after a case's now.",
            "Logs are thinned (access lines 1 in 1000, failures 1 in 8; app errors 1 in 5) and"
            " traces sampled per journey; see docs/simulator.md.",
        ],
    }


__all__ = ["Options", "Summary", "dumps", "generate", "plan"]
