"""Reading a raw e-mail (bytes, as the IMAP server, the MTA pipe or the HTTP endpoint hand it over)
into what routing needs: who sent it and to which address, whether a machine sent it, its text,
its attachments, and, for a delivery-status notification, what bounced.

The stdlib parser (`policy.default`) reads anything; what it can't read becomes
`MalformedEmail`. Every part is bounded: the raw size is checked before parsing (by the caller,
`mail.services`), parts are counted, names and headers cut to their columns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr

from core.text import CONTROL_CHARACTERS
from notifications import envelope

from .text import html_to_text

# More parts than this is not a support e-mail.
MAX_PARTS = 500
MAX_HEADER_CHARS = 998
AUTOMATED_SENDERS = {"mailer-daemon", "postmaster"}
AUTOMATED_PRECEDENCE = {"bulk", "junk", "list"}
AUTH_FAILED = re.compile(r"\b(?:spf|dkim|dmarc)\s*=\s*(?:fail|permerror)\b", re.IGNORECASE)
MESSAGE_ID = re.compile(r"<[^<>\s]{1,900}>")
# Who a copy was delivered to, besides To and Cc (set by the receiving MTA).
DELIVERY_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")


class MalformedEmail(ValueError):
    pass


@dataclass(frozen=True)
class MailAttachment:
    name: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class DeliveryFailure:
    """What a delivery-status notification says: the e-mail of ours that failed, for whom."""

    original_message_id: str
    recipients: tuple[tuple[str, str], ...]  # (address, status such as "5.1.1")


@dataclass
class ParsedEmail:
    message_id: str
    sender: str
    sender_name: str
    recipients: list[str]
    subject: str
    text: str
    from_html: bool
    attachments: list[MailAttachment] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    # Why this is machine-made mail that must never be answered ("" when a person wrote it).
    automated: str = ""
    auth_failed: bool = False
    delivery_failure: DeliveryFailure | None = None


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # a header the parser can't make sense of is treated as absent
        return ""
    return CONTROL_CHARACTERS.sub("", " ".join(str(value or "").split()))[:MAX_HEADER_CHARS]


def _message_ids(value: str) -> list[str]:
    return [mid.lower() for mid in MESSAGE_ID.findall(value)][:100]


def _automated(message: Message, sender: str, message_id: str) -> str:
    auto_submitted = _header(message, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {auto_submitted[:60]}"
    precedence = _header(message, "Precedence").lower()
    if precedence in AUTOMATED_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in ("X-Autoreply", "X-Autorespond"):
        if message.get(name) is not None:
            return name
    if sender.partition("@")[0] in AUTOMATED_SENDERS:
        return f"from {sender.partition('@')[0]}"
    if message_id and envelope.own_message_id(message_id):
        return "one of our own e-mails"
    return ""


def _decoded_text(part: Message) -> str:
    """A text part as str, whatever its charset claims."""
    payload = part.get_payload(decode=True) or b""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:  # an unknown charset
        return payload.decode("utf-8", errors="replace")


def _attachment_name(part: Message, index: int) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:
        name = ""
    name = re.sub(r"[\x00-\x1f/\\]", "_", " ".join(name.split())).strip(" .")
    return name[-200:] or f"attachment-{index}"


def _body_and_attachments(message: EmailMessage) -> tuple[str, bool, list[MailAttachment]]:
    try:
        body = message.get_body(preferencelist=("plain", "html"))
    except Exception:
        body = None
    text, from_html = "", False
    if body is not None:
        if body.get_content_subtype() == "html":
            text, from_html = html_to_text(_decoded_text(body)), True
        else:
            text = _decoded_text(body)
    attachments = []
    for index, part in enumerate(message.walk()):
        if index > MAX_PARTS:
            raise MalformedEmail("too many MIME parts")
        if part is body or part.is_multipart():
            continue
        disposition = (part.get_content_disposition() or "").lower()
        maintype = part.get_content_maintype()
        if disposition == "attachment" or (maintype not in ("text", "multipart", "message")):
            data = part.get_payload(decode=True) or b""
            attachments.append(
                MailAttachment(
                    name=_attachment_name(part, index),
                    content_type=part.get_content_type()[:100],
                    data=data,
                )
            )
    return text, from_html, attachments


def _delivery_failure(message: EmailMessage) -> DeliveryFailure | None:
    """The failed recipients and original Message-ID of a DSN (RFC 3464), if it is one."""
    if message.get_content_type() != "multipart/report":
        return None
    if (message.get_param("report-type") or "").lower() != "delivery-status":
        return None
    failed: list[tuple[str, str]] = []
    original = ""
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type == "message/delivery-status":
            for block in part.get_payload():
                action = _header(block, "Action").lower()
                recipient = _header(block, "Final-Recipient") or _header(
                    block, "Original-Recipient"
                )
                address = recipient.partition(";")[2].strip().lower() or recipient.lower()
                if action == "failed" and "@" in address:
                    failed.append((address[:254], _header(block, "Status")[:20]))
        elif content_type in ("message/rfc822", "text/rfc822-headers") and not original:
            inner = part.get_payload()
            if isinstance(inner, list) and inner:
                inner = inner[0]
            if isinstance(inner, str):
                inner = message_from_bytes(inner.encode("utf-8", "replace"), policy=policy.default)
            if isinstance(inner, Message):
                ids = _message_ids(_header(inner, "Message-ID"))
                original = ids[0] if ids else ""
    if not original or not failed:
        return None
    return DeliveryFailure(original_message_id=original, recipients=tuple(failed[:50]))


def parse_email(raw: bytes) -> ParsedEmail:
    """The e-mail in `raw`; MalformedEmail when it is not one."""
    try:
        message = message_from_bytes(raw, policy=policy.default)
        if not isinstance(message, EmailMessage) or not message.keys():
            raise MalformedEmail("no headers")
        sender_name, sender = parseaddr(_header(message, "From"))
        sender = sender.strip().lower()
        if "@" not in sender or len(sender) > 254:
            raise MalformedEmail("no valid From address")
        ids = _message_ids(_header(message, "Message-ID"))
        message_id = ids[0] if ids else ""
        recipients = []
        for name in DELIVERY_HEADERS:
            try:
                values = [str(value) for value in message.get_all(name) or []]
            except Exception:
                values = []
            for _name, address in getaddresses(values)[:100]:
                address = address.strip().lower()
                if "@" in address and address not in recipients:
                    recipients.append(address[:254])
        text, from_html, attachments = _body_and_attachments(message)
        return ParsedEmail(
            message_id=message_id,
            sender=sender,
            sender_name=sender_name[:150],
            recipients=recipients,
            subject=_header(message, "Subject")[:200],
            text=text,
            from_html=from_html,
            attachments=attachments,
            references=_message_ids(
                _header(message, "In-Reply-To") + " " + _header(message, "References")
            ),
            automated=_automated(message, sender, message_id),
            auth_failed=any(
                AUTH_FAILED.search(str(value))
                for value in message.get_all("Authentication-Results") or []
            ),
            delivery_failure=_delivery_failure(message),
        )
    except MalformedEmail:
        raise
    except (RecursionError, LookupError, ValueError, TypeError, AttributeError, IndexError) as e:
        raise MalformedEmail(f"{type(e).__name__}: {e}"[:200]) from e
