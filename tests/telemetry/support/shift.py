"""A replay dataset moved in time, every timestamp by the same whole number of days.

CloudWatch keeps (and moto accepts) only recent data: log events older than
14 days are refused, ListMetrics forgets metrics after two weeks. The parity
tests therefore move a dataset to a few days ago; all three stores (replay
files, CloudWatch, Prometheus) then hold the very same shifted data.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

_STAMP = re.compile(r"^(19[7-9]\d|2\d{3})-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def days_to_recent(moment: datetime, days_ago: int = 2) -> timedelta:
    """Whole days that move `moment` to the same time of day `days_ago` days ago."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return timedelta(days=(today - timedelta(days=days_ago) - moment).days + 1)


def _shift_text(value: str, by: timedelta) -> str:
    if not _STAMP.match(value):
        return value
    moved = datetime.fromisoformat(value.replace("Z", "+00:00")) + by
    text = moved.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return text.replace(".000Z", "Z")


def _shift_json(value: Any, by: timedelta) -> Any:
    if isinstance(value, str):
        return _shift_text(value, by)
    if isinstance(value, list):
        return [_shift_json(v, by) for v in value]
    if isinstance(value, dict):
        return {k: _shift_json(v, by) for k, v in value.items()}
    return value


def _read(path: Path) -> str:
    if path.suffix == ".gz":
        return gzip.decompress(path.read_bytes()).decode("utf-8")
    return path.read_text(encoding="utf-8")


def _write(path: Path, text: str) -> None:
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode("utf-8")))
    else:
        path.write_text(text, encoding="utf-8")


def shift_dataset(source: Path, target: Path, by: timedelta) -> Path:
    """Copy the replay/1 dataset at `source` to `target`, every timestamp moved `by`."""
    for path in sorted(source.rglob("*")):
        if path.is_dir():
            continue
        out = target / path.relative_to(source)
        out.parent.mkdir(parents=True, exist_ok=True)
        name = path.name.removesuffix(".gz")
        text = _read(path)
        if name.endswith(".csv"):
            rows = list(csv.reader(io.StringIO(text)))
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(rows[0])
            writer.writerows([_shift_text(r[0], by), *r[1:]] for r in rows[1:])
            _write(out, buffer.getvalue())
        elif name.endswith(".jsonl"):
            lines = [json.loads(line) for line in text.splitlines() if line.strip()]
            _write(out, "".join(json.dumps(_shift_json(r, by)) + "\n" for r in lines))
        elif name.endswith(".json"):
            _write(out, json.dumps(_shift_json(json.loads(text), by), indent=2))
        else:
            _write(out, text)
    return target
