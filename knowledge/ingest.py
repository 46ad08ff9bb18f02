"""Reading postmortems, runbooks and incident exports into records.

Formats (docs/memory.md):
  - Markdown with YAML front matter. `kind: runbook` (or a file under a
    `runbooks/` folder) is a runbook; anything else a postmortem. A postmortem's
    summary, root cause, resolution and timeline may come from the front matter
    or from its `## Summary`, `## Root cause`, `## Resolution` and `## Timeline`
    sections (Japanese headings too: 概要, 根本原因, 対応, タイムライン).
  - JSON: one record, a list of records, or JSON lines; `kind` defaults to incident.

A bad file is reported with its name and the field at fault and skipped; the
good ones are still loaded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from knowledge.records import MemoryRecord, PastIncident, Runbook
from tools.yaml_file import yaml_problem

SUFFIXES = (".md", ".markdown", ".json", ".jsonl")
SKIPPED_NAMES = frozenset({"readme.md", "index.md"})
SECTIONS: dict[str, tuple[str, ...]] = {
    "summary": ("summary", "概要", "サマリ"),
    "root_cause": ("root cause", "根本原因", "原因"),
    "resolution": ("resolution", "対応", "復旧", "解決"),
    "timeline": ("timeline", "タイムライン", "経緯"),
}
HEADING = re.compile(r"^##\s+(.+?)\s*$", re.MULTILINE)
TIME_LINE = re.compile(
    r"^\s*[-*|]\s*(?:\*\*)?(\d{1,2}):(\d{2})(?:\*\*)?\s*(?:JST|UTC)?\s*[|:\-–—]?\s*(.+)$"
)
SUMMARY_CHARS = 700


class IngestError(ValueError):
    """A file cannot be read as a record; the message names the file and the field."""


@dataclass(slots=True)
class IngestReport:
    """What one ingest did: the records read, and one line per file that failed."""

    records: list[MemoryRecord] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    files: int = 0


def read_paths(paths: Iterable[Path]) -> IngestReport:
    """Every record in `paths` (files or folders, recursively); errors collected, not raised."""
    report = IngestReport()
    for path in _files(paths):
        report.files += 1
        try:
            report.records.extend(read_file(path))
        except IngestError as error:
            report.errors.append(str(error))
    return report


def _files(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and p.suffix in SUFFIXES and p.name.lower() not in SKIPPED_NAMES
            )
        else:
            yield path


def read_file(path: Path) -> list[MemoryRecord]:
    if not path.exists():
        raise IngestError(f"{path}: no such file or folder")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise IngestError(f"{path}: cannot read: {error}") from None
    if path.suffix in (".json", ".jsonl"):
        return read_json(text, path)
    return [read_markdown(text, path)]


# -- markdown --------------------------------------------------------------------------
def read_markdown(text: str, path: Path) -> MemoryRecord:
    """A postmortem or runbook from front matter plus body."""
    meta, body = split_front_matter(text, path)
    kind = meta.pop("kind", "runbook" if "runbooks" in path.parts else "incident")
    if kind == "runbook":
        meta.setdefault("body", body.strip())
        meta.setdefault("summary", _first_paragraph(body))
        return _validate(Runbook, {**meta, "source": str(path)}, path)
    if kind != "incident":
        raise IngestError(f"{path}: kind: must be 'incident' or 'runbook', not {kind!r}")
    sections = _sections(body)
    for name in ("summary", "root_cause", "resolution"):
        if name in sections:
            meta.setdefault(name, _first_paragraph(sections[name]))
    if "timeline" in sections and "start" in meta:
        meta.setdefault("timeline", _timeline(sections["timeline"], meta["start"]))
    return _validate(PastIncident, {**meta, "source": str(path)}, path)


def split_front_matter(text: str, path: Path) -> tuple[dict[str, Any], str]:
    if not text.startswith("---"):
        raise IngestError(f"{path}: no front matter (a '---' YAML block must open the file)")
    end = text.find("\n---", 3)
    if end < 0:
        raise IngestError(f"{path}: front matter is not closed by a '---' line")
    try:
        meta = yaml.safe_load(text[3:end]) or {}
    except yaml.YAMLError as error:
        raise IngestError(
            f"{path}: front matter is not valid YAML: {yaml_problem(error)}"
        ) from None
    if not isinstance(meta, dict):
        raise IngestError(f"{path}: front matter must be a mapping of fields")
    return meta, text[end + 4 :].lstrip("-\n")


def _sections(body: str) -> dict[str, str]:
    """Level-2 sections by field name, matched on English or Japanese headings."""
    found: dict[str, str] = {}
    heads = list(HEADING.finditer(body))
    for i, head in enumerate(heads):
        title = head.group(1).lower()
        end = heads[i + 1].start() if i + 1 < len(heads) else len(body)
        name = next((n for n, words in SECTIONS.items() if any(w in title for w in words)), None)
        if name and name not in found:
            found[name] = body[head.end() : end].strip()
    return found


def _first_paragraph(text: str) -> str:
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [ln.strip() for ln in block.splitlines() if not ln.lstrip().startswith("#")]
        paragraph = " ".join(ln for ln in lines if ln)
        if paragraph:
            return paragraph[:SUMMARY_CHARS]
    return ""


def _timeline(section: str, start: Any) -> list[dict[str, Any]]:
    """`- 10:42 text` lines as highlights, dated from `start` (rolling over midnight)."""
    if not isinstance(start, datetime) or start.tzinfo is None:
        return []
    items: list[dict[str, Any]] = []
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    last = start - timedelta(hours=12)
    for line in section.splitlines():
        match = TIME_LINE.match(line)
        if not match:
            continue
        at = day + timedelta(hours=int(match.group(1)), minutes=int(match.group(2)))
        while at < last:
            at += timedelta(days=1)
        last = at
        items.append({"at": at, "text": match.group(3).strip(" |*")})
    return items


# -- json ------------------------------------------------------------------------------
def read_json(text: str, path: Path) -> list[MemoryRecord]:
    try:
        if path.suffix == ".jsonl":
            loaded: Any = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            loaded = json.loads(text)
    except json.JSONDecodeError as error:
        raise IngestError(f"{path}: not valid JSON: {error}") from None
    items = loaded if isinstance(loaded, list) else [loaded]
    records: list[MemoryRecord] = []
    for number, item in enumerate(items, start=1):
        where = Path(f"{path} (record {number})") if len(items) > 1 else path
        if not isinstance(item, dict):
            raise IngestError(f"{where}: a record must be a JSON object")
        kind = item.get("kind", "incident")
        model = Runbook if kind == "runbook" else PastIncident
        records.append(_validate(model, {"source": str(path), **item}, where))
    return records


def _validate(
    model: type[PastIncident] | type[Runbook], data: dict[str, Any], path: Path
) -> MemoryRecord:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise IngestError(f"{path}: {describe_errors(error)}") from None


def describe_errors(error: ValidationError) -> str:
    """`field: problem` for each error, unknown fields named as such."""
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "record"
        if item["type"] == "extra_forbidden":
            parts.append(f"{where}: unknown field")
        elif item["type"] == "missing":
            parts.append(f"{where}: required field is missing")
        else:
            parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)
