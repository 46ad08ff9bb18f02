"""Log template shifts as evidence: a new or surging line, or a usual one gone quiet."""

from __future__ import annotations

import re

from agent.isolation.evidence import Evidence, EvidenceQuery, make_evidence, window_args
from agent.isolation.signals.security import SecurityLines, security_findings
from tools.analysis.log_shifts import LogShift, log_shifts
from tools.analysis.robust import squash
from tools.analysis.security import SecurityFinding
from tools.analysis.split import BUCKET_S, Split
from tools.bounds import ellipsize
from tools.redact import redact
from tools.telemetry.models import TemplateCounts


def read(
    counts: TemplateCounts, found: SecurityLines, split: Split
) -> tuple[list[LogShift], list[SecurityFinding]]:
    """Template shifts, then the security detectors over the snapshot's search of the
    lines they need (reading the same counts)."""
    return log_shifts(counts, split, BUCKET_S), security_findings(found, split, counts)


LOG_WEIGHT = {
    ("new", True): 1.0,
    ("spike", True): 0.9,
    ("new", False): 0.5,
    ("spike", False): 0.3,
    ("vanished", True): 0.5,
    ("vanished", False): 0.8,
}


def evidence(shift: LogShift, split: Split) -> Evidence:
    """One sentence for a moved template, quoting what the line says (redacted)."""
    level = shift.level or "unlevelled"
    if shift.kind == "vanished":
        summary = (
            f"{shift.service} stopped logging a usual {level} line: expected about "
            f"{shift.expected:.0f} since the onset, saw {shift.current_count}."
        )
    else:
        what = f"a new {level} line" if shift.kind == "new" else f"a surge of {level} lines"
        summary = (
            f"{shift.service} started logging {what}: {shift.current_count} "
            f"since the onset against about {shift.expected:.0f} expected."
        )
    summary_ja = _log_summary_ja(shift, level)
    said = gist(shift.example)
    if said:
        summary = f'{summary[:-1]}: "{redact(said)}".'
        summary_ja = f"{summary_ja[:-1]}：「{redact(said)}」。"
    signal = f"log_{shift.kind}_{'error' if shift.is_error else 'info'}"
    args = {"service": shift.service, "template": redact(shift.template)}
    return make_evidence(
        "log",
        EvidenceQuery(tool="find_log_patterns", args={**args, **window_args(split, shift.since_s)}),
        service=shift.service,
        summary=summary,
        summary_ja=summary_ja,
        strength=squash(shift.z) * LOG_WEIGHT[(shift.kind, shift.is_error)],
        signal=signal,
        values={"z": shift.z, "current": shift.current_count, "expected": shift.expected},
    )


def _log_summary_ja(shift: LogShift, level: str) -> str:
    if shift.kind == "vanished":
        return (
            f"{shift.service}でいつもの{level}ログが出なくなりました（異常開始後の想定は約"
            f"{shift.expected:.0f}件、実際は{shift.current_count}件）。"
        )
    what = "新しい" if shift.kind == "new" else "急増した"
    return (
        f"{shift.service}で{what}{level}ログが出ています（異常開始後{shift.current_count}件、"
        f"通常は約{shift.expected:.0f}件）。"
    )


JSON_MESSAGE = re.compile(r'"(?:msg|message|error|err)"\s*:\s*"((?:[^"\\]|\\.)*)')
EXCEPTION_LINE = re.compile(r"\b((?:[a-z_][\w$]*\.)*[A-Z][\w$]*(?:Exception|Error))\b(?::[^\n]*)?")
GIST_CHARS = 160


def gist(example: str) -> str:
    """What a log line says, without its prefix: a JSON line's message, the text
    after a logger's ' : ', else the first line; plus the exception a stack
    trace below it names."""
    text = example.strip()
    if not text:
        return ""
    first, _, rest = text.partition("\n")
    found = JSON_MESSAGE.search(first) if first.startswith("{") else None
    if found:
        said = found.group(1)
    elif " : " in first:
        said = first.split(" : ", 1)[1]
    else:
        said = first
    thrown = EXCEPTION_LINE.search(rest)
    if thrown and thrown.group(1) not in said:
        said = f"{said} ({thrown.group(0).strip()})"
    return ellipsize(said.strip(), GIST_CHARS)
