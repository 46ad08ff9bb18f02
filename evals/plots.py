"""The report's figures as PNG bytes (matplotlib, Agg, no pyplot global state).

Figures are drawn under matplotlib's default style: RCAEval restyles matplotlib
globally when imported, and the report should look the same with or without it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.style
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from evals.models import ALL_DATASETS, CalibrationSummary, ScoreRow


def _png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def reliability_diagram(summaries: Sequence[CalibrationSummary]) -> bytes:
    """Hit rate against mean confidence per bin: pooled bars, one line per dataset,
    and below it how many cases fell in each bin."""
    pooled = next((s for s in summaries if s.dataset == ALL_DATASETS), None)
    main = pooled or (summaries[0] if summaries else None)
    with matplotlib.style.context("default"):
        figure = Figure(figsize=(6.0, 6.4))
        top, bottom = figure.subplots(2, 1, height_ratios=[3, 1], sharex=True)
        top.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
        if main is not None:
            filled = [b for b in main.bins if b.n]
            top.bar(
                [(b.lower + b.upper) / 2 for b in filled],
                [b.accuracy or 0.0 for b in filled],
                width=0.095,
                alpha=0.35,
                color="tab:blue",
                edgecolor="tab:blue",
                label=f"{main.dataset} (ECE {main.ece or 0:.3f})",
            )
            bottom.bar(
                [(b.lower + b.upper) / 2 for b in main.bins],
                [b.n for b in main.bins],
                width=0.095,
                color="tab:blue",
                alpha=0.6,
            )
        for s in summaries:
            if s is main:
                continue
            points = [b for b in s.bins if b.n]
            top.plot(
                [b.mean_confidence for b in points],
                [b.accuracy for b in points],
                marker="o",
                label=f"{s.dataset} (ECE {s.ece or 0:.3f})",
            )
        top.set_xlim(0, 1)
        top.set_ylim(0, 1.02)
        top.set_ylabel("top-1 hit rate")
        top.set_title("Reliability of top-1 confidence (engine)")
        top.legend(loc="upper left", fontsize="small")
        bottom.set_xlabel("top-1 confidence (10 equal-width bins)")
        bottom.set_ylabel("cases")
        return _png(figure)


def accuracy_bars(rows: Sequence[ScoreRow], methods: Sequence[str]) -> bytes:
    """AC@1 (solid) and AC@3 (light) per dataset, one bar group per method."""
    datasets = list(dict.fromkeys(r.dataset for r in rows))
    by_key = {(r.dataset, r.method): r for r in rows}
    width = 0.8 / max(len(methods), 1)
    with matplotlib.style.context("default"):
        figure = Figure(figsize=(max(6.0, 1.6 * len(datasets) + 2), 3.8))
        axes = figure.subplots()
        colours = matplotlib.colormaps["tab10"]
        for m, method in enumerate(methods):
            xs = [d + (m - (len(methods) - 1) / 2) * width for d in range(len(datasets))]
            ac3 = [by_key[(d, method)].ac3 if (d, method) in by_key else 0.0 for d in datasets]
            ac1 = [by_key[(d, method)].ac1 if (d, method) in by_key else 0.0 for d in datasets]
            axes.bar(xs, ac3, width=width * 0.95, color=colours(m), alpha=0.3)
            axes.bar(xs, ac1, width=width * 0.95, color=colours(m), label=method)
        axes.set_xticks(range(len(datasets)), datasets)
        axes.set_ylim(0, 1)
        axes.set_ylabel("AC@1 (solid), AC@3 (light)")
        axes.set_title("Service-level accuracy by dataset")
        axes.legend(
            fontsize="small",
            ncols=min(len(methods), 5),
            loc="upper center",
            bbox_to_anchor=(0.5, -0.1),
            frameon=False,
        )
        return _png(figure)
