"""The ticket list and the statement render plain rows with a small function: the JSON is what
the serializers' DRF fields give for the model instances (the schema's declaration), in every
time zone, page after page."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from api.serializers import EntrySerializer, TicketListItemSerializer
from points.models import entry_available_change
from points.selectors import statement_entries
from points.services import lots_expire_due, order_checkout, points_grant
from tests.factories import (
    IssueCategoryFactory,
    PointPackageFactory,
    StaffUserFactory,
    TicketFactory,
)
from tickets.models import TicketOutcome, TicketStatus
from tickets.selectors import tickets_for_account
from tickets.services import ticket_file, ticket_reply

pytestmark = pytest.mark.django_db


class FieldsTicketListItem(TicketListItemSerializer):
    """Rendered by the declared fields, from a ticket of tickets_for_account."""

    to_representation = serializers.Serializer.to_representation


class FieldsEntry(EntrySerializer):
    """Rendered by the declared fields, from an entry of points.selectors.statement_entries."""

    to_representation = serializers.Serializer.to_representation

    def get_available_change(self, entry) -> int:
        return entry_available_change(entry.kind, entry.amount)

    def get_ticket(self, entry) -> int | None:
        return entry.hold.ticket_id if entry.hold_id else None


def as_json(data) -> str:
    """`data` as the API sends it (keys in order)."""
    return JSONRenderer().render(data).decode()


@pytest.fixture
def history(account, owner):
    """Tickets of every shape and journal lines of many kinds, some with a ticket or an order."""
    now = timezone.now()
    expired = points_grant(
        account=account, points=30, reason="old", actor=None, at=now - timedelta(days=20)
    )
    expired.expires_at = now - timedelta(days=1)
    expired.save(update_fields=["expires_at"])
    lots_expire_due(as_of=now)
    points_grant(account=account, points=500, reason="goodwill", actor=None)
    order_checkout(account=account, package=PointPackageFactory(points=250), actor=owner)
    staff = StaffUserFactory()
    captured = ticket_file(
        account=account,
        filed_by=owner,
        category=IssueCategoryFactory(points=40),
        subject="Checkout fails – «ünïcode»",
        description="It is broken.",
    )
    ticket_reply(ticket=captured, author=staff, body="Looking", internal=True)
    ticket_reply(ticket=captured, author=staff, body="Fixed?")
    TicketFactory(account=account, is_urgent=True, quote_first=True)
    TicketFactory(
        account=account,
        status=TicketStatus.CLOSED,
        outcome=TicketOutcome.SOFTWARE_BUG,
        last_activity_at=now - timedelta(days=3, microseconds=7),
    )
    TicketFactory(subject="Someone else's")
    return account


def all_pages(api, url):
    results = []
    while url:
        body = api.get(url).json()
        results += body["results"]
        url = body["next"]
    return results


@pytest.mark.parametrize("zone", ["UTC", "America/St_Johns"])
def test_the_ticket_list_is_what_the_fields_give(api, history, zone):
    with timezone.override(zone):
        expected = as_json(
            FieldsTicketListItem(tickets_for_account(account=history), many=True).data
        )
        tickets = json.loads(expected)
        assert len(tickets) == 3
        assert {t["points"] for t in tickets} == {40, None}
        assert as_json(api.get("/api/v1/tickets").json()["results"]) == expected
        assert as_json(all_pages(api, "/api/v1/tickets?page_size=1")) == expected


@pytest.mark.parametrize("zone", ["UTC", "America/St_Johns"])
def test_the_statement_is_what_the_fields_give(api, history, zone):
    with timezone.override(zone):
        newest_first = statement_entries(account=history).order_by("-dated_at", "-id")
        expected = as_json(FieldsEntry(newest_first, many=True).data)
        entries = json.loads(expected)
        assert {e["kind"] for e in entries} >= {"grant", "expire", "purchase", "capture"}
        assert any(e["ticket"] for e in entries) and any(e["order"] for e in entries)
        assert as_json(api.get("/api/v1/statement").json()["results"]) == expected
        assert as_json(all_pages(api, "/api/v1/statement?page_size=2")) == expected
