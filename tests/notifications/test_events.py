"""The registry of e-mail events: every app's events are known by name, each with its templates,
and the outbox refuses what nobody registered."""

import pytest
from django.template.loader import get_template

from notifications import events
from notifications.models import Notification
from notifications.outbox import notify
from tests.admin_support import file_ticket

pytestmark = pytest.mark.django_db

EVERY_EVENT = {
    "account_invitation",
    "points_expiring",
    "ticket_filed",
    "customer_replied",
    "reconsideration_requested",
    "staff_replied",
    "cost_changed",
    "quote_set",
    "ticket_resolved",
    "points_returned",
    "reconsideration_decided",
    "points_needed",
    "payment_received",
    "order_refunded",
    "points_low",
    "mail_ticket_opened",
    "mail_not_posted",
    "mail_attachments_refused",
    "mail_unknown_sender",
}


def test_each_app_registers_its_events_once_at_start():
    assert set(events.registered()) == EVERY_EVENT


@pytest.mark.parametrize("event", sorted(EVERY_EVENT))
def test_every_event_has_its_subject_text_and_html_templates(event):
    for suffix in ("_subject.txt", ".txt", ".html"):
        get_template(f"emails/{event}{suffix}")


def test_an_event_cannot_be_registered_twice():
    with pytest.raises(ValueError, match="already registered"):
        events.register("ticket_filed", recipients=lambda subject, context: [])


def test_the_outbox_refuses_an_event_nobody_registered():
    ticket = file_ticket()
    before = Notification.objects.count()

    with pytest.raises(events.UnknownEvent):
        notify("no_such_event", ticket)

    assert Notification.objects.count() == before


def test_a_notification_names_its_subject_and_what_it_was_called():
    ticket = file_ticket(subject="Checkout shows a blank page")

    notification = Notification.objects.get(event="ticket_filed")

    assert notification.subject == ticket
    assert notification.about == f"#{ticket.pk} Checkout shows a blank page"
    assert list(Notification.objects.filter(ticket=ticket)) == [notification]
