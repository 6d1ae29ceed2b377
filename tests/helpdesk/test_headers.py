"""Headers every page carries: a strict Content-Security-Policy, and no caching of what a
logged-in person sees."""

from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static

from tests.admin_support import file_ticket, funded_account, support_staff_user
from tests.factories import account_owner

pytestmark = pytest.mark.django_db


def csp_directives(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.parametrize("url", ["/support/pricing/", "/accounts/login/", "/accounts/signup/"])
def test_public_pages_carry_a_strict_content_security_policy(client, url):
    directives = csp_directives(client.get(url))
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]
    assert directives["base-uri"] == ["'none'"]
    for values in directives.values():
        assert not {"'unsafe-inline'", "'unsafe-eval'", "*"} & set(values)


def test_pages_of_a_logged_in_customer_are_never_stored(client):
    ticket = file_ticket(funded_account(200))
    client.force_login(account_owner(ticket.account))
    for url in [
        "/tickets/",
        f"/tickets/{ticket.pk}/",
        "/communication-center/support-points/",
        "/communication-center/support-points/statement.csv",
        "/accounts/users/",
        "/support/pricing/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        directives = {part.strip() for part in response.headers["Cache-Control"].split(",")}
        assert {"private", "no-store"} <= directives, url
        assert "Content-Security-Policy" in response.headers, url


def test_admin_pages_are_never_stored_either(client):
    ticket = file_ticket(funded_account(200))
    client.force_login(support_staff_user())
    for url in ["/admin/", "/admin/tickets/ticket/", f"/admin/tickets/ticket/{ticket.pk}/change/"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response.headers["Cache-Control"], url


def test_anonymous_public_pages_may_be_cached(client):
    response = client.get("/support/pricing/")
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_the_favicon_is_served_so_browsers_stop_asking(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response.headers["Location"] == static("img/favicon.svg")
    assert "<svg" in Path(finders.find("img/favicon.svg")).read_text()
    page = client.get("/support/pricing/").content.decode()
    assert 'rel="icon"' in page
