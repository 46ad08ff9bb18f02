"""Deterministic files: the same seed must give the same bytes.

gzip stamps the time and the file name into its header; both are fixed here.
Partitions are by UTC day, each a file per table, opened on first use.
"""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path
from typing import Any

from evals.simulator.timeutil import day_of


class Partitions:
    """Rows of one table (metrics, logs, traces) spread over per-day files."""

    def __init__(self, folder: Path, suffix: str, header: str | None, compress: bool) -> None:
        self.folder = folder
        self.suffix = suffix + (".gz" if compress else "")
        self.header = header
        self.compress = compress
        self._open: dict[str, io.TextIOWrapper] = {}

    def write(self, epoch_s: float, line: str) -> None:
        day = day_of(epoch_s)
        handle = self._open.get(day)
        if handle is None:
            handle = self._open[day] = self._new(day)
        handle.write(line)
        handle.write("\n")

    def _new(self, day: str) -> io.TextIOWrapper:
        self.folder.mkdir(parents=True, exist_ok=True)
        raw = (self.folder / f"{day}{self.suffix}").open("wb")
        stream: Any = (
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6)
            if self.compress
            else raw
        )
        handle = io.TextIOWrapper(stream, encoding="utf-8", newline="\n")
        if self.header:
            handle.write(self.header + "\n")
        return handle

    def close(self) -> None:
        for handle in self._open.values():
            handle.flush()
            inner = handle.detach()
            inner.close()
            raw = getattr(inner, "fileobj", None)
            if isinstance(inner, gzip.GzipFile) and raw is not None:
                raw.close()
        self._open.clear()


def dumps(record: Any) -> str:
    """Compact, key-order-preserving JSON (one JSON-lines record)."""
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False)


def write_jsonl(path: Path, records: list[Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for record in records:
            handle.write(dumps(record) + "\n")


def write_json(path: Path, record: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
