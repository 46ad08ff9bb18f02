"""The replay/1 dataset format (docs/replay-format.md): the models that read it.

Reading a dataset validates every record; a bad line is reported with its
file and line number instead of a traceback.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

FaultType = Literal[
    "cpu",
    "memory",
    "disk",
    "network-delay",
    "network-loss",
    "code-exception",
    "code-error-return",
    "bad-deploy",
    "config",
    "dependency-down",
    "database",
    "resource-exhaustion",
    "traffic-surge",
    "security",
    "unknown",
]
FAULT_TYPES: tuple[str, ...] = FaultType.__args__  # type: ignore[attr-defined]
AlertSource = Literal["alertmanager", "cloudwatch", "datadog", "generic"]
Severity = Literal["SEV1", "SEV2", "SEV3", "SEV4"]


class DatasetFormatError(ValueError):
    """A replay dataset file is missing or malformed; says which file and line."""


class DatasetInfo(BaseModel):
    """dataset.json: what the dataset is, where it came from, its licence and caveats."""

    model_config = ConfigDict(extra="allow")

    format: Literal["replay/1"]
    name: str
    system: str = ""
    description: str = ""
    source: str = ""
    license: str = ""
    attribution: str = ""
    time_range: tuple[datetime, datetime] | None = None
    simulated: bool = Field(
        False, description="Generated, not recorded: a ranking fit gives it only a small share."
    )
    notes: list[str] = Field(default_factory=list)


class CaseAlert(BaseModel):
    source: AlertSource
    payload: dict[str, Any]


class CaseRecord(BaseModel):
    """One incident to replay: the alert as its source sent it, and the replay clock."""

    model_config = ConfigDict(extra="allow")

    id: str
    title: str = ""
    now: datetime
    alert: CaseAlert
    tags: list[str] = Field(default_factory=list)


class RootCause(BaseModel):
    model_config = ConfigDict(extra="allow")

    service: str
    instance: str | None = None
    fault_type: FaultType = "unknown"
    detail: str | None = None


class TruthRecord(BaseModel):
    """What really happened in a case; held back for blind runs."""

    model_config = ConfigDict(extra="allow")

    id: str
    root_cause: RootCause
    fault_start: datetime | None = None
    change_id: str | None = None
    severity: Severity | None = None
    page_team: str | None = None


M = TypeVar("M", bound=BaseModel)


def open_text(path: Path) -> Iterator[str]:
    """Lines of a UTF-8 text file, gzipped or not."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        yield from handle


def read_jsonl(path: Path, model: type[M]) -> list[M]:
    """Every line of a JSON-lines file as `model`; errors name the file and line."""
    records: list[M] = []
    for number, line in enumerate(open_text(path), start=1):
        if not line.strip():
            continue
        try:
            records.append(model.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as error:
            raise DatasetFormatError(f"{path}:{number}: {_first_error(error)}") from None
    return records


def read_json(path: Path, model: type[M]) -> M:
    try:
        return model.model_validate(json.loads("".join(open_text(path))))
    except FileNotFoundError:
        raise DatasetFormatError(f"{path}: missing") from None
    except (json.JSONDecodeError, ValidationError) as error:
        raise DatasetFormatError(f"{path}: {_first_error(error)}") from None


def _first_error(error: Exception) -> str:
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "record"
        return f"{where}: {first['msg']}"
    return str(error)


def find_file(folder: Path, name: str) -> Path | None:
    """`name` or `name.gz` inside `folder`, whichever exists."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.exists():
            return candidate
    return None


def partitions(folder: Path, suffix: str) -> list[Path]:
    """The partition files of one table (`*.csv`, `*.csv.gz`, ...), sorted."""
    if not folder.is_dir():
        return []
    return sorted(
        p for p in folder.iterdir() if p.name.endswith(suffix) or p.name.endswith(f"{suffix}.gz")
    )


def load_cases(root: Path) -> list[CaseRecord]:
    path = find_file(root, "cases.jsonl")
    if path is None:
        raise DatasetFormatError(f"{root}: no cases.jsonl: not a replay/1 dataset")
    return read_jsonl(path, CaseRecord)


def load_truth(root: Path) -> dict[str, TruthRecord] | None:
    """Ground truth by case id, or None for a blind dataset."""
    path = find_file(root, "truth.jsonl")
    return None if path is None else {t.id: t for t in read_jsonl(path, TruthRecord)}


def load_info(root: Path) -> DatasetInfo:
    path = find_file(root, "dataset.json")
    if path is None:
        raise DatasetFormatError(f"{root}: no dataset.json: not a replay/1 dataset")
    return read_json(path, DatasetInfo)
