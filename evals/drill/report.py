"""The scorecard as a facilitator shows it: Markdown and a standalone HTML page."""

from __future__ import annotations

import html
from pathlib import Path

from evals.drill.score import Scorecard


def markdown(card: Scorecard) -> str:
    rc = card.truth["root_cause"]
    lines = [
        f"# Drill {card.case_id}: {card.team} and the agent",
        "",
        f"**What happened:** {rc['detail']} (onset {card.truth['fault_start']}).",
        "",
        f"| | Truth | {card.team} | pts | Agent | pts | of |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in card.rows:
        lines.append(
            f"| {r.label} | {r.truth} | {r.team} | {r.team_points:.0f} | {r.agent} |"
            f" {r.agent_points:.0f} | {r.out_of} |"
        )
    total = sum(r.out_of for r in card.rows)
    lines += [
        f"| **Total** | | | **{card.total('team'):.0f}** | | **{card.total('agent'):.0f}** |"
        f" {total} |",
        "",
        f"Agent: verdict {card.agent.verdict}, top suspects {', '.join(card.agent.ranking)};"
        f" ran in {card.agent.elapsed_s:.1f} s.",
    ]
    if card.notes:
        lines += ["", f"Team notes: {card.notes}"]
    return "\n".join(lines) + "\n"


def page(card: Scorecard) -> str:
    e = html.escape
    rows = "".join(
        "<tr>"
        f"<th>{e(r.label)}</th><td>{e(r.truth)}</td>"
        f"<td class='{_mark(r.team_points, r.out_of)}'>{e(r.team)}</td>"
        f"<td>{r.team_points:.0f}</td>"
        f"<td class='{_mark(r.agent_points, r.out_of)}'>{e(r.agent)}</td>"
        f"<td>{r.agent_points:.0f}</td><td>{r.out_of}</td></tr>"
        for r in card.rows
    )
    total = sum(r.out_of for r in card.rows)
    rc = card.truth["root_cause"]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Drill {e(card.case_id)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; }}
table {{ border-collapse: collapse; }} th, td {{ border: 1px solid #ccc; padding: .4rem .7rem; }}
th {{ text-align: left; background: #f6f6f6; }} .ok {{ background: #e3f6e3; }}
.part {{ background: #fff6d9; }} .miss {{ background: #fbe3e3; }} tfoot td {{ font-weight: bold; }}
</style></head><body>
<h1>Drill {e(card.case_id)}: {e(card.team)} and the agent</h1>
<p><strong>What happened:</strong> {e(rc["detail"])} (onset {e(card.truth["fault_start"])}).</p>
<table><thead><tr><th></th><th>Truth</th><th>{e(card.team)}</th><th>pts</th><th>Agent</th>
<th>pts</th><th>of</th></tr></thead><tbody>{rows}</tbody>
<tfoot><tr><td>Total</td><td></td><td></td><td>{card.total("team"):.0f}</td><td></td>
<td>{card.total("agent"):.0f}</td><td>{total}</td></tr></tfoot></table>
<p>Agent: verdict {e(card.agent.verdict)}; top suspects {e(", ".join(card.agent.ranking))};
ran in {card.agent.elapsed_s:.1f} s.</p>
{f"<p>Team notes: {e(card.notes)}</p>" if card.notes else ""}
</body></html>
"""


def _mark(points: float, out_of: int) -> str:
    if points >= out_of:
        return "ok"
    return "part" if points > 0 else "miss"


def write(card: Scorecard, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    md, htm = out / "report.md", out / "report.html"
    md.write_text(markdown(card), encoding="utf-8")
    htm.write_text(page(card), encoding="utf-8")
    return [md, htm]
