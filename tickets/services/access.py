"""Server access details a customer gives staff: stored encrypted, every reveal recorded."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditKind
from audit.services import audit_record
from core.text import REASON_MAX_CHARS

from ..models import AccessDetails, AccessDetailsView, Ticket
from ..policies import Action
from .common import check_policy, checked_text, lock_and_check

if TYPE_CHECKING:
    from helpdesk.models import User

ACCESS_DETAILS_MAX_CHARS = {"host": 500, "login": 200, "password": 500, "notes": REASON_MAX_CHARS}


def _access_cipher() -> MultiFernet:
    """Newest key first encrypts; every listed key decrypts (key rotation)."""
    keys = settings.HELPDESK_ACCESS_DETAILS_KEYS or [
        base64.urlsafe_b64encode(hashlib.sha256(settings.SECRET_KEY.encode()).digest()).decode()
    ]
    return MultiFernet([Fernet(key) for key in keys])


@transaction.atomic
def access_details_set(
    *, ticket: Ticket, actor: User, host: str, login: str, password: str, notes: str = ""
) -> AccessDetails:
    """Store (or replace) the server access a customer gives staff, encrypted."""
    host = checked_text(host, max_length=ACCESS_DETAILS_MAX_CHARS["host"], label=_("The server"))
    login = checked_text(login, max_length=ACCESS_DETAILS_MAX_CHARS["login"], label=_("The login"))
    password = checked_text(
        password,
        max_length=ACCESS_DETAILS_MAX_CHARS["password"],
        label=_("The password"),
        strip=False,
    )
    notes = checked_text(notes, max_length=ACCESS_DETAILS_MAX_CHARS["notes"], label=_("The notes"))
    ticket = lock_and_check(ticket, Action.GIVE_ACCESS_DETAILS, actor=actor, at=timezone.now())
    payload = json.dumps({"host": host, "login": login, "password": password, "notes": notes})
    details, _created = AccessDetails.objects.update_or_create(
        ticket=ticket,
        defaults={
            "ciphertext": _access_cipher().encrypt(payload.encode()),
            "provided_by": actor,
            "updated_at": timezone.now(),
            "erased_at": None,
        },
    )
    return details


@transaction.atomic
def access_details_reveal(*, ticket: Ticket, viewer: User) -> dict[str, str] | None:
    """Decrypt a ticket's access details for a staff member; every view is recorded."""
    check_policy(ticket, Action.REVEAL_ACCESS_DETAILS, actor=viewer, at=timezone.now())
    details = AccessDetails.objects.filter(ticket=ticket, erased_at__isnull=True).first()
    if details is None:
        return None
    AccessDetailsView.objects.create(
        access_details=details, viewed_by=viewer, viewed_at=timezone.now()
    )
    audit_record(kind=AuditKind.ACCESS_DETAILS_VIEWED, actor=viewer, target=ticket)
    return json.loads(_access_cipher().decrypt(bytes(details.ciphertext)))
