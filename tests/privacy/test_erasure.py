"""Erasure: asked for by a customer, approved by staff in the admin. The ledger, the ticket
skeletons and the statement stay identical, while no personal string of the erased people remains
in any text column of any table, nor in any stored file."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import Sum
from django.test import Client, override_settings
from django.urls import reverse

from accounts.models import Membership, MembershipRole
from api.models import ApiToken
from api.services import api_token_create
from audit.models import AuditEvent, AuditKind
from helpdesk.models import User
from mail.models import InboundEmail, InboundSource
from mail.services import inbound_ingest
from points.models import Entry
from points.selectors import points_summary
from privacy.models import ErasureRequest, ErasureStatus
from tests.admin_support import assert_ledger_clean, funded_account
from tests.factories import PASSWORD, StaffUserFactory, UserFactory, account_owner
from tests.mail.support import SUPPORT, corpus, ticket_address
from tests.web import category
from tickets import services as tickets

pytestmark = pytest.mark.django_db

FILE_MARK = b"QUIXOTEFIELD-FILE-CONTENT-91"


def text_columns() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() "
            "AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb')"
        )
        return cursor.fetchall()


def rows_mentioning(value: str) -> list[tuple[str, str, int]]:
    """(table, column, rows) of every text column holding `value`, in any case."""
    found = []
    with connection.cursor() as cursor:
        for table, column in text_columns():
            cursor.execute(
                f'SELECT count(*) FROM "{table}" WHERE "{column}"::text ILIKE %s',
                [f"%{value}%"],
            )
            if count := cursor.fetchone()[0]:
                found.append((table, column, count))
    return found


def files_mentioning(value: bytes) -> list[Path]:
    return [
        path
        for path in Path(settings.MEDIA_ROOT).rglob("*")
        if path.is_file() and value.lower() in path.read_bytes().lower()
    ]


def snapshot(account):
    summary = points_summary(account=account)
    entries = Entry.objects.filter(account=account)
    return {
        "available": summary.available,
        "captured": summary.captured,
        "entries": entries.count(),
        "entry_points": entries.aggregate(total=Sum("amount"))["total"],
        "tickets": account.tickets.count(),
        "skeletons": list(
            account.tickets.order_by("id").values_list(
                "id", "category_id", "status", "outcome", "created_at"
            )
        ),
        "costs": list(
            account.tickets.order_by("id").values_list("cost_changes__new_points", flat=True)
        ),
    }


@pytest.fixture
def busy_account(client):
    """An owner and a secondary user with tickets, messages, attachments, access details, a
    reconsideration, a rating, logins, and staff work on them."""
    owner = UserFactory(
        email="zebulon.quixotefield@example.com", first_name="Zebulon", last_name="Quixotefield"
    )
    account = funded_account(500, owner=owner, name="Quixotefield Widgets Ltd")
    member = UserFactory(
        email="marigold.thistlewood@example.com", first_name="Marigold", last_name="Thistlewood"
    )
    Membership.objects.create(account=account, user=member, role=MembershipRole.MEMBER)
    staff = StaffUserFactory(email="sam@helpdesk.example.com")
    first = tickets.ticket_file(
        account=account,
        filed_by=owner,
        category=category("Incident solving"),
        subject="Zebulon's xylophone checkout fails",
        description="Call me on +1 555 0199, Zebulon Quixotefield, xylophonecheckout7731",
        attachments=[SimpleUploadedFile("zebulon-quixotefield.txt", FILE_MARK, "text/plain")],
    )
    tickets.ticket_reply(ticket=first, author=staff, body="We are on it.")
    tickets.access_details_set(
        ticket=first, actor=owner, host="shop.quixotefield.example", login="zq", password="pw-73"
    )
    asked = tickets.ticket_request_reconsideration(
        ticket=first, actor=owner, message="Zebulon thinks forty is much"
    )
    tickets.ticket_decide_reconsideration(reconsideration=asked, actor=staff, reason="Fair")
    tickets.ticket_resolve(ticket=first, actor=staff, reason="Fixed")
    tickets.ticket_rate(ticket=first, actor=owner, score=5, comment="Thanks from Zebulon")
    second = tickets.ticket_file(
        account=account,
        filed_by=member,
        category=category("Consultation on software features"),
        subject="Marigold asks about exports",
        description="Marigold Thistlewood here: thistlewoodsecret42",
    )
    tickets.ticket_reply(ticket=second, author=staff, body="Here is how.")
    api_token_create(user=owner, name="Zebulon's laptop")
    # An e-mail reply from the owner and a new request by e-mail from the member.
    inbound_ingest(
        raw=corpus("plain_reply.eml", FROM=owner.email, TO=ticket_address(first, owner)),
        source=InboundSource.PIPE,
    )
    with override_settings(HELPDESK_MAIL_SUPPORT_ADDRESS=SUPPORT):
        inbound_ingest(
            raw=corpus("new_request_with_attachments.eml", FROM=member.email),
            source=InboundSource.PIPE,
        )
    assert InboundEmail.objects.filter(status="accepted").count() == 2
    for user in (owner, member):
        Client().post("/accounts/login/", {"username": user.email, "password": PASSWORD})
        Client().post("/accounts/login/", {"username": user.email, "password": "wrong"})
    return account, owner, member, staff


def approve(erasure: ErasureRequest):
    lead = StaffUserFactory(email="lead@helpdesk.example.com")
    lead.user_permissions.add(Permission.objects.get(codename="erase_personal_data"))
    admin = Client()
    admin.force_login(lead)
    url = reverse("admin:privacy_erasurerequest_erase", args=[erasure.pk])
    page = admin.get(url)
    assert "This cannot be undone." in page.content.decode()
    refused = admin.post(url, {})
    assert refused.status_code == 200
    assert ErasureRequest.objects.get(pk=erasure.pk).status == ErasureStatus.PENDING
    assert admin.post(url, {"irreversible": "on"}).status_code == 302
    return lead


def ask(user) -> ErasureRequest:
    client = Client()
    client.force_login(user)
    client.post(reverse("privacy:erasure"), {"confirm": "yes"})
    return ErasureRequest.objects.get(user=user)


def test_erasing_a_whole_account_leaves_the_books_and_no_personal_string(busy_account):
    account, owner, member, staff = busy_account
    before = snapshot(account)
    personal = [
        "zebulon",
        "quixotefield",
        "marigold",
        "thistlewood",
        "xylophonecheckout7731",
        "thistlewoodsecret42",
        "555 0199",
    ]
    assert all(rows_mentioning(value) for value in ("zebulon", "thistlewood"))
    assert files_mentioning(FILE_MARK)

    erasure = ask(owner)
    assert erasure.whole_account
    lead = approve(erasure)

    assert snapshot(account) == before
    assert_ledger_clean()
    assert {value: rows_mentioning(value) for value in personal} == dict.fromkeys(personal, [])
    assert files_mentioning(FILE_MARK) == []
    assert files_mentioning(b"quixotefield") == []
    assert not ApiToken.objects.filter(revoked_at=None).exists()
    for user in (owner, member):
        user.refresh_from_db()
        assert user.email.endswith("@erased.invalid") and not user.is_active
        assert not user.has_usable_password()
    login = Client().post(
        "/accounts/login/", {"username": "zebulon.quixotefield@example.com", "password": PASSWORD}
    )
    assert login.status_code == 200  # the form again: nobody has that address
    event = AuditEvent.objects.get(kind=AuditKind.ERASURE_APPROVED)
    assert (event.actor, event.account_id) == (lead, account.pk)
    # The staff member's own data and texts are not the customer's to erase.
    assert User.objects.get(pk=staff.pk).email == "sam@helpdesk.example.com"


def test_erasing_a_secondary_user_leaves_the_owner_and_their_tickets(busy_account):
    account, owner, member, _staff = busy_account
    before = snapshot(account)

    approve(ask(member))

    assert snapshot(account) == before
    assert_ledger_clean()
    for value in ("marigold", "thistlewood", "thistlewoodsecret42"):
        assert rows_mentioning(value) == [], value
    assert account_owner(account).email == "zebulon.quixotefield@example.com"
    assert rows_mentioning("xylophonecheckout7731")
    assert files_mentioning(FILE_MARK)


def test_a_request_is_approved_only_with_the_permission_and_once(busy_account):
    _account, owner, _member, staff = busy_account
    erasure = ask(owner)
    admin = Client()
    admin.force_login(staff)
    url = reverse("admin:privacy_erasurerequest_erase", args=[erasure.pk])

    assert admin.post(url, {"irreversible": "on"}).status_code == 403
    assert ErasureRequest.objects.get(pk=erasure.pk).status == ErasureStatus.PENDING
    approve(erasure)
    assert ErasureRequest.objects.get(pk=erasure.pk).status == ErasureStatus.DONE
    assert AuditEvent.objects.filter(kind=AuditKind.ERASURE_APPROVED).count() == 1


def test_asking_needs_the_confirmation_and_staff_cannot_ask(busy_account):
    _account, owner, _member, staff = busy_account
    client = Client()
    client.force_login(owner)
    client.post(reverse("privacy:erasure"), {})
    assert not ErasureRequest.objects.exists()
    page = client.get(reverse("privacy:page"))
    assert "irreversible" in page.content.decode()
    client.post(reverse("privacy:erasure"), {"confirm": "yes"})
    client.post(reverse("privacy:erasure"), {"confirm": "yes"})
    assert ErasureRequest.objects.count() == 1
