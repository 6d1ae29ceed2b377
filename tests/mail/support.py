"""The e-mail corpus (tests/mail/corpus/*.eml, written for these tests) and what its tests share."""

from __future__ import annotations

import uuid
from pathlib import Path

from notifications import envelope

CORPUS = Path(__file__).parent / "corpus"
SUPPORT = "support@help.example"


def new_message_id() -> str:
    return f"<{uuid.uuid4().hex}@client.example>"


def ticket_address(ticket, user) -> str:
    return envelope.reply_address(tag="t", subject_id=ticket.pk, user_id=user.pk)


def corpus(name: str, **values: str) -> bytes:
    """A corpus e-mail with its {{PLACEHOLDERS}} filled in (FROM, TO, MESSAGE_ID, IN_REPLY_TO…)."""
    values.setdefault("MESSAGE_ID", new_message_id())
    values.setdefault("TO", SUPPORT)
    values.setdefault("IN_REPLY_TO", "<hd.t.1@help.example>")
    text = (CORPUS / name).read_bytes()
    for key, value in values.items():
        text = text.replace(("{{" + key + "}}").encode(), value.encode())
    assert b"{{" not in text.split(b"\n\n", 1)[0], f"unfilled placeholder in {name}"
    return text
