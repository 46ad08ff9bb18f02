"""Reading postmortems (markdown with front matter, JSON) and runbooks into records."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from knowledge.ingest import IngestError, read_file, read_paths
from knowledge.records import PastIncident, Runbook
from tests.knowledge.conftest import SEED

POSTMORTEM = """---
id: INC-2026-0001
title: Payments failing after deploy
services: [payment, checkout]
fault_type: bad-deploy
severity: SEV1
start: 2026-01-10T23:50:00+09:00
end: 2026-01-11T00:40:00+09:00
alert_names: [PaymentHighErrorRate]
tags: [deploy]
---
# Postmortem

## Summary
Payment v2 broke card payments.

More detail that is not the first paragraph.

## Timeline (JST)
- 23:52 PaymentHighErrorRate fires
- 00:05 **Rolled back** payment
| 00:40 | Resolved |

## 根本原因 / Root cause
A null check was missing.

## Resolution
Rolled back to v1.
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_postmortem_reads_front_matter_and_sections(tmp_path: Path) -> None:
    (record,) = read_file(write(tmp_path, "pm.md", POSTMORTEM))
    assert isinstance(record, PastIncident)
    assert record.id == "INC-2026-0001" and record.root_service == "payment"
    assert record.summary == "Payment v2 broke card payments."
    assert record.root_cause == "A null check was missing."
    assert record.resolution == "Rolled back to v1."
    assert [(h.at.isoformat(), h.text) for h in record.timeline] == [
        ("2026-01-10T23:52:00+09:00", "PaymentHighErrorRate fires"),
        ("2026-01-11T00:05:00+09:00", "Rolled back** payment"),
        ("2026-01-11T00:40:00+09:00", "Resolved"),
    ]
    assert record.available_at == datetime(2026, 1, 10, 15, 40, tzinfo=UTC)
    assert record.source.endswith("pm.md")


def test_json_records_one_a_list_and_json_lines(tmp_path: Path) -> None:
    one = {
        "id": "INC-J1",
        "title": "Cache evictions",
        "services": ["cache"],
        "fault_type": "memory",
        "root_cause": "maxmemory",
        "start": "2026-02-01T00:00:00Z",
        "end": "2026-02-01T01:00:00Z",
    }
    runbook = {"kind": "runbook", "id": "RB-J", "title": "Cache", "services": ["cache"]}
    write(tmp_path, "one.json", json.dumps(one))
    write(tmp_path, "many.json", json.dumps([{**one, "id": "INC-J2"}, runbook]))
    write(tmp_path, "lines.jsonl", json.dumps({**one, "id": "INC-J3"}) + "\n\n")
    report = read_paths([tmp_path])
    assert report.errors == []
    assert sorted(r.id for r in report.records) == ["INC-J1", "INC-J2", "INC-J3", "RB-J"]


def test_a_runbook_keeps_its_body_and_ties_to_services_and_alerts(tmp_path: Path) -> None:
    text = (
        "---\nid: RB-1\ntitle: Disk full\nservices: [search]\n"
        "alert_names: [KubePersistentVolumeFillingUp]\n---\n"
        "First paragraph.\n\n## Diagnosis\n1. df -h\n"
    )
    (record,) = read_file(write(tmp_path, "runbooks/disk.md", text))
    assert isinstance(record, Runbook)
    assert record.summary == "First paragraph." and "## Diagnosis" in record.body
    assert record.alert_names == ["KubePersistentVolumeFillingUp"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("no front matter\n", "no front matter"),
        ("---\nid: [unclosed\n---\nbody\n", "front matter is not valid YAML"),
        ("---\nid: X\n", "front matter is not closed"),
        (
            POSTMORTEM.replace("tags: [deploy]", "tags: [deploy]\nowner: payments"),
            "owner: unknown field",
        ),
        (
            POSTMORTEM.replace("fault_type: bad-deploy", "fault_type: gremlins"),
            "fault_type: Input should be",
        ),
        (
            POSTMORTEM.replace("start: 2026-01-10T23:50:00+09:00\n", ""),
            "start: required field is missing",
        ),
        (POSTMORTEM.replace("+09:00\nend", "\nend"), "start: Input should have timezone info"),
    ],
)
def test_bad_input_names_the_file_and_the_field(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, "bad.md", text)
    with pytest.raises(IngestError) as caught:
        read_file(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert expected in str(caught.value)


def test_one_bad_file_does_not_stop_the_others(tmp_path: Path) -> None:
    write(tmp_path, "good.md", POSTMORTEM)
    write(tmp_path, "bad.md", POSTMORTEM.replace("services: [payment, checkout]\n", ""))
    write(tmp_path, "README.md", "# not a record\n")
    report = read_paths([tmp_path, tmp_path / "missing.md"])
    assert [r.id for r in report.records] == ["INC-2026-0001"]
    assert len(report.errors) == 2
    assert "bad.md: services: required field is missing" in report.errors[0]
    assert "missing.md: no such file or folder" in report.errors[1]


def test_the_seed_corpus_loads_without_errors() -> None:
    report = read_paths([SEED])
    assert report.errors == []
    incidents = [r for r in report.records if isinstance(r, PastIncident)]
    runbooks = [r for r in report.records if isinstance(r, Runbook)]
    assert len(incidents) >= 30 and len(runbooks) >= 10
    assert len({r.id for r in report.records}) == len(report.records)
    assert {"security", "bad-deploy", "database", "dependency-down"} <= {
        i.fault_type for i in incidents
    }
    assert len({i.root_service for i in incidents}) >= 12
    assert any("ja" in i.language for i in incidents)
    assert all(i.root_cause and i.resolution and i.timeline for i in incidents)
