"""The user admin shows when a user joined and last logged in; nobody types those dates.

Typed, 9999-12-31 23:59 in a time zone west of UTC is year 10000 in the database, and every page
showing that user failed from then on.
"""

import pytest

from helpdesk.models import User
from tests.html import find, find_all, parse, text

pytestmark = pytest.mark.django_db


def test_join_and_login_dates_are_shown_not_editable(client, settings):
    settings.TIME_ZONE = "America/New_York"
    admin = User.objects.create_superuser(email="root@helpdesk.example.com", password="x")
    user = User.objects.create_user(email="pat@example.com", password="x")
    joined = user.date_joined
    client.force_login(admin)
    url = f"/admin/helpdesk/user/{user.pk}/change/"

    page = parse(client.get(url).content)
    assert not find_all(page, "input", name="date_joined_0")
    assert text(find(page, "div", class_="field-date_joined"))

    response = client.post(
        url,
        {
            "email": "pat@example.com",
            "first_name": "Pat",
            "last_name": "",
            "is_active": "on",
            "date_joined_0": "9999-12-31",
            "date_joined_1": "23:59:59",
            "last_login_0": "0001-01-01",
            "last_login_1": "00:00:00",
        },
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.first_name, user.date_joined, user.last_login) == ("Pat", joined, None)
    assert client.get(url).status_code == client.get("/admin/helpdesk/user/").status_code == 200
