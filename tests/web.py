"""Helpers for the customer pages' tests: customers with points, files to attach, and a snapshot of
everything a refused request must leave unchanged."""

from __future__ import annotations

import os
from datetime import datetime

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Account
from catalog.models import IssueCategory
from helpdesk.models import User
from points.models import Entry, Hold, Lot, Order, WebhookEvent
from points.services import points_grant
from tests.factories import AccountFactory, UserFactory
from tickets.models import (
    Attachment,
    CostChange,
    Message,
    Quote,
    Rating,
    ReconsiderationRequest,
    StatusChange,
    Ticket,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


def customer(points: int = 0, *, email: str | None = None, at: datetime | None = None):
    """(account, owner) with `points` granted (valid two years)."""
    user = UserFactory(email=email) if email else UserFactory()
    account = AccountFactory(owner=user)
    if points:
        points_grant(account=account, points=points, reason="Test balance", actor=None, at=at)
    return account, user


def category(name: str) -> IssueCategory:
    """A category of the default catalog (loaded by the data migration)."""
    return IssueCategory.objects.get(name=name)


def png(name: str = "screenshot.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def text_file(name: str = "error.log", content: bytes = b"Traceback: boom\n") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/plain")


def stored_files() -> set[str]:
    """Every file under MEDIA_ROOT (uploads must not be left behind by a refused request)."""
    found = set()
    for root, _dirs, files in os.walk(settings.MEDIA_ROOT):
        found.update(os.path.join(root, name) for name in files)
    return found


def db_state() -> dict:
    """Row counts and balances of everything a customer request can change."""
    models = [
        Account,
        User,
        Lot,
        Entry,
        Hold,
        Order,
        WebhookEvent,
        Ticket,
        Message,
        Attachment,
        StatusChange,
        CostChange,
        Quote,
        ReconsiderationRequest,
        Rating,
    ]
    return {
        "counts": {model.__name__: model.objects.count() for model in models},
        "lots": list(Lot.objects.order_by("id").values_list("id", "remaining")),
        "holds": list(Hold.objects.order_by("id").values_list("id", "status", "amount")),
        "orders": list(Order.objects.order_by("id").values_list("id", "status")),
        "tickets": list(Ticket.objects.order_by("id").values_list("id", "status", "is_urgent")),
        "files": stored_files(),
    }


def count_queries(client, url: str) -> int:
    """How many queries a GET of `url` makes (the response must be a 200)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(queries)
