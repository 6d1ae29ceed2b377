"""The headers that make notifications a conversation: a Message-ID per e-mail and recipient, one
thread root per subject (In-Reply-To/References), and a signed Reply-To address per subject and
recipient (``support+t123.u45.<signature>@example.com``) that the e-mail channel reads back.

Everything here is computed from the notification's subject (its event's reply tag and id), the
recipient's user id and the secret key: nothing is stored, and the outbox imports no app above it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from email.utils import parseaddr

from django.conf import settings
from django.utils.crypto import salted_hmac

SIGNATURE_SALT = "helpdesk.mail.reply-address"
SIGNATURE_HEX_CHARS = 20
# The marker above which a reply is read; the e-mail channel cuts everything from it down.
REPLY_MARKER = "##- Please type your reply above this line -##"
TAG = re.compile(r"[a-z]{1,8}")
# <local>+<tag><subject id>.u<user id>.<signature>@<domain>, compared lower-cased.
REPLY_LOCAL = re.compile(
    r"(?P<tag>[a-z]{1,8})(?P<subject>[0-9]{1,18})\.u(?P<user>[0-9]{1,18})\.(?P<sig>[0-9a-f]{20})"
)
OWN_MESSAGE_ID = re.compile(
    r"<?hd\.(?P<kind>[a-z]+)\.(?P<rest>[0-9a-z.]{1,80})@(?P<domain>[^>\s]{1,255})>?"
)


@dataclass(frozen=True)
class ReplyAddress:
    """What a reply address says: the subject (reply tag and id) and the user it was issued to."""

    tag: str
    subject_id: int
    user_id: int


def support_address() -> str:
    """The support address (HELPDESK_MAIL_SUPPORT_ADDRESS), bare."""
    return parseaddr(settings.HELPDESK_MAIL_SUPPORT_ADDRESS)[1].lower()


def mail_domain() -> str:
    return support_address().rpartition("@")[2] or "localhost"


def _signature(tag: str, subject_id: int, user_id: int) -> str:
    value = f"{tag}{subject_id}.u{user_id}"
    return salted_hmac(SIGNATURE_SALT, value, algorithm="sha256").hexdigest()[:SIGNATURE_HEX_CHARS]


def reply_address(*, tag: str, subject_id: int, user_id: int) -> str:
    """The signed address a reply about this subject, from this user, goes to."""
    if not TAG.fullmatch(tag):
        raise ValueError(f"A reply tag is 1 to 8 lower-case letters, not {tag!r}")
    local, _at, domain = support_address().partition("@")
    signature = _signature(tag, subject_id, user_id)
    return f"{local}+{tag}{subject_id}.u{user_id}.{signature}@{domain}"


def reply_address_parse(address: str) -> ReplyAddress | None:
    """The subject and user of a reply address of ours whose signature verifies, else None."""
    address = (address or "").strip().lower()
    local, _at, domain = address.rpartition("@")
    support_local, _at, support_domain = support_address().partition("@")
    base, plus, detail = local.partition("+")
    if domain != support_domain or base != support_local or not plus:
        return None
    match = REPLY_LOCAL.fullmatch(detail)
    if match is None:
        return None
    tag, subject_id, user_id = match["tag"], int(match["subject"]), int(match["user"])
    if not hmac.compare_digest(_signature(tag, subject_id, user_id), match["sig"]):
        return None
    return ReplyAddress(tag=tag, subject_id=subject_id, user_id=user_id)


def is_reply_address_of_ours(address: str) -> bool:
    """Whether the address is a plus-address of the support mailbox (signed or not)."""
    local, _at, domain = (address or "").strip().lower().rpartition("@")
    support_local, _at, support_domain = support_address().partition("@")
    return domain == support_domain and local.partition("+")[0] == support_local and "+" in local


def thread_id(*, tag: str, subject_id: int) -> str:
    """The Message-ID every e-mail about the subject refers to, so that clients thread them."""
    return f"<hd.{tag}.{subject_id}@{mail_domain()}>"


def message_id(*, notification_id: int, recipient: str) -> str:
    """The Message-ID of one notification's copy for one recipient."""
    digest = hashlib.sha256(recipient.strip().lower().encode()).hexdigest()[:8]
    return f"<hd.n.{notification_id}.{digest}@{mail_domain()}>"


def own_message_id(value: str) -> tuple[str, str] | None:
    """(kind, rest) of a Message-ID we made (``hd.n.…``, ``hd.t.…``), else None."""
    match = OWN_MESSAGE_ID.fullmatch((value or "").strip().lower())
    if match is None or match["domain"] != mail_domain():
        return None
    return match["kind"], match["rest"]


def notification_of_message_id(value: str) -> int | None:
    """The outbox row a Message-ID of ours was sent for, or None."""
    own = own_message_id(value)
    if own is None or own[0] != "n":
        return None
    number = own[1].partition(".")[0]
    return int(number) if number.isdigit() and len(number) <= 18 else None
