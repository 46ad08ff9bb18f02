"""report.md, report.html and the terminal summary of an eval run.

Both files are rendered from one `ReportData`, so they always say the same
thing. They lead with the engine out of sample (each dataset the shipped
ranking model was fitted on is scored by the model fitted without it) per
dataset and alert lag, with the in-sample figures beside them, labelled. The
HTML page is self-contained (plots inlined as base64 PNG) so it can
be attached to a ticket or a PR as is. Every name shown (case ids, services)
comes from a dataset and is escaped.
"""

from __future__ import annotations

import base64
import html
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, Field
from rich.table import Table

from evals.models import (
    ALL_DATASETS,
    ENGINE,
    HELD_OUT,
    IN_SAMPLE,
    NO_LAG,
    CalibrationSummary,
    DatasetRun,
    EvalRun,
    HeadlineRow,
    MemoryScore,
    Prediction,
    ScoreRow,
    Scores,
    TimingSummary,
    VerdictRow,
)
from evals.plots import accuracy_bars, reliability_diagram
from evals.scoring import run_timings, service_ranking

RELIABILITY_PNG = "reliability.png"
ACCURACY_PNG = "accuracy.png"


class CaseRow(BaseModel):
    """One line of the per-case table."""

    dataset: str
    id: str
    lag: str = NO_LAG
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
    lags: list[str] = Field(default_factory=lambda: [NO_LAG])
    notes: list[str] = Field(default_factory=list)
    scored: bool = False
    headline: list[HeadlineRow] = Field(default_factory=list)
    summary: list[ScoreRow] = Field(default_factory=list)
    by_fault_type: list[ScoreRow] = Field(default_factory=list)
    calibration: list[CalibrationSummary] = Field(default_factory=list)
    by_verdict: list[VerdictRow] = Field(default_factory=list)
    timing: list[TimingSummary] = Field(default_factory=list)
    memory: list[MemoryScore] = Field(default_factory=list)
    baseline_setup_s: float | None = None
    cases: list[CaseRow] = Field(default_factory=list)
    plots: dict[str, str] = Field(default_factory=dict, description="File name -> base64 PNG.")

    @property
    def lagged(self) -> bool:
        """Whether any case ran late: only then do tables carry a lag column."""
        return self.lags != [NO_LAG]

    def lag_cells(self, lag: str) -> list[str]:
        return [lag] if self.lagged else []

    def lag_head(self) -> list[str]:
        return ["alert lag"] if self.lagged else []


def fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def fmt_s(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


# -- building --------------------------------------------------------------------
def build_report_data(run: EvalRun, scores: Scores | None) -> ReportData:
    truth_by_case = {(c.dataset, c.id, c.lag, c.method): c for c in scores.cases} if scores else {}
    by_case: dict[tuple[str, str, str], dict[str, Prediction]] = defaultdict(dict)
    for p in run.predictions:
        by_case[(p.dataset, p.id, p.lag)][p.method] = p
    rows: list[CaseRow] = []
    for (dataset, case_id, lag), predictions in by_case.items():
        engine = predictions.get(ENGINE)
        scored = truth_by_case.get((dataset, case_id, lag, ENGINE))
        row = CaseRow(dataset=dataset, id=case_id, lag=lag)
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
            base = truth_by_case.get((dataset, case_id, lag, method))
            row.baseline_ranks[method] = base.rank if base else None
        rows.append(row)

    timing = scores.timing if scores else run_timings(run)
    data = ReportData(
        started_at=run.started_at,
        datasets=run.datasets,
        methods=run.methods,
        lags=run.lags,
        notes=run.notes,
        scored=scores is not None,
        headline=scores.headline if scores else [],
        summary=scores.summary if scores else [],
        by_fault_type=scores.by_fault_type if scores else [],
        calibration=scores.calibration if scores else [],
        by_verdict=scores.by_verdict if scores else [],
        timing=timing,
        memory=scores.memory if scores else [],
        baseline_setup_s=run.baseline_setup_s,
        cases=rows,
    )
    # The figures show the first lag asked for (the tables show every lag).
    first = data.lags[0]
    engine_calibration = [
        c for c in data.calibration if c.method == ENGINE and c.lag == first and c.n
    ]
    if engine_calibration:
        data.plots[RELIABILITY_PNG] = _b64(reliability_diagram(engine_calibration))
    per_dataset = [r for r in data.summary if r.dataset != ALL_DATASETS and r.lag == first]
    if per_dataset:
        data.plots[ACCURACY_PNG] = _b64(accuracy_bars(per_dataset, run.methods))
    return data


def _b64(png: bytes) -> str:
    return base64.b64encode(png).decode("ascii")


# -- tables as rows of text -------------------------------------------------------
Tab = tuple[list[str], list[list[str]]]

MODEL_NAMES = {HELD_OUT: "held out (fitted without it)"}


def model_name(ranking_model: str) -> str:
    return MODEL_NAMES.get(ranking_model, f"{ranking_model} (not in its fit)")


def dataset_table(data: ReportData) -> Tab:
    head = ["dataset", "system", "cases", "services", "truth", "ranking model", "open"]
    head += ["telemetry cache"]
    rows = [
        [
            d.name,
            d.system,
            str(d.cases),
            str(d.services),
            "yes" if d.has_truth else "no (blind)",
            model_name(d.ranking_model),
            fmt_s(d.load_s),
            "error: " + d.error if d.error else ("parsed now" if d.cache_built else "reused"),
        ]
        for d in data.datasets
    ]
    return head, rows


def headline_table(data: ReportData) -> Tab:
    """The engine per dataset and lag: out of sample, then in-sample, then speed."""
    head = ["dataset", "alert lag", "ranking model", "n", "AC@1", "AC@3", "Avg@5", "ECE"]
    head += ["in-sample AC@1", "in-sample AC@3", "in-sample Avg@5", "in-sample ECE"]
    head += ["median time", "p95 time"]
    rows = []
    for h in data.headline:
        inside = h.in_sample
        ece = h.in_sample_calibration.ece if h.in_sample_calibration else None
        rows.append(
            [
                h.dataset,
                h.lag,
                model_name(h.ranking_model),
                str(h.score.n),
                fmt(h.score.ac1),
                fmt(h.score.ac3),
                fmt(h.score.avg5),
                fmt(h.calibration.ece if h.calibration else None),
                *(
                    [fmt(inside.ac1), fmt(inside.ac3), fmt(inside.avg5), fmt(ece)]
                    if inside
                    else ["—"] * 4
                ),
                fmt_s(h.timing.median_s if h.timing else None),
                fmt_s(h.timing.p95_s if h.timing else None),
            ]
        )
    return head, rows


def lag_table(data: ReportData, ece: bool = False, label: str = "in-sample ") -> Tab:
    """Datasets down, alert lags across: the engine's AC@1 (or ECE) out of sample,
    in-sample in brackets (after `label`); for AC@1 the other methods' rows too."""
    headline = {(h.dataset, h.lag): h for h in data.headline}
    cells = {(r.dataset, r.lag, r.method): r for r in data.summary}
    methods = [] if ece else [m for m in data.methods if m not in (ENGINE, IN_SAMPLE)]
    rows = []
    for dataset in dict.fromkeys(h.dataset for h in data.headline):
        row = [dataset, "engine"]
        for lag in data.lags:
            h = headline.get((dataset, lag))
            row.append(_ece_cell(h, label) if ece else _ac1_cell(h, label))
        rows.append(row)
        for method in methods:
            found = [cells.get((dataset, lag, method)) for lag in data.lags]
            if any(found):
                rows.append([dataset, method, *(fmt(c.ac1) if c else "—" for c in found)])
    what = "ECE" if ece else "AC@1"
    return ["dataset", "method", *(f"{what} at {lag}" for lag in data.lags)], rows


def _ac1_cell(h: HeadlineRow | None, label: str = "in-sample ") -> str:
    if h is None:
        return "—"
    inside = f" ({label}{fmt(h.in_sample.ac1)})" if h.in_sample else ""
    return fmt(h.score.ac1) + inside


def _ece_cell(h: HeadlineRow | None, label: str = "in-sample ") -> str:
    if h is None or h.calibration is None:
        return "—"
    inside = h.in_sample_calibration
    return fmt(h.calibration.ece) + (f" ({label}{fmt(inside.ece)})" if inside else "")


def summary_table(data: ReportData) -> Tab:
    head = ["dataset", "method", *data.lag_head(), "n", "AC@1", "AC@3", "AC@5", "Avg@5"]
    head += ["chance AC@1", "fault type", "severity", "page team", "no suspect", "errors"]
    rows = [
        [
            r.dataset,
            r.method,
            *data.lag_cells(r.lag),
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
    """Datasets (and lags) down, methods across: "AC@1 / AC@3 / Avg@5" per cell."""
    methods = [m for m in data.methods if any(r.method == m for r in data.summary)]
    cells = {(r.dataset, r.lag, r.method): r for r in data.summary}
    groups = list(dict.fromkeys((r.dataset, r.lag) for r in data.summary))
    rows = [
        [d, *data.lag_cells(lag)]
        + [
            f"{fmt(c.ac1)} / {fmt(c.ac3)} / {fmt(c.avg5)}" if (c := cells.get((d, lag, m))) else "—"
            for m in methods
        ]
        for d, lag in groups
    ]
    return ["dataset (AC@1 / AC@3 / Avg@5)", *data.lag_head(), *methods], rows


def fault_type_table(data: ReportData) -> Tab:
    methods = [m for m in data.methods if any(r.method == m for r in data.by_fault_type)]
    cells = {(r.dataset, r.lag, r.fault_type, r.method): r for r in data.by_fault_type}
    groups = list(dict.fromkeys((r.dataset, r.lag, r.fault_type) for r in data.by_fault_type))
    head = ["dataset", *data.lag_head(), "true fault type", "n", "engine fault-type acc"]
    head += [f"{m} AC@1 / AC@3" for m in methods]
    rows = []
    for dataset, lag, fault_type in groups:
        engine = cells.get((dataset, lag, fault_type, ENGINE))
        any_row = next(r for k, r in cells.items() if k[:3] == (dataset, lag, fault_type))
        engine_acc = fmt(engine.fault_type_acc if engine else None)
        row = [dataset, *data.lag_cells(lag), str(fault_type), str(any_row.n), engine_acc]
        for m in methods:
            c = cells.get((dataset, lag, fault_type, m))
            row.append(f"{fmt(c.ac1)} / {fmt(c.ac3)}" if c else "—")
        rows.append(row)
    return head, rows


def calibration_table(data: ReportData) -> Tab:
    head = ["dataset", "method", *data.lag_head(), "n", "Brier", "ECE (10 bins)"]
    rows = [
        [c.dataset, c.method, *data.lag_cells(c.lag), str(c.n), fmt(c.brier, 3), fmt(c.ece, 3)]
        for c in data.calibration
    ]
    return head, rows


def calibration_bins_table(data: ReportData) -> Tab:
    """The reliability diagram's numbers: the engine's out-of-sample top-1 confidence
    over all datasets, per bin, at each lag."""
    pooled = {}
    for c in data.calibration:
        if c.method == ENGINE and (c.dataset == ALL_DATASETS or c.lag not in pooled):
            pooled[c.lag] = c
    lags = [lag for lag in data.lags if lag in pooled]
    head = ["confidence bin"]
    for lag in lags:
        at = f" at {lag}" if data.lagged else ""
        head += [f"cases{at}", f"mean confidence{at}", f"hit rate{at}"]
    if not lags:
        return head, []
    rows = []
    for i, first in enumerate(pooled[lags[0]].bins):
        row = [f"[{first.lower:.1f}, {first.upper:.1f})"]
        for lag in lags:
            b = pooled[lag].bins[i]
            row += [str(b.n), fmt(b.mean_confidence), fmt(b.accuracy)]
        rows.append(row)
    return head, rows


def verdict_table(data: ReportData) -> Tab:
    """The engine's top suspects per verdict, out of sample, per dataset and pooled."""
    head = ["dataset", *data.lag_head(), "verdict", "cases", "mean confidence", "hit rate"]
    rows = [
        [v.dataset, *data.lag_cells(v.lag), v.verdict, str(v.n), *_verdict_cells(v)]
        for v in data.by_verdict
    ]
    return head, rows


def _verdict_cells(row: VerdictRow) -> list[str]:
    return [fmt(row.mean_confidence), fmt(row.hit_rate)]


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
    head = ["dataset", "method", *data.lag_head(), "cases", "median", "p95", "max", "total"]
    rows = [
        [
            t.dataset,
            t.method,
            *data.lag_cells(t.lag),
            str(t.n),
            *map(fmt_s, (t.median_s, t.p95_s, t.max_s, t.total_s)),
        ]
        for t in data.timing
    ]
    return head, rows


def case_table(data: ReportData) -> Tab:
    others = [m for m in data.methods if m != ENGINE]
    head = ["dataset", "case", *data.lag_head(), "truth", "engine top-3", "confidence"]
    head += ["engine rank", "hit@1", *(f"{m} rank" for m in others), "verdict / error"]
    rows = []
    for c in data.cases:
        hit = "n/a" if c.hit is None else ("hit" if c.hit else "miss")
        row = [
            c.dataset,
            c.id,
            *data.lag_cells(c.lag),
            c.truth or "—",
            ", ".join(c.top3) or "—",
            fmt(c.confidence),
            "—" if c.rank is None else str(c.rank),
            hit,
        ]
        row += [
            "—" if c.baseline_ranks.get(m) is None else str(c.baseline_ranks[m]) for m in others
        ]
        row.append(c.error or c.verdict or "")
        rows.append(row)
    return head, rows


# -- the report as sections -------------------------------------------------------
SCORING_NOTE = (
    "Service level: a ranking counts each service at its best place. AC@k = share of cases "
    "whose true service is in the top k; Avg@5 = mean of AC@1..AC@5; a case that raised is a "
    "miss, and so is one answered with no suspect. Chance AC@1 = 1 / services. Baselines see "
    "[now − 60 min, now], split into normal / anomalous at the alert's start."
)
HEADLINE_NOTE = (
    "Out of sample first. A dataset the shipped ranking model was fitted on is scored with the"
    " model fitted without it (weights, and a calibration fitted on the other datasets'"
    " leave-one-out predictions); a dataset outside the fit is scored with the shipped model."
    " In-sample = the shipped model on data it was fitted on: optimistic, shown for comparison."
)
LAG_NOTE = (
    "Alert lag: each case's alert and clock moved later by the lag (a range is drawn per case,"
    " the same for the same case id and --seed); the engine and the baselines see the same"
    " late alert."
)
RELIABILITY_NOTE = (
    "The reliability diagram's numbers: per confidence bin, how many top-1 suspects, their"
    " mean confidence and how often they were right. The diagram shows the first lag."
)
VERDICT_NOTE = (
    "The verdict the engine gave with its ranking, held against the truth: a responder"
    " reads 'inconclusive' as less likely right than 'conclusive' at the same confidence."
)
BLIND_NOTE = "No dataset had truth.jsonl: a blind run, predictions only, nothing scored."


@dataclass(slots=True)
class Section:
    """A heading and what sits under it, in order: notes, tables, images."""

    title: str
    level: int = 2
    notes: list[str] = field(default_factory=list)
    tables: list[Tab] = field(default_factory=list)
    images: list[tuple[str, str]] = field(default_factory=list)


def sections(data: ReportData) -> list[Section]:
    """The report top to bottom; markdown and HTML both render these."""
    out = [Section("Datasets", tables=[dataset_table(data)])]
    if not data.scored:
        out[0].notes.append(BLIND_NOTE)
    else:
        out += _score_sections(data)
    if data.memory:
        out.append(Section("Incident memory", notes=[MEMORY_NOTE], tables=[memory_table(data)]))
    timing = Section("Timing (wall time per case)", tables=[timing_table(data)])
    if data.baseline_setup_s is not None:
        setup = fmt_s(data.baseline_setup_s)
        timing.notes.append(f"Loading the baselines (RCAEval import) took {setup}.")
    out += [timing, Section("Cases", tables=[case_table(data)])]
    return out


def _score_sections(data: ReportData) -> list[Section]:
    headline = Section("Headline: the engine out of sample", notes=[HEADLINE_NOTE])
    headline.tables.append(headline_table(data))
    if data.lagged:
        headline.notes.append(LAG_NOTE)
        headline.tables += [lag_table(data), lag_table(data, ece=True)]
    out = [headline, Section("Scores", notes=[SCORING_NOTE], tables=[summary_table(data)])]
    if len(data.methods) > 1:
        out.append(Section("Side by side", level=3, tables=[side_by_side_table(data)]))
    out[-1].images.append((ACCURACY_PNG, "accuracy by dataset"))
    out.append(Section("By true fault type", tables=[fault_type_table(data)]))
    calibration = Section("Calibration of top-1 confidence")
    if not data.calibration:
        calibration.notes.append("No method gave confidences.")
        return [*out, calibration]
    calibration.tables.append(calibration_table(data))
    reliability = Section(
        "Reliability: the engine's out-of-sample top-1 confidence, all datasets",
        level=3,
        notes=[RELIABILITY_NOTE],
        tables=[calibration_bins_table(data)],
        images=[(RELIABILITY_PNG, "reliability diagram")],
    )
    out += [calibration, reliability]
    if data.by_verdict:
        out.append(
            Section("By verdict", level=3, notes=[VERDICT_NOTE], tables=[verdict_table(data)])
        )
    return out


# -- markdown ----------------------------------------------------------------------
def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_table(tab: Tab) -> str:
    head, rows = tab
    lines = ["| " + " | ".join(_md_cell(h) for h in head) + " |"]
    lines.append("|" + "|".join(" --- " for _ in head) + "|")
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def render_markdown(data: ReportData) -> str:
    parts = [f"# Eval report ({data.started_at:%Y-%m-%d %H:%M} UTC)", ""]
    if data.notes:
        parts += [*(f"- {n}" for n in data.notes), ""]
    for section in sections(data):
        parts += ["#" * section.level + " " + section.title, ""]
        for note in section.notes:
            parts += [note, ""]
        for tab in section.tables:
            parts += [_md_table(tab), ""]
        parts += [f"![{alt}]({name})\n" for name, alt in section.images if name in data.plots]
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
    for section in sections(data):
        level = section.level
        parts.append(f"<h{level}>{html.escape(section.title)}</h{level}>")
        parts += [f"<p class='note'>{html.escape(note)}</p>" for note in section.notes]
        parts += [_html_table(tab) for tab in section.tables]
        parts += [_html_img(data, name, alt) for name, alt in section.images]
    parts.append("</body></html>")
    return "\n".join(parts)


# -- terminal ----------------------------------------------------------------------
def _rich_table(title: str, tab: Tab) -> Table:
    head, rows = tab
    table = Table(title=title)
    for i, column in enumerate(head):
        table.add_column(column, justify="left" if i < 2 else "right")
    for row in rows:
        table.add_row(*row)
    return table


def terminal_table(data: ReportData) -> Table:
    """The headline for the terminal: the engine out of sample per dataset and lag,
    in-sample beside it, and speed (other methods: lag_terminal_table); timings
    alone when blind."""
    if not data.headline:
        return _rich_table("incident-triage eval (blind: timings only)", timing_table(data))
    head = ["dataset", "lag", "model", "n", "AC@1", "AC@3", "Avg@5", "ECE"]
    head += ["in-sample AC@1", "in-sample ECE", "fault type", "errors", "median", "p95"]
    rows = []
    for h in data.headline:
        inside = h.in_sample_calibration
        rows.append(
            [
                h.dataset,
                h.lag,
                h.ranking_model,
                str(h.score.n),
                fmt(h.score.ac1),
                fmt(h.score.ac3),
                fmt(h.score.avg5),
                fmt(h.calibration.ece if h.calibration else None),
                fmt(h.in_sample.ac1 if h.in_sample else None),
                fmt(inside.ece if inside else None),
                fmt(h.score.fault_type_acc),
                str(h.score.errors),
                fmt_s(h.timing.median_s if h.timing else None),
                fmt_s(h.timing.p95_s if h.timing else None),
            ]
        )
    return _rich_table("incident-triage eval: the engine out of sample", (head, rows))


def lag_terminal_table(data: ReportData) -> Table | None:
    """AC@1 per dataset and method across lags (the engine's ECE too), when the run
    had more than one lag or method."""
    others = [m for m in data.methods if m not in (ENGINE, IN_SAMPLE)]
    if not data.headline or (len(data.lags) < 2 and not others):
        return None
    head, rows = lag_table(data, label="")
    _, eces = lag_table(data, ece=True, label="")
    ece_of = {row[0]: row[2:] for row in eces}
    none = ["—"] * len(data.lags)
    rows = [[*row, *(ece_of[row[0]] if row[1] == ENGINE else none)] for row in rows]
    head += [f"ECE at {lag}" for lag in data.lags]
    title = "by method and alert lag: the engine out of sample (in-sample in brackets)"
    return _rich_table(title, (head, rows))


def memory_terminal_table(data: ReportData) -> Table:
    """Memory mode's headline: recall@5 and AC@1 with and without memory, per dataset."""
    return _rich_table("incident memory (sequential)", memory_table(data))


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
