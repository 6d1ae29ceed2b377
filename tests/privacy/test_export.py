"""The owner's data export: a ZIP of JSON and the original files made by a Celery task (eager in
tests), offered through a signed, expiring link e-mailed to the owner and to nobody else."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
import time_machine
from django.core import mail, signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, MembershipRole
from billing.services import order_refund
from privacy.exporting import data_exports_purge
from privacy.models import DataExport, ExportStatus
from tests.admin_support import funded_account
from tests.billing.support import paid_order, pdf_text
from tests.factories import StaffUserFactory, UserFactory
from tests.web import category
from tickets import services as tickets

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def account_with_tickets():
    owner = UserFactory(email="owner@example.com")
    account = funded_account(300, owner=owner, name="Acme")
    staff = StaffUserFactory()
    ticket = tickets.ticket_file(
        account=account,
        filed_by=owner,
        category=category("Incident solving"),
        subject="Broken cart",
        description="The cart is empty after login.",
        attachments=[SimpleUploadedFile("trace.log", b"Traceback: cart", "text/plain")],
    )
    tickets.ticket_reply(ticket=ticket, author=staff, body="Public answer")
    tickets.ticket_reply(ticket=ticket, author=staff, body="Internal staff note", internal=True)
    return account, owner


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def link_path(message) -> str:
    return re.search(r"https?://[^/\s]+(/accounts/privacy/export/\S+/)", message.body).group(1)


def test_the_owner_gets_a_zip_of_the_account_by_an_emailed_link(account_with_tickets):
    account, owner = account_with_tickets
    client = signed_in(owner)

    client.post(reverse("privacy:export"))

    export = DataExport.objects.get()
    assert export.status == ExportStatus.READY
    (message,) = [m for m in mail.outbox if "export" in m.subject.lower()]
    assert message.to == ["owner@example.com"]
    response = client.get(link_path(message))
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = set(archive.namelist())
    assert {"account.json", "users.json", "tickets.json", "statement.json", "orders.json"} <= names
    (ticket,) = json.loads(archive.read("tickets.json"))
    texts = [m["text"] for m in ticket["messages"]]
    assert texts == ["The cart is empty after login.", "Public answer"]
    attachment = ticket["messages"][0]["attachments"][0]
    assert archive.read(attachment) == b"Traceback: cart"
    statement = json.loads(archive.read("statement.json"))
    assert sum(1 for line in statement if line["kind"] == "grant") == 1
    assert json.loads(archive.read("account.json"))["name"] == "Acme"


def test_the_export_holds_the_receipts_and_credit_notes_with_their_pdfs(account_with_tickets):
    account, owner = account_with_tickets
    receipt = paid_order(account, points=100, price="120.00").receipt
    note = order_refund(receipt=receipt, reason="Changed plans", actor=StaffUserFactory())
    client = signed_in(owner)

    client.post(reverse("privacy:export"))

    (message,) = [m for m in mail.outbox if "export" in m.subject.lower()]
    response = client.get(link_path(message))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    (exported_receipt,) = json.loads(archive.read("receipts.json"))
    assert (exported_receipt["number"], exported_receipt["gross"]) == (receipt.number, "120.00")
    assert receipt.number in pdf_text(archive.read(exported_receipt["pdf"]))
    (exported_note,) = json.loads(archive.read("credit_notes.json"))
    assert (exported_note["number"], exported_note["receipt"]) == (note.number, receipt.number)
    assert note.number in pdf_text(archive.read(exported_note["pdf"]))


def test_the_link_works_only_for_the_owner_and_only_for_a_while(account_with_tickets):
    account, owner = account_with_tickets
    member = UserFactory()
    Membership.objects.create(account=account, user=member, role=MembershipRole.MEMBER)
    signed_in(owner).post(reverse("privacy:export"))
    path = link_path(mail.outbox[-1])

    assert signed_in(member).get(path).status_code == 404
    assert Client().get(path).status_code == 302  # to the login
    with time_machine.travel(timezone.now() + timezone.timedelta(hours=73)):
        assert signed_in(owner).get(path).status_code == 404
        assert data_exports_purge() == 1
    assert DataExport.objects.get().status == ExportStatus.PURGED
    assert signed_in(owner).get(path).status_code == 404


@pytest.mark.parametrize(
    "token", ["x" * 5000, "garbage", signing.dumps(1, salt="another-salt"), signing.dumps("1")]
)
def test_forged_links_are_refused(account_with_tickets, token):
    _account, owner = account_with_tickets
    signed_in(owner).post(reverse("privacy:export"))
    assert signed_in(owner).get(f"/accounts/privacy/export/{token}/").status_code == 404


def test_only_the_owner_asks_for_an_export(account_with_tickets):
    account, _owner = account_with_tickets
    member = UserFactory()
    Membership.objects.create(account=account, user=member, role=MembershipRole.MEMBER)
    signed_in(member).post(reverse("privacy:export"))
    assert not DataExport.objects.exists()
