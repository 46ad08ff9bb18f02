"""CloudWatch over SNS: real RSA signatures (v1 SHA1, v2 SHA256) checked against an
injected certificate, and the subscription handshake confirmed only on amazonaws.com."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient

from agent.config import TriageConfig
from agent.server.app import Server, build_server, create_app
from agent.server.sns import string_to_sign
from tests.server.support import ENV

FIXTURES = Path(__file__).parents[1] / "fixtures" / "alerts"
CERT_URL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-test.pem"
TOPIC = "arn:aws:sns:eu-west-1:111122223333:incident-triage-alarms"


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def cert_pem(key: rsa.RSAPrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


class Fetches:
    """The injected HTTPS GET: serves the test certificate, records every URL."""

    def __init__(self, cert: bytes) -> None:
        self.cert = cert
        self.urls: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.urls.append(url)
        return self.cert if url.endswith(".pem") else b"<ConfirmSubscriptionResponse/>"


@pytest.fixture
def fetches(cert_pem: bytes) -> Fetches:
    return Fetches(cert_pem)


@pytest.fixture
def sns_client(tmp_path: Path, fetches: Fetches) -> Iterator[tuple[TestClient, Server]]:
    config = TriageConfig.model_validate(
        {"server": {"sources": {"cloudwatch": {"auth": "sns", "topic_arns": [TOPIC]}}}}
    )
    server = build_server(
        config, tmp_path / "home", env=ENV.get, sns_fetch=fetches, confirm_fetch=fetches
    )
    with TestClient(create_app(server, run_jobs=False)) as client:
        yield client, server


def signed(message: dict[str, Any], key: rsa.RSAPrivateKey, version: str = "1") -> bytes:
    message = {**message, "SignatureVersion": version, "SigningCertURL": CERT_URL}
    digest = hashes.SHA1() if version == "1" else hashes.SHA256()
    signature = key.sign(string_to_sign(message), padding.PKCS1v15(), digest)
    message["Signature"] = base64.b64encode(signature).decode()
    return json.dumps(message).encode()


def fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return loaded


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_signed_notification_is_accepted(
    sns_client: tuple[TestClient, Server], key: rsa.RSAPrivateKey, version: str
) -> None:
    client, server = sns_client
    body = signed(fixture("cloudwatch_sns_alarm.json"), key, version)
    reply = client.post(
        "/v1/alerts/cloudwatch", content=body, headers={"Content-Type": "text/plain"}
    )
    assert reply.status_code == 202, reply.text
    (item,) = server.inbox.items()
    assert item.alerts[0].name == "orders-api-cpu-high"


def test_a_tampered_notification_is_refused(
    sns_client: tuple[TestClient, Server], key: rsa.RSAPrivateKey
) -> None:
    client, server = sns_client
    message = json.loads(signed(fixture("cloudwatch_sns_alarm.json"), key))
    message["Message"] = message["Message"].replace("orders-api", "payments-api")
    reply = client.post("/v1/alerts/cloudwatch", content=json.dumps(message))
    assert reply.status_code == 401
    assert "signature does not match" in reply.json()["detail"]
    assert server.inbox.alerts_stored() == 0


@pytest.mark.parametrize(
    "cert_url",
    [
        "https://evil.example.com/SimpleNotificationService-x.pem",
        "http://sns.eu-west-1.amazonaws.com/SimpleNotificationService-x.pem",
        "https://sns.eu-west-1.amazonaws.com.evil.example/x.pem",
    ],
)
def test_a_certificate_from_anywhere_but_sns_is_never_fetched(
    sns_client: tuple[TestClient, Server], key: rsa.RSAPrivateKey, fetches: Fetches, cert_url: str
) -> None:
    client, _ = sns_client
    message = json.loads(signed(fixture("cloudwatch_sns_alarm.json"), key))
    message["SigningCertURL"] = cert_url
    reply = client.post("/v1/alerts/cloudwatch", content=json.dumps(message))
    assert reply.status_code == 401 and "SigningCertURL" in reply.json()["detail"]
    assert fetches.urls == []


def test_unsigned_and_foreign_topic_messages_are_refused(
    sns_client: tuple[TestClient, Server], key: rsa.RSAPrivateKey
) -> None:
    client, _ = sns_client
    raw = json.loads(fixture("cloudwatch_sns_alarm.json")["Message"])
    assert client.post("/v1/alerts/cloudwatch", json=raw).status_code == 401
    foreign = {**fixture("cloudwatch_sns_alarm.json"), "TopicArn": "arn:aws:sns:eu-west-1:9:x"}
    reply = client.post("/v1/alerts/cloudwatch", content=signed(foreign, key))
    assert reply.status_code == 401 and "topic" in reply.json()["detail"]


def test_a_subscription_is_confirmed_by_getting_its_amazonaws_url(
    sns_client: tuple[TestClient, Server], key: rsa.RSAPrivateKey, fetches: Fetches
) -> None:
    client, server = sns_client
    confirmation = fixture("cloudwatch_sns_subscription_confirmation.json")
    reply = client.post("/v1/alerts/cloudwatch", content=signed(confirmation, key, "2"))
    assert reply.status_code == 200
    assert reply.json()["status"] == "subscription_confirmed"
    assert fetches.urls == [CERT_URL, confirmation["SubscribeURL"]]
    assert server.inbox.alerts_stored() == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription",
        "https://attacker.example/?Action=ConfirmSubscription",
        "https://amazonaws.com.attacker.example/confirm",
    ],
)
def test_a_subscribe_url_off_amazonaws_is_not_fetched(
    sns_client: tuple[TestClient, Server], key: rsa.RSAPrivateKey, fetches: Fetches, url: str
) -> None:
    client, _ = sns_client
    confirmation = {**fixture("cloudwatch_sns_subscription_confirmation.json"), "SubscribeURL": url}
    reply = client.post("/v1/alerts/cloudwatch", content=signed(confirmation, key))
    assert reply.status_code == 400
    assert reply.json()["field"] == "SubscribeURL"
    assert fetches.urls == [CERT_URL], "only the certificate was fetched"


def test_fields_outside_the_signature_are_never_parsed(
    sns_client: tuple[TestClient, Server], key: rsa.RSAPrivateKey
) -> None:
    """SNS signs only its canonical fields: a `Records` list added to a genuinely signed
    message (any captured one will do) must not smuggle in unsigned alarms."""
    client, server = sns_client
    confirmation = fixture("cloudwatch_sns_subscription_confirmation.json")
    unsubscribe = {**confirmation, "Type": "UnsubscribeConfirmation"}
    message = json.loads(signed(unsubscribe, key))
    forged = {**fixture("cloudwatch_sns_alarm.json"), "TopicArn": "anything"}
    forged["Message"] = forged["Message"].replace("orders-api-cpu-high", "forged-alarm")
    message["Records"] = [{"Sns": forged}]
    reply = client.post("/v1/alerts/cloudwatch", content=json.dumps(message))
    assert reply.status_code == 200, reply.text
    assert reply.json()["status"] == "ignored"
    assert server.inbox.alerts_stored() == 0


def test_a_number_of_thousands_of_digits_in_the_message_is_a_400(
    sns_client: tuple[TestClient, Server], key: rsa.RSAPrivateKey
) -> None:
    client, _ = sns_client
    message = {**fixture("cloudwatch_sns_alarm.json"), "Message": '{"n": 1' + "0" * 5000 + "}"}
    reply = client.post("/v1/alerts/cloudwatch", content=signed(message, key))
    assert reply.status_code == 400, reply.text
    assert reply.json()["field"] == "Message"


def how_to_confirm(confirmation: dict[str, Any]) -> str:
    """The manual step an operator is told: the AWS CLI's confirm-subscription."""
    return (
        f"aws sns confirm-subscription --topic-arn {confirmation['TopicArn']}"
        f" --token {confirmation['Token']}"
    )


def assert_logged_once(caplog: pytest.LogCaptureFixture, text: str) -> None:
    said = [r.getMessage() for r in caplog.records if text in r.getMessage()]
    assert len(said) == 1 and "\n" not in said[0], said


def test_a_subscription_not_verified_by_sns_is_never_fetched_and_says_how_to_confirm(
    tmp_path: Path, fetches: Fetches, caplog: pytest.LogCaptureFixture
) -> None:
    """Without `auth: sns` neither the signature nor the topic was checked: nothing
    approved the topic, so nothing is sent to AWS; the operator is told how instead."""
    config = TriageConfig.model_validate({"server": {"sources": {"cloudwatch": {"auth": "none"}}}})
    server = build_server(config, tmp_path / "home", env=ENV.get, confirm_fetch=fetches)
    confirmation = fixture("cloudwatch_sns_subscription_confirmation.json")
    with TestClient(create_app(server, run_jobs=False)) as client, caplog.at_level("WARNING"):
        reply = client.post("/v1/alerts/cloudwatch", json=confirmation)
    assert reply.status_code == 200, reply.text
    assert reply.json()["status"] == "subscription_pending"
    assert how_to_confirm(confirmation) in reply.json()["detail"]
    assert fetches.urls == []
    assert_logged_once(caplog, how_to_confirm(confirmation))


def test_a_confirmation_that_cannot_reach_sns_says_how_to_confirm_by_hand(
    tmp_path: Path, key: rsa.RSAPrivateKey, cert_pem: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    def offline(url: str) -> bytes:
        if url.endswith(".pem"):
            return cert_pem
        raise OSError("Network is unreachable")

    config = TriageConfig.model_validate(
        {"server": {"sources": {"cloudwatch": {"auth": "sns", "topic_arns": [TOPIC]}}}}
    )
    server = build_server(
        config, tmp_path / "home", env=ENV.get, sns_fetch=offline, confirm_fetch=offline
    )
    confirmation = fixture("cloudwatch_sns_subscription_confirmation.json")
    with TestClient(create_app(server, run_jobs=False)) as client, caplog.at_level("WARNING"):
        reply = client.post("/v1/alerts/cloudwatch", content=signed(confirmation, key))
    assert reply.status_code == 502, reply.text
    assert "Network is unreachable" in reply.json()["detail"]
    assert how_to_confirm(confirmation) in reply.json()["detail"]
    assert_logged_once(caplog, how_to_confirm(confirmation))
