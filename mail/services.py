"""Taking in one raw e-mail, whichever way it came: `inbound_ingest`.

The e-mail's row (`InboundEmail`, unique by Message-ID) is written first, in the transaction that
then routes it: a second delivery of the same e-mail — at the same time from another process, or
later after a crash — waits on that row and then finds it, so one e-mail makes one message. What
routing does and the row's outcome commit together, or neither does.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesHeaderParser
from email.utils import parseaddr

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import InboundEmail, InboundSource, InboundStatus
from .parsing import MalformedEmail, parse_email
from .routing import route

logger = logging.getLogger(__name__)

# The head of an oversized e-mail read for the record (its headers), never the rest.
OVERSIZED_HEAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class Ingested:
    inbound: InboundEmail
    # False when this e-mail was already taken in (a second delivery): nothing was done again.
    created: bool


def _digest_key(raw: bytes) -> str:
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _oversized_headers(raw: bytes) -> tuple[str, str, str]:
    """(Message-ID, sender, subject) read from the head of an e-mail too large to parse."""
    try:
        headers = BytesHeaderParser().parsebytes(raw[:OVERSIZED_HEAD_BYTES])
        message_id = " ".join(str(headers.get("Message-ID", "")).split())[:998]
        sender = parseaddr(str(headers.get("From", "")))[1].lower()[:254]
        subject = " ".join(str(headers.get("Subject", "")).split())[:200]
    except Exception:
        return "", "", ""
    return message_id, sender, subject


def _claim(key: str, **fields) -> InboundEmail | None:
    """The e-mail's new row, or None when it was taken in already (or is being, elsewhere: this
    waits for that transaction)."""
    try:
        with transaction.atomic():
            return InboundEmail.objects.create(message_key=key, **fields)
    except IntegrityError:
        return None


@transaction.atomic
def inbound_ingest(
    *, raw: bytes, source: str, size: int | None = None, at: datetime | None = None
) -> Ingested:
    """Record and route one raw e-mail; idempotent on its Message-ID (or its bytes' digest).

    `size` is the e-mail's whole size when `raw` is only its head (a mailbox does not hand over
    an e-mail over the limit).
    """
    if source not in InboundSource.values:
        raise ValueError(f"Unknown source {source!r}")
    at = at or timezone.now()
    size = max(size or 0, len(raw))
    common = {"source": source, "received_at": at, "raw_size": size}
    if size > settings.HELPDESK_MAIL_MAX_BYTES:
        message_id, sender, subject = _oversized_headers(raw)
        reason = f"{size} bytes; the limit is {settings.HELPDESK_MAIL_MAX_BYTES}."
        row = _claim(
            message_id.lower() or _digest_key(raw),
            sender=sender,
            subject=subject,
            status=InboundStatus.REJECTED,
            outcome="too_large",
            reason=reason,
            **common,
        )
        return _result(row, message_id.lower() or _digest_key(raw))
    try:
        email = parse_email(raw)
    except MalformedEmail as error:
        key = _digest_key(raw)
        row = _claim(
            key, status=InboundStatus.REJECTED, outcome="malformed", reason=str(error), **common
        )
        return _result(row, key)
    key = email.message_id or _digest_key(raw)
    row = _claim(
        key,
        sender=email.sender,
        subject=email.subject,
        status=InboundStatus.REJECTED,
        outcome="routing",
        **common,
    )
    if row is None:
        return _result(row, key)
    routed = route(email, at=at)
    row.status = routed.status
    row.outcome = routed.outcome
    row.reason = routed.reason
    row.recipient = routed.recipient
    row.ticket = routed.ticket
    row.message = routed.message
    row.answered = routed.answered
    row.save()
    log = logger.info if routed.status == InboundStatus.ACCEPTED else logger.warning
    log("Inbound e-mail %s from %s: %s %s", row.pk, email.sender, routed.status, routed.outcome)
    return Ingested(inbound=row, created=True)


def _result(row: InboundEmail | None, key: str) -> Ingested:
    if row is not None:
        return Ingested(inbound=row, created=True)
    return Ingested(inbound=InboundEmail.objects.get(message_key=key), created=False)
