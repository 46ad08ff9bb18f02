"""Amazon SNS over HTTPS: message signatures and the subscription handshake.

SNS signs every message with the certificate at `SigningCertURL`
(SignatureVersion 1: SHA1withRSA, 2: SHA256withRSA) over a canonical string of
the message's fields. Only certificates served by SNS itself over https are
trusted, and a subscription is confirmed only by GETting an https
`SubscribeURL` on amazonaws.com, after the signature and topic checked out.
Fetching is injectable, so tests verify real signatures without a network.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from agent.server.auth import Unauthorized

CERT_HOST = re.compile(r"sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?")
SUBSCRIBE_HOST = re.compile(r"(?:[a-z0-9-]+\.)*amazonaws\.com(\.cn)?")
FETCH_TIMEOUT_S = 10.0
MAX_CERT_BYTES = 64 * 1024
NOTIFICATION_KEYS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
SUBSCRIPTION_KEYS = (
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
)
HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}

Fetch = Callable[[str], bytes]


def https_get(url: str) -> bytes:
    """GET `url` (already checked to be https on an allowed host), bounded in time and size."""
    with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_S) as reply:
        return bytes(reply.read(MAX_CERT_BYTES + 1))


def is_https_on(url: str, host: re.Pattern[str]) -> bool:
    parts = urlsplit(url)
    return (
        parts.scheme == "https"
        and bool(parts.hostname)
        and bool(host.fullmatch(parts.hostname or ""))
        and parts.port in (None, 443)
    )


def _signed_keys(message: Mapping[str, Any]) -> tuple[str, ...]:
    return NOTIFICATION_KEYS if message.get("Type") == "Notification" else SUBSCRIPTION_KEYS


def signed_part(message: Mapping[str, Any]) -> dict[str, Any]:
    """Only the fields the SNS signature covers: anything else in the body (a `Records`
    list, say) was not signed by SNS, so it must never be parsed as an alarm."""
    return {key: message[key] for key in _signed_keys(message) if key in message}


def string_to_sign(message: Mapping[str, Any]) -> bytes:
    """The canonical 'Key\\nvalue\\n' string SNS signs, per message type."""
    keys = _signed_keys(message)
    parts = []
    for key in keys:
        value = message.get(key)
        if value is None:
            if key == "Subject":
                continue
            raise Unauthorized(f"SNS message has no {key} to verify")
        parts.append(f"{key}\n{value}\n")
    return "".join(parts).encode("utf-8")


class SnsVerifier:
    """Checks SNS signatures; certificates are fetched once per URL and cached."""

    def __init__(self, fetch: Fetch = https_get, topic_arns: Sequence[str] = ()) -> None:
        self._fetch = fetch
        self._topics = set(topic_arns)
        self._certs: dict[str, rsa.RSAPublicKey] = {}
        self._lock = threading.Lock()

    def verify(self, message: Mapping[str, Any]) -> None:
        """Raise Unauthorized unless `message` is signed by SNS for an accepted topic."""
        topic = str(message.get("TopicArn") or "")
        if self._topics and topic not in self._topics:
            raise Unauthorized(f"SNS topic {topic!r} is not one this server accepts")
        version = str(message.get("SignatureVersion") or "")
        if version not in HASHES:
            raise Unauthorized(f"SNS SignatureVersion {version!r} is not 1 or 2")
        try:
            signature = base64.b64decode(str(message.get("Signature") or ""), validate=True)
        except (binascii.Error, ValueError):
            raise Unauthorized("SNS Signature is not base64") from None
        key = self._key(str(message.get("SigningCertURL") or message.get("SigningCertUrl") or ""))
        try:
            key.verify(signature, string_to_sign(message), padding.PKCS1v15(), HASHES[version]())
        except InvalidSignature:
            raise Unauthorized("SNS signature does not match the message") from None

    def _key(self, url: str) -> rsa.RSAPublicKey:
        if not is_https_on(url, CERT_HOST) or not urlsplit(url).path.endswith(".pem"):
            raise Unauthorized(f"SigningCertURL {url!r} is not an SNS certificate URL")
        with self._lock:
            cached = self._certs.get(url)
        if cached is not None:
            return cached
        try:
            pem = self._fetch(url)
        except Exception as error:
            raise Unauthorized(
                f"cannot fetch the SNS certificate: {type(error).__name__}"
            ) from None
        key = _public_key(pem)
        with self._lock:
            self._certs[url] = key
        return key


def _public_key(pem: bytes) -> rsa.RSAPublicKey:
    if len(pem) > MAX_CERT_BYTES:
        raise Unauthorized("the SNS certificate is too large")
    try:
        key = x509.load_pem_x509_certificate(pem).public_key()
    except ValueError:
        raise Unauthorized("the SNS certificate is not a PEM certificate") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise Unauthorized("the SNS certificate does not hold an RSA key")
    return key


def confirm_subscription(url: str, fetch: Fetch = https_get) -> None:
    """GET the SubscribeURL, only if it is https on amazonaws.com (anything else is refused)."""
    if not is_https_on(url, SUBSCRIBE_HOST):
        raise Unauthorized(f"SubscribeURL {url!r} is not an https amazonaws.com URL")
    fetch(url)
