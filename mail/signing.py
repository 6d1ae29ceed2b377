"""The signature of the inbound endpoint: what a mail service's inbound routing sends with each
raw message, as the payment webhook does (`points.payments.webhook`): the ``X-Signature`` header
``t=<unix timestamp>,v1=<hex HMAC-SHA256>`` over ``"<timestamp>.<raw message>"`` with
HELPDESK_MAIL_INBOUND_SECRET; a timestamp outside HELPDESK_MAIL_INBOUND_TOLERANCE_SECONDS is a
replay."""

from __future__ import annotations

import hashlib
import hmac
import re
import time

from django.conf import settings

SIGNATURE_HEADER = "X-Signature"
TIMESTAMP = re.compile(r"[0-9]{1,12}")
HEX = re.compile(r"[0-9a-f]{64}")
MAX_SIGNATURES = 4


class SignatureRejected(Exception):
    pass


def inbound_signature(*, body: bytes, timestamp: int, secret: str) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def inbound_verify(*, body: bytes, header: str, now: float | None = None) -> None:
    """Raise SignatureRejected unless `header` signs `body` with the shared secret, recently."""
    secret = settings.HELPDESK_MAIL_INBOUND_SECRET
    timestamp, signatures = None, []
    for part in (header or "")[:1000].split(","):
        key, _sep, value = part.strip().partition("=")
        if key == "t" and TIMESTAMP.fullmatch(value):
            timestamp = int(value)
        elif key == "v1" and HEX.fullmatch(value) and len(signatures) < MAX_SIGNATURES:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureRejected("The signature header is missing or malformed.")
    now = time.time() if now is None else now
    if abs(now - timestamp) > settings.HELPDESK_MAIL_INBOUND_TOLERANCE_SECONDS:
        raise SignatureRejected("The timestamp is outside the accepted tolerance.")
    expected = inbound_signature(body=body, timestamp=timestamp, secret=secret)
    if not any(hmac.compare_digest(expected, signature) for signature in signatures):
        raise SignatureRejected("The signature does not match.")
