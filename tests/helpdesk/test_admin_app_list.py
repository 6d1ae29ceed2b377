"""The admin's list of apps is built only on the pages that show it (the index pages and the nav
sidebar), not on every admin page that merely offers it to its templates."""

import pytest
from django.contrib import admin

from tests.factories import StaffUserFactory, TicketFactory
from tests.html import find_all, parse

pytestmark = pytest.mark.django_db


def test_the_app_list_is_built_only_where_a_page_shows_it(client, monkeypatch):
    client.force_login(StaffUserFactory(is_superuser=True))
    built = []
    build = admin.AdminSite.get_app_list

    def spy(site, request, app_label=None):
        built.append(request.path)
        return build(site, request, app_label)

    monkeypatch.setattr(admin.AdminSite, "get_app_list", spy)

    ticket = TicketFactory()
    # The queue and the ticket page are wide work pages, without the sidebar.
    for url in ["/admin/tickets/ticket/", f"/admin/tickets/ticket/{ticket.pk}/change/"]:
        assert client.get(url).status_code == 200
    assert built == []

    index = parse(client.get("/admin/").content)
    sidebar = parse(client.get("/admin/auth/group/").content)
    assert built == ["/admin/", "/admin/auth/group/"]
    assert find_all(index, "a", href="/admin/tickets/ticket/")
    assert find_all(sidebar, "a", href="/admin/tickets/ticket/")
