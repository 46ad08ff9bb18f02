"""Small inline SVG plots of the series behind the top suspect's metric evidence.

Each plot is one `query_metrics` call (the read-only tool, so the page shows
the same numbers the engine and the chat cite) from the baseline's start to
the triage clock, with the onset marked. The SVG holds only numbers and
escaped text, so it can go into the page as markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from markupsafe import Markup

from agent.chat.lookup import Lookup
from agent.context import TriageContext
from agent.incident.models import Incident
from agent.isolation.evidence import Evidence
from agent.web.words import Locale
from tools.metrics import QueryMetricsOutput, SeriesPoints

WIDTH, HEIGHT, PAD = 360, 120, 6
LEFT, BOTTOM = 44, 18  # room for the value and time axis labels
MAX_PLOTS = 3
POINTS = 60
DEFAULT_SPAN = timedelta(minutes=60)


@dataclass(frozen=True)
class Plot:
    """One series: what it is, the evidence it illustrates, the tool call, the SVG."""

    title: str
    evidence_id: str
    call: str
    svg: Markup


def evidence_plots(ctx: TriageContext, incident: Incident, loc: Locale) -> list[Plot]:
    """Plots for the top suspect's metric evidence (at most MAX_PLOTS), timed as `loc` reads."""
    isolation = incident.isolation
    top = isolation.top() if isolation else None
    if isolation is None or top is None or ctx.telemetry is None:
        return []
    by_id = isolation.evidence_by_id()
    metrics = [by_id[i] for i in top.evidence_ids if i in by_id and by_id[i].kind == "metric"]
    lookup = Lookup.of(ctx, incident)
    end = ctx.incident_now(incident)
    start = isolation.baseline_start or end - DEFAULT_SPAN
    plots = [_plot(lookup, e, (start, end), isolation.onset, loc) for e in metrics[:MAX_PLOTS]]
    return [p for p in plots if p is not None]


def _plot(
    lookup: Lookup,
    evidence: Evidence,
    window: tuple[datetime, datetime],
    onset: datetime | None,
    loc: Locale,
) -> Plot | None:
    start, end = window
    args = evidence.query.args
    metric = args.get("metric")
    if not metric:
        return None
    query = {
        "service": evidence.service,
        "metric": str(metric),
        "instance": evidence.instance or "",
        "start": start.isoformat(),
        "end": end.isoformat(),
        "max_points": POINTS,
        "max_series": 1,
    }
    output = lookup.run("query_metrics", query)
    if not isinstance(output, QueryMetricsOutput) or not output.series:
        return None
    series = output.series[0]
    where = f"{series.service}/{series.instance}" if series.instance else series.service
    call = lookup.calls[-1].text() if lookup.calls else "query_metrics"
    return Plot(
        f"{where} {series.metric}", evidence.id, call, sparkline(series, window, onset, loc)
    )


def sparkline(
    series: SeriesPoints, window: tuple[datetime, datetime], onset: datetime | None, loc: Locale
) -> Markup:
    """The series as an SVG line over the window with a time axis (in the zone the war
    room shows times in) and a value axis, and a dashed line at the onset."""
    start, end = window
    points = [(p.t, p.mean) for p in series.points if p.mean is not None]
    span = max((end - start).total_seconds(), 1.0)
    values = [v for _, v in points]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    scale = (high - low) or 1.0
    right, bottom = WIDTH - PAD, HEIGHT - BOTTOM

    def x(at: datetime) -> float:
        share = min(max((at - start).total_seconds() / span, 0.0), 1.0)
        return LEFT + (right - LEFT) * share

    def y(value: float) -> float:
        return bottom - (bottom - PAD) * (value - low) / scale

    line = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in points)
    parts = [
        f'<line class="axis" x1="{LEFT}" y1="{PAD}" x2="{LEFT}" y2="{bottom}" stroke="#999"/>',
        f'<line class="axis" x1="{LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#999"/>',
    ]
    for value in (low, (low + high) / 2, high):
        parts.append(
            f'<text class="value-tick" x="{LEFT - 3}" y="{y(value) + 3:.1f}"'
            f' text-anchor="end">{escape(_number(value))}</text>'
        )
    ticks = [(start, "start"), (end, "end")]
    if onset is not None and start <= onset <= end:
        ox = x(onset)
        parts.append(
            f'<line class="onset" x1="{ox:.1f}" y1="{PAD}" x2="{ox:.1f}" y2="{bottom}"'
            ' stroke="#c0392b" stroke-dasharray="3,3"/>'
        )
        ticks.append((onset, "middle"))
    for at, anchor in ticks:
        parts.append(
            f'<text class="time-tick" x="{x(at):.1f}" y="{HEIGHT - 4}"'
            f' text-anchor="{anchor}">{loc.minute(at)}</text>'
        )
    label = escape(
        loc.words.plot_label.format(
            metric=series.metric,
            low=_number(low),
            high=_number(high),
            start=loc.minute(start),
            end=loc.minute(end),
            zone=loc.zone_name(end),
        )
    )
    svg = (
        f'<svg class="plot" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}"'
        f' role="img" aria-label="{label}"><title>{label}</title>'
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#fafafa" stroke="#ddd"/>'
        f"{''.join(parts)}"
        f'<polyline fill="none" stroke="#2c6fbb" stroke-width="1.5" points="{line}"/></svg>'
    )
    # Only numbers and escaped text went in above, so this is markup, not data.
    return Markup(svg)


def _number(value: float) -> str:
    return f"{value:.3g}"
