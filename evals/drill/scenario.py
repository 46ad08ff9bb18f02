"""`triage drill new`: a hidden scenario and what the facilitator keeps sealed.

    DIR/dataset/          replay/1 without truth.jsonl: what responders get
    DIR/BRIEFING.md       the participants' brief: the page they received
    DIR/answers.template.yaml
    DIR/sealed/truth.json the truth (hash recorded in DIR/drill.json)
    DIR/sealed/FACILITATOR.md  what happened, the timeline, what to look for

Drills run in working hours (JST, a weekday), like the annual rehearsal.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from evals.drill.answers import TEMPLATE
from evals.simulator.case import CasePlan
from evals.simulator.estate import Estate
from evals.simulator.faults import CATALOGUE, FaultKind, kind
from evals.simulator.generate import START, Options, generate
from evals.simulator.traffic import JST

DATASET = "dataset"
SEALED = "sealed"
MANIFEST = "drill.json"
HINTS = {
    "security": "the attacker's traces are in the logs: look for many addresses or one"
    " principal doing far more than usual",
    "bad-deploy": "a deploy shortly before the onset, and a new exception on its new pods",
    "config": "a change without a deploy, or something that expired on the hour",
    "dependency-down": "the failing calls all go to one provider (client spans, probes)",
    "database": "every caller of the database is slow at once; its own log says why",
    "resource-exhaustion": "something fills up: a pool, a cache's memory, a consumer's lag",
}


@dataclass(frozen=True)
class Drill:
    root: Path
    case_id: str
    truth: dict[str, Any]


def choose(seed: int, fault: str | None, security: bool) -> FaultKind:
    if fault:
        return kind(fault)
    rng = np.random.default_rng([seed, 0xD811])
    pool = [k for k in CATALOGUE if k.security] if security else list(CATALOGUE)
    return pool[int(rng.integers(0, len(pool)))]


def _working_hours(seed: int) -> float:
    """A weekday between 10:00 and 15:00 JST, some weeks into the dataset calendar."""
    rng = np.random.default_rng([seed, 0x7143])
    day = START + 86400.0 * int(rng.integers(7, 120))
    while True:
        local = datetime.fromtimestamp(day, tz=JST)
        if local.weekday() < 5:
            break
        day += 86400.0
    midnight_jst = day - (local.hour * 3600 + local.minute * 60 + local.second)
    return float(midnight_jst + 3600.0 * rng.uniform(10, 15))


def new_drill(
    seed: int, out: Path, fault: str | None = None, security: bool = False, volume: float = 1.0
) -> Drill:
    chosen = choose(seed, fault, security)
    rng = np.random.default_rng([seed, 0xC0DE])
    culprit = chosen.culprits[int(rng.integers(0, len(chosen.culprits)))]
    case_id = f"drill-{seed:04d}"
    plan = CasePlan(
        case_id=case_id,
        index=0,
        kind=chosen,
        culprit=culprit,
        fault_s=_working_hours(seed),
        seed=seed,
        volume=volume,
    )
    summary = generate(
        Options(
            out=out / DATASET, seed=seed, cases=1, prefix="drill", name=f"drill-{seed}", truth=False
        ),
        Estate.from_policy(),
        [plan],
    )
    truth = dict(summary.truths[0])
    sealed = out / SEALED
    sealed.mkdir(parents=True, exist_ok=True)
    text = json.dumps(truth, indent=2, ensure_ascii=False) + "\n"
    (sealed / "truth.json").write_text(text, encoding="utf-8")
    case = json.loads((out / DATASET / "cases.jsonl").read_text(encoding="utf-8").splitlines()[0])
    (sealed / "FACILITATOR.md").write_text(facilitator_sheet(truth, case, chosen), encoding="utf-8")
    (out / "BRIEFING.md").write_text(briefing(case), encoding="utf-8")
    (out / "answers.template.yaml").write_text(TEMPLATE, encoding="utf-8")
    manifest = {
        "seed": seed,
        "case_id": case_id,
        "dataset": DATASET,
        "sealed_sha256": hashlib.sha256(text.encode()).hexdigest(),
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return Drill(out, case_id, truth)


def briefing(case: dict[str, Any]) -> str:
    alert = case["alert"]
    return (
        f"# Drill {case['id']}\n\n"
        f"You are on call. At **{case['now']}** you are looking at this page:\n\n"
        f"> {case['title']} (via {alert['source']})\n\n"
        "The telemetry of the hour before it is in `dataset/` (replay/1: metrics, logs,"
        " traces, changes, topology). Work out what is wrong, how bad it is by the policy,"
        " who should be paged, and send a first status update. Record your times and"
        " conclusions in a copy of `answers.template.yaml`.\n\n"
        "The raw alert payload is in `dataset/cases.jsonl`.\n"
    )


def facilitator_sheet(truth: dict[str, Any], case: dict[str, Any], fault: FaultKind) -> str:
    rc = truth["root_cause"]
    hint = (
        HINTS.get(fault.fault_type)
        or HINTS.get(fault.key)
        or ("the culprit's own metrics move first; its callers only echo it")
    )
    lines = [
        f"# Facilitator sheet: {case['id']} (keep sealed)",
        "",
        f"- **What happened:** {rc['detail']}",
        f"- **Root cause:** `{rc['service']}`"
        + (f" (`{rc['instance']}`)" if rc.get("instance") else "")
        + f", fault type `{rc['fault_type']}` (scenario `{truth['fault']}`)",
        f"- **Fault started:** {truth['fault_start']}",
        f"- **Alert:** {truth['alert']['name']} on {truth['alert']['service']} via"
        f" {truth['alert']['source']}, {truth['alert']['fired_after_s']} s after the onset",
        f"- **Replay clock (now):** {case['now']}",
        f"- **Expected severity:** {truth['severity']} (policy rule `{truth['severity_rule']}`)",
        f"- **Team to page:** {truth['page_team']}",
        f"- **Services harmed:** {', '.join(truth['harmed'])}",
        f"- **Culprit change:** {truth['change_id'] or 'none'}; benign changes around it:"
        f" {', '.join(truth['decoy_changes']) or 'none'}",
        "",
        "## What to look for",
        "",
        f"- {hint}.",
        "- Decoys: benign deploys near the onset, GC pauses, recommendations' model refresh"
        " every 15 minutes and settlement-batch runs every 30.",
        "",
        "## Scoring",
        "",
        "`triage drill score DIR --answers answers.yaml` holds the team's answers against this"
        " truth and against the agent's own run on the same data.",
        "",
    ]
    return "\n".join(lines)
