import pytest
from django.urls import reverse

from tests.factories import StaffUserFactory
from tickets.models import Notification

pytestmark = pytest.mark.django_db


def test_the_outbox_is_listed_read_only_for_superusers(client):
    admin_user = StaffUserFactory(is_superuser=True)
    client.force_login(admin_user)

    listing = client.get(reverse("admin:tickets_notification_changelist"))
    add = client.get(reverse("admin:tickets_notification_add"))

    assert listing.status_code == 200
    assert "HelpDesk staff" in listing.content.decode()
    assert add.status_code == 403
    assert not Notification.objects.exists()
