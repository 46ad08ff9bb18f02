"""report.md, report.html and the terminal summary of an eval run.

Both files are rendered from one `ReportData`, so they always say the same
thing. The HTML page is self-contained (plots inlined as base64 PNG) so it can
be attached to a ticket or a PR as is. Every name shown (case ids, services)
comes from a dataset and is escaped.
"""

from __future__ import annotations

import base64
import html
from collections import defaultdict
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, Field
from rich.table import Table

from evals.models import (
    ALL_DATASETS,
    ENGINE,
    CalibrationSummary,
    DatasetRun,
    EvalRun,
    MemoryScore,
    Prediction,
    ScoreRow,
    Scores,
    TimingSummary,
)
from evals.plots import accuracy_bars, reliability_diagram
from evals.scoring import run_timings, service_ranking

RELIABILITY_PNG = "reliability.png"
ACCURACY_PNG = "accuracy.png"


class CaseRow(BaseModel):
    """One line of the per-case table."""

    dataset: str
    id: str
    truth: str | None = None
    top3: list[str] = Field(default_factory=list)
    confidence: float | None = None
    fault_type: str | None = None
    rank: int | None = None
    hit: bool | None = Field(None, description="Top-1 hit; None when the case has no truth.")
    baseline_ranks: dict[str, int | None] = Field(default_factory=dict)
    verdict: str | None = None
    error: str | None = None


class ReportData(BaseModel):
    """Everything the report shows, already computed."""

    started_at: datetime
    datasets: list[DatasetRun]
    methods: list[str]
    notes: list[str] = Field(default_factory=list)
    scored: bool = False
    summary: list[ScoreRow] = Field(default_factory=list)
    by_fault_type: list[ScoreRow] = Field(default_factory=list)
    calibration: list[CalibrationSummary] = Field(default_factory=list)
    timing: list[TimingSummary] = Field(default_factory=list)
    memory: list[MemoryScore] = Field(default_factory=list)
    baseline_setup_s: float | None = None
    cases: list[CaseRow] = Field(default_factory=list)
    plots: dict[str, str] = Field(default_factory=dict, description="File name -> base64 PNG.")


def fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def fmt_s(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


# -- building --------------------------------------------------------------------
def build_report_data(run: EvalRun, scores: Scores | None) -> ReportData:
    truth_by_case = {(c.dataset, c.id, c.method): c for c in scores.cases} if scores else {}
    by_case: dict[tuple[str, str], dict[str, Prediction]] = defaultdict(dict)
    for p in run.predictions:
        by_case[(p.dataset, p.id)][p.method] = p
    rows: list[CaseRow] = []
    for (dataset, case_id), predictions in by_case.items():
        engine = predictions.get(ENGINE)
        scored = truth_by_case.get((dataset, case_id, ENGINE))
        row = CaseRow(dataset=dataset, id=case_id)
        if scored is not None:
            row.truth = f"{scored.true_service} ({scored.true_fault_type})"
            row.rank = scored.rank
            row.hit = scored.rank == 1
        if engine is not None:
            row.top3 = service_ranking(engine.ranking)[:3]
            row.confidence = engine.ranking[0].confidence if engine.ranking else None
            row.fault_type = engine.fault_type
            row.verdict = engine.verdict
            row.error = engine.error
        for method in run.methods:
            if method == ENGINE or method not in predictions:
                continue
            base = truth_by_case.get((dataset, case_id, method))
            row.baseline_ranks[method] = base.rank if base else None
        rows.append(row)

    timing = scores.timing if scores else run_timings(run)
    data = ReportData(
        started_at=run.started_at,
        datasets=run.datasets,
        methods=run.methods,
        notes=run.notes,
        scored=scores is not None,
        summary=scores.summary if scores else [],
        by_fault_type=scores.by_fault_type if scores else [],
        calibration=scores.calibration if scores else [],
        timing=timing,
        memory=scores.memory if scores else [],
        baseline_setup_s=run.baseline_setup_s,
        cases=rows,
    )
    engine_calibration = [c for c in data.calibration if c.method == ENGINE and c.n]
    if engine_calibration:
        data.plots[RELIABILITY_PNG] = _b64(reliability_diagram(engine_calibration))
    per_dataset = [r for r in data.summary if r.dataset != ALL_DATASETS]
    if per_dataset:
        data.plots[ACCURACY_PNG] = _b64(accuracy_bars(per_dataset, run.methods))
    return data


def _b64(png: bytes) -> str:
    return base64.b64encode(png).decode("ascii")


# -- tables as rows of text -------------------------------------------------------
Tab = tuple[list[str], list[list[str]]]


def dataset_table(data: ReportData) -> Tab:
    head = ["dataset", "system", "cases", "services", "truth", "open", "telemetry cache"]
    rows = [
        [
            d.name,
            d.system,
            str(d.cases),
            str(d.services),
            "yes" if d.has_truth else "no (blind)",
            fmt_s(d.load_s),
            "error: " + d.error if d.error else ("parsed now" if d.cache_built else "reused"),
        ]
        for d in data.datasets
    ]
    return head, rows


def summary_table(data: ReportData) -> Tab:
    head = ["dataset", "method", "n", "AC@1", "AC@3", "AC@5", "Avg@5", "chance AC@1"]
    head += ["fault type", "severity", "page team", "no suspect", "errors"]
    rows = [
        [
            r.dataset,
            r.method,
            str(r.n),
            fmt(r.ac1),
            fmt(r.ac3),
            fmt(r.ac5),
            fmt(r.avg5),
            fmt(r.chance_ac1),
            fmt(r.fault_type_acc),
            f"{fmt(r.severity_acc)} (n={r.severity_n})" if r.severity_n else "—",
            f"{fmt(r.page_team_acc)} (n={r.page_team_n})" if r.page_team_n else "—",
            str(r.empty),
            str(r.errors),
        ]
        for r in data.summary
    ]
    return head, rows


def side_by_side_table(data: ReportData) -> Tab:
    """Datasets down, methods across: "AC@1 / AC@3 / Avg@5" per cell."""
    methods = [m for m in data.methods if any(r.method == m for r in data.summary)]
    cells = {(r.dataset, r.method): r for r in data.summary}
    datasets = list(dict.fromkeys(r.dataset for r in data.summary))
    rows = [
        [d]
        + [
            f"{fmt(c.ac1)} / {fmt(c.ac3)} / {fmt(c.avg5)}" if (c := cells.get((d, m))) else "—"
            for m in methods
        ]
        for d in datasets
    ]
    return ["dataset (AC@1 / AC@3 / Avg@5)", *methods], rows


def fault_type_table(data: ReportData) -> Tab:
    methods = [m for m in data.methods if any(r.method == m for r in data.by_fault_type)]
    cells = {(r.dataset, r.fault_type, r.method): r for r in data.by_fault_type}
    groups = list(dict.fromkeys((r.dataset, r.fault_type) for r in data.by_fault_type))
    head = ["dataset", "true fault type", "n", "engine fault-type acc"]
    head += [f"{m} AC@1 / AC@3" for m in methods]
    rows = []
    for dataset, fault_type in groups:
        engine = cells.get((dataset, fault_type, ENGINE))
        any_row = next(r for k, r in cells.items() if k[:2] == (dataset, fault_type))
        engine_acc = fmt(engine.fault_type_acc if engine else None)
        row = [dataset, str(fault_type), str(any_row.n), engine_acc]
        for m in methods:
            c = cells.get((dataset, fault_type, m))
            row.append(f"{fmt(c.ac1)} / {fmt(c.ac3)}" if c else "—")
        rows.append(row)
    return head, rows


def calibration_table(data: ReportData) -> Tab:
    head = ["dataset", "method", "n", "Brier", "ECE (10 bins)"]
    rows = [
        [c.dataset, c.method, str(c.n), fmt(c.brier, 3), fmt(c.ece, 3)] for c in data.calibration
    ]
    return head, rows


def calibration_bins_table(data: ReportData) -> Tab:
    pooled = [c for c in data.calibration if c.method == ENGINE]
    main = next((c for c in pooled if c.dataset == ALL_DATASETS), pooled[0] if pooled else None)
    head = ["confidence bin", "cases", "mean confidence", "hit rate"]
    if main is None:
        return head, []
    rows = [
        [f"[{b.lower:.1f}, {b.upper:.1f})", str(b.n), fmt(b.mean_confidence), fmt(b.accuracy)]
        for b in main.bins
    ]
    return head, rows


def memory_table(data: ReportData) -> Tab:
    head = ["dataset", "cases", "with an earlier same-cause case", "recall@5"]
    head += ["AC@1 without memory", "AC@1 with memory"]
    rows = [
        [
            m.dataset,
            str(m.n),
            str(m.eligible),
            f"{fmt(m.recall_at_5)} ({m.recalled}/{m.eligible})" if m.eligible else "—",
            fmt(m.ac1_without),
            fmt(m.ac1_with),
        ]
        for m in data.memory
    ]
    return head, rows


MEMORY_NOTE = (
    "Memory mode: cases replayed in time order; after each, its incident is stored as resolved"
    " with its true root cause. recall@5 = share of the cases that have an earlier case with the"
    " same root-cause service and fault type whose top 5 recalled incidents include one."
)


def timing_table(data: ReportData) -> Tab:
    head = ["dataset", "method", "cases", "median", "p95", "max", "total"]
    rows = [
        [t.dataset, t.method, str(t.n), *map(fmt_s, (t.median_s, t.p95_s, t.max_s, t.total_s))]
        for t in data.timing
    ]
    return head, rows


def case_table(data: ReportData) -> Tab:
    baselines = [m for m in data.methods if m != ENGINE]
    head = ["dataset", "case", "truth", "engine top-3", "confidence", "engine rank", "hit@1"]
    head += [f"{m} rank" for m in baselines]
    head += ["verdict / error"]
    rows = []
    for c in data.cases:
        hit = "n/a" if c.hit is None else ("hit" if c.hit else "miss")
        row = [
            c.dataset,
            c.id,
            c.truth or "—",
            ", ".join(c.top3) or "—",
            fmt(c.confidence),
            "—" if c.rank is None else str(c.rank),
            hit,
        ]
        row += [
            "—" if c.baseline_ranks.get(m) is None else str(c.baseline_ranks[m]) for m in baselines
        ]
        row.append(c.error or c.verdict or "")
        rows.append(row)
    return head, rows


# -- markdown ----------------------------------------------------------------------
def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_table(tab: Tab) -> str:
    head, rows = tab
    lines = ["| " + " | ".join(_md_cell(h) for h in head) + " |"]
    lines.append("|" + "|".join(" --- " for _ in head) + "|")
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


SCORING_NOTE = (
    "Service level: a ranking counts each service at its best place. AC@k = share of cases "
    "whose true service is in the top k; Avg@5 = mean of AC@1..AC@5; a case that raised is a "
    "miss, and so is one answered with no suspect. Chance AC@1 = 1 / services. Baselines see "
    "[now − 60 min, now], split into normal / anomalous at the alert's start."
)


def render_markdown(data: ReportData) -> str:
    parts = [f"# Eval report ({data.started_at:%Y-%m-%d %H:%M} UTC)", ""]
    if data.notes:
        parts += [*(f"- {n}" for n in data.notes), ""]
    parts += ["## Datasets", "", _md_table(dataset_table(data)), ""]
    if not data.scored:
        parts += ["No dataset had truth.jsonl: a blind run, predictions only, nothing scored.", ""]
    else:
        parts += ["## Scores", "", SCORING_NOTE, "", _md_table(summary_table(data)), ""]
        if len(data.methods) > 1:
            parts += ["### Side by side", "", _md_table(side_by_side_table(data)), ""]
        if ACCURACY_PNG in data.plots:
            parts += [f"![accuracy]({ACCURACY_PNG})", ""]
        parts += ["## By true fault type", "", _md_table(fault_type_table(data)), ""]
        parts += ["## Calibration of top-1 confidence", ""]
        if data.calibration:
            parts += [_md_table(calibration_table(data)), ""]
            parts += [_md_table(calibration_bins_table(data)), ""]
            if RELIABILITY_PNG in data.plots:
                parts += [f"![reliability diagram]({RELIABILITY_PNG})", ""]
        else:
            parts += ["No method gave confidences.", ""]
    if data.memory:
        parts += ["## Incident memory", "", MEMORY_NOTE, "", _md_table(memory_table(data)), ""]
    parts += ["## Timing (wall time per case)", "", _md_table(timing_table(data)), ""]
    if data.baseline_setup_s is not None:
        setup = fmt_s(data.baseline_setup_s)
        parts += [f"Loading the baselines (RCAEval import) took {setup}.", ""]
    parts += ["## Cases", "", _md_table(case_table(data)), ""]
    return "\n".join(parts)


# -- html --------------------------------------------------------------------------
CSS = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
th { background: #f3f3f3; }
td.hit { background: #e3f6e3; } td.miss { background: #fbe5e5; }
.note { color: #555; }
img { max-width: 100%; }
"""


def _html_table(tab: Tab) -> str:
    head, rows = tab
    out = ["<table><thead><tr>"]
    out += [f"<th>{html.escape(h)}</th>" for h in head]
    out.append("</tr></thead><tbody>")
    for row in rows:
        out.append("<tr>")
        for cell in row:
            css = f' class="{cell}"' if cell in ("hit", "miss") else ""
            out.append(f"<td{css}>{html.escape(cell)}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _html_img(data: ReportData, name: str, alt: str) -> str:
    if name not in data.plots:
        return ""
    return f'<p><img alt="{html.escape(alt)}" src="data:image/png;base64,{data.plots[name]}"></p>'


def render_html(data: ReportData) -> str:
    title = f"Eval report ({data.started_at:%Y-%m-%d %H:%M} UTC)"
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    if data.notes:
        parts.append("<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in data.notes) + "</ul>")
    parts += ["<h2>Datasets</h2>", _html_table(dataset_table(data))]
    if not data.scored:
        parts.append(
            "<p>No dataset had truth.jsonl: a blind run, predictions only, nothing scored.</p>"
        )
    else:
        parts += [
            "<h2>Scores</h2>",
            f"<p class='note'>{html.escape(SCORING_NOTE)}</p>",
            _html_table(summary_table(data)),
        ]
        if len(data.methods) > 1:
            parts += ["<h3>Side by side</h3>", _html_table(side_by_side_table(data))]
        parts.append(_html_img(data, ACCURACY_PNG, "accuracy by dataset"))
        parts += ["<h2>By true fault type</h2>", _html_table(fault_type_table(data))]
        parts.append("<h2>Calibration of top-1 confidence</h2>")
        if data.calibration:
            parts += [
                _html_table(calibration_table(data)),
                _html_table(calibration_bins_table(data)),
                _html_img(data, RELIABILITY_PNG, "reliability diagram"),
            ]
        else:
            parts.append("<p>No method gave confidences.</p>")
    if data.memory:
        parts += [
            "<h2>Incident memory</h2>",
            f"<p class='note'>{html.escape(MEMORY_NOTE)}</p>",
            _html_table(memory_table(data)),
        ]
    parts += ["<h2>Timing (wall time per case)</h2>", _html_table(timing_table(data))]
    if data.baseline_setup_s is not None:
        parts.append(
            f"<p>Loading the baselines (RCAEval import) took {fmt_s(data.baseline_setup_s)}.</p>"
        )
    parts += ["<h2>Cases</h2>", _html_table(case_table(data)), "</body></html>"]
    return "\n".join(parts)


# -- terminal ----------------------------------------------------------------------
def terminal_table(data: ReportData) -> Table:
    """The headline numbers for the terminal: accuracy and speed per dataset and method."""
    timing = {(t.dataset, t.method): t for t in data.timing}
    table = Table(title="incident-triage eval", show_lines=False)
    for column in ("dataset", "method", "n", "AC@1", "AC@3", "Avg@5", "fault type", "errors"):
        table.add_column(column, justify="left" if column in ("dataset", "method") else "right")
    table.add_column("median", justify="right")
    table.add_column("p95", justify="right")
    if data.summary:
        for r in data.summary:
            t = timing.get((r.dataset, r.method))
            table.add_row(
                r.dataset,
                r.method,
                str(r.n),
                fmt(r.ac1),
                fmt(r.ac3),
                fmt(r.avg5),
                fmt(r.fault_type_acc),
                str(r.errors),
                fmt_s(t.median_s if t else None),
                fmt_s(t.p95_s if t else None),
            )
    else:
        for t in data.timing:
            dashes = ("—",) * 5
            table.add_row(t.dataset, t.method, str(t.n), *dashes, fmt_s(t.median_s), fmt_s(t.p95_s))
    return table


def memory_terminal_table(data: ReportData) -> Table:
    """Memory mode's headline: recall@5 and AC@1 with and without memory, per dataset."""
    head, rows = memory_table(data)
    table = Table(title="incident memory (sequential)")
    for i, column in enumerate(head):
        table.add_column(column, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*row)
    return table


def write_reports(run: EvalRun, scores: Scores | None, out_dir: Path) -> ReportData:
    """report.md (plots beside it as PNG files) and a self-contained report.html."""
    data = build_report_data(run, scores)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in (RELIABILITY_PNG, ACCURACY_PNG):
        path = out_dir / name
        if name in data.plots:
            path.write_bytes(base64.b64decode(data.plots[name]))
        else:
            path.unlink(missing_ok=True)
    (out_dir / "report.md").write_text(render_markdown(data), encoding="utf-8")
    (out_dir / "report.html").write_text(render_html(data), encoding="utf-8")
    return data
