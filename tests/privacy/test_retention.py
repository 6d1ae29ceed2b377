"""Retention: off by default; when set, closed tickets past it lose their texts and files (the
same erasure), nothing else."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone

from privacy.anonymize import ERASED_TEXT
from privacy.tasks import apply_retention
from tests.admin_support import assert_ledger_clean, funded_account
from tests.factories import account_owner
from tests.web import category
from tickets import services as tickets
from tickets.models import Attachment, Message, Ticket, TicketStatus

pytestmark = pytest.mark.django_db


def ticket(closed_days_ago: int | None):
    account = funded_account(200)
    filed = tickets.ticket_file(
        account=account,
        filed_by=account_owner(account),
        category=category("Incident solving"),
        subject="Old problem",
        description="Details of the old problem",
        attachments=[SimpleUploadedFile("old.txt", b"old file", "text/plain")],
    )
    if closed_days_ago is not None:
        Ticket.objects.filter(pk=filed.pk).update(
            status=TicketStatus.CLOSED,
            closed_at=timezone.now() - timedelta(days=closed_days_ago),
        )
    return filed


def test_retention_is_off_by_default():
    old = ticket(closed_days_ago=5000)
    assert apply_retention() == 0
    assert Message.objects.get(ticket=old).body == "Details of the old problem"


@override_settings(PRIVACY_TICKET_TEXT_RETENTION_DAYS=365)
def test_closed_tickets_past_retention_lose_texts_and_files_only():
    old, recent, open_one = ticket(400), ticket(30), ticket(None)

    assert apply_retention() == 1

    assert Message.objects.get(ticket=old).body == ERASED_TEXT
    assert not Attachment.objects.filter(message__ticket=old).exists()
    for kept in (recent, open_one):
        assert Message.objects.get(ticket=kept).body == "Details of the old problem"
        assert Attachment.objects.filter(message__ticket=kept).exists()
    assert Ticket.objects.get(pk=old.pk).status == TicketStatus.CLOSED
    assert_ledger_clean()
    assert apply_retention() == 0  # idempotent
