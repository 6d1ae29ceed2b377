import pytest
from django.urls import reverse

from notifications.models import Notification
from tests.admin_support import file_ticket
from tests.factories import StaffUserFactory
from tests.html import find_all, parse

pytestmark = pytest.mark.django_db


def test_the_outbox_is_listed_read_only_for_superusers(client):
    admin_user = StaffUserFactory(is_superuser=True)
    client.force_login(admin_user)

    listing = client.get(reverse("admin:notifications_notification_changelist"))
    add = client.get(reverse("admin:notifications_notification_add"))

    assert listing.status_code == 200
    assert "HelpDesk staff" in listing.content.decode()
    assert add.status_code == 403
    assert not Notification.objects.exists()


def test_each_e_mail_links_to_what_it_is_about_and_is_found_by_its_name(client):
    ticket = file_ticket(subject="Checkout shows a blank page")
    client.force_login(StaffUserFactory(is_superuser=True))
    changelist = reverse("admin:notifications_notification_changelist")

    page = client.get(changelist, {"q": "blank page"}).content.decode()

    assert "ticket_filed" in page
    assert reverse("admin:tickets_ticket_change", args=[ticket.pk]) in page
    assert f"#{ticket.pk} Checkout shows a blank page" in page
    other = parse(client.get(changelist, {"q": "nothing like it"}).content)
    assert not find_all(other, "table", id="result_list")
