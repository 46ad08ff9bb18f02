"""The whole life after the page as responders type it (real processes, the demo's real
Chroma folder): mitigate with a note, resolve with the cause and what fixed it, read the
postmortem in both languages, approve it, and find it in the memory."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from tests.agent.test_cli import triage

TOKEN = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
EMAIL = "yamada.taro@sakuramart.example"
PHONE = "090-1234-5678"
MITIGATION = "rolled back payment to v1.35.8"
RESOLUTION = "pinned payment to v1.35.8 and fixed request signing"


@dataclass(frozen=True)
class Closed:
    """The demo incident after its lifecycle: the postmortems shown and what the memory holds."""

    english: dict[str, object]
    japanese: dict[str, object]
    exported: str
    remembered: list[dict[str, object]]


@pytest.fixture(scope="module")
def closed(tmp_path_factory: pytest.TempPathFactory) -> Closed:
    root = tmp_path_factory.mktemp("lifecycle")
    assert triage("demo", "--data-dir", str(root)).returncode == 0
    home = ["--data-dir", str(root / "demo")]
    incident = json.loads(triage("incidents", "--json", *home).stdout)[0]["incident_id"]
    # the demo replays a May incident: acknowledged today, months after its page
    assert triage("ack", incident, "--by", "aki", *home).returncode == 0
    mitigated = triage("mitigate", incident, "--note", MITIGATION, "--by", "aki", *home)
    assert mitigated.returncode == 0, mitigated.stderr
    note = f"v1.35.9 broke request signing; token {TOKEN} was in the logs, reported by {EMAIL}"
    resolved = triage(
        "resolve", incident, "--cause", "payment", "--fault-type", "bad-deploy",
        "--note", note, "--resolution", f"{RESOLUTION}; call {PHONE}", "--by", "aki", *home,
    )  # fmt: skip
    assert resolved.returncode == 0, resolved.stderr
    japanese = json.loads(triage("postmortem", incident, "--lang", "ja", "--json", *home).stdout)
    english = json.loads(triage("postmortem", incident, "--lang", "en", "--json", *home).stdout)
    approved = triage("approve", incident, str(english["id"]), "--by", "ben", *home)
    assert approved.returncode == 0, approved.stderr
    exported = (root / "demo" / "postmortems" / f"{incident}.md").read_text(encoding="utf-8")
    found = triage("kb", "search", "payment request signing deploy", "--json", *home)
    assert found.returncode == 0, found.stderr
    return Closed(english, japanese, exported, json.loads(found.stdout))


def test_secrets_and_personal_data_a_resolver_typed_stay_out_of_postmortem_and_memory(
    closed: Closed,
) -> None:
    (record,) = [r for r in closed.remembered if r["kind"] == "incident"]
    for text in (json.dumps(record), closed.exported, closed.japanese["markdown"]):
        assert isinstance(text, str)
        assert TOKEN not in text and EMAIL not in text and PHONE not in text
    assert "request signing" in str(record["root_cause"])
    assert RESOLUTION in str(record["resolution"])


def test_the_postmortem_says_what_mitigated_and_what_resolved_it(closed: Closed) -> None:
    for postmortem in (closed.english, closed.japanese):
        markdown = str(postmortem["markdown"])
        assert MITIGATION in markdown and RESOLUTION in markdown
    assert MITIGATION in closed.exported and RESOLUTION in closed.exported


def section(markdown: object, heading: str) -> str:
    """The body of the Markdown section under `## heading`."""
    return str(markdown).split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]


def test_an_acknowledgement_later_than_the_escalation_policy_did_not_go_well(
    closed: Closed,
) -> None:
    english, japanese = closed.english["markdown"], closed.japanese["markdown"]
    assert "acknowledged" not in section(english, "What went well")
    assert "acknowledged" in section(english, "What did not go well")
    assert "10 min" in section(english, "What did not go well")
    assert "対応開始" not in section(japanese, "うまくいったこと")
    assert "対応開始" in section(japanese, "うまくいかなかったこと")


def test_the_japanese_summary_does_not_call_the_page_the_onset(closed: Closed) -> None:
    summary = section(closed.japanese["markdown"], "概要")
    assert "起票" in summary and "に発生し" not in summary
