"""Attaching alerts to an open incident: repeats dedup, a recovery is recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agent.alert.models import Alert
from agent.incident.service import attach, open_incident

AT = datetime(2024, 3, 1, 12, tzinfo=UTC)


def alert(status: str = "firing", fingerprint: str = "fp-1") -> Alert:
    return Alert.model_validate(
        {
            "source": "alertmanager",
            "fingerprint": fingerprint,
            "name": "CheckoutErrors",
            "status": status,
            "starts_at": AT,
            "ends_at": AT + timedelta(minutes=7) if status == "resolved" else None,
            "service": "checkout",
        }
    )


def test_a_recovery_of_a_held_alert_replaces_its_firing_copy() -> None:
    incident = open_incident("INC-1", [alert(), alert(fingerprint="fp-2")], AT)
    later = AT + timedelta(minutes=8)
    updated = attach(incident, [alert("resolved")], "same alert fingerprint", later)
    assert [(a.fingerprint, a.status) for a in updated.alerts] == [
        ("fp-1", "resolved"),
        ("fp-2", "firing"),
    ]
    assert updated.alerts[0].ends_at == AT + timedelta(minutes=7)


def test_a_repeat_of_a_firing_alert_is_kept_once() -> None:
    incident = open_incident("INC-1", [alert()], AT)
    updated = attach(incident, [alert()], "same alert fingerprint", AT + timedelta(minutes=1))
    assert [(a.fingerprint, a.status) for a in updated.alerts] == [("fp-1", "firing")]


def recovery_at(end: datetime, fingerprint: str = "fp-1") -> Alert:
    """A recovery as SNS (CloudWatch OK) and Datadog send it: they do not say when the
    condition began, so its start is the time it ended."""
    return alert("resolved", fingerprint).model_copy(update={"starts_at": end, "ends_at": end})


def test_a_recovery_that_does_not_know_its_start_still_ends_the_firing_copy() -> None:
    incident = open_incident("INC-1", [alert(), alert(fingerprint="fp-2")], AT)
    end = AT + timedelta(minutes=31)
    updated = attach(incident, [recovery_at(end)], "the recovery of an alert it holds", end)
    assert [(a.fingerprint, a.status, a.starts_at, a.ends_at) for a in updated.alerts] == [
        ("fp-1", "resolved", AT, end),
        ("fp-2", "firing", AT, None),
    ]


def test_a_flapping_alert_s_recovery_ends_only_what_began_before_it() -> None:
    again = AT + timedelta(minutes=20)
    incident = open_incident("INC-1", [alert()], AT)
    incident = attach(incident, [alert().model_copy(update={"starts_at": again})], "", again)
    late = recovery_at(AT + timedelta(minutes=5))
    updated = attach(incident, [late], "the recovery of an alert it holds", again)
    assert [(a.status, a.starts_at) for a in updated.alerts] == [
        ("resolved", AT),
        ("firing", again),
    ]
