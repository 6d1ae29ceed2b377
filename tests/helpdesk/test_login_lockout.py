"""Password guessing: the login lock-out counts failures on the normalized address, per client
address and across addresses, on the customer and the admin login alike; nobody can lock an owner
out of their own account for long by knowing their address."""

import re
from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.core import mail
from django.test import Client
from django.utils import timezone

from tests.factories import PASSWORD, StaffUserFactory, UserFactory
from tests.html import attr, find, find_all, parse, text
from tests.web import customer

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/?next=/admin/"
NEW_PASSWORD = "a brand new passphrase 42"


def attempt(client, username, password="wrong password", *, ip="198.51.100.7", url=LOGIN):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=ip)


def fail(times, username, *, ip="198.51.100.7", url=LOGIN):
    """Wrong passwords from fresh browsers; the last may already be answered with the lock."""
    for _ in range(times):
        response = attempt(Client(), username, ip=ip, url=url)
        assert response.status_code in (200, 429), response.status_code


def logged_in(response) -> bool:
    return response.status_code == 302 and "_auth_user_id" in response.client.session


def assert_locked(response, minutes=15):
    assert response.status_code == 429
    assert (minutes - 1) * 60 < int(response["Retry-After"]) <= minutes * 60
    page = text(find(parse(response.content), "main"))
    assert "Too many failed attempts" in page
    assert f"Please wait {minutes} minutes and try again." in page
    links = {attr(a, "href") for a in find_all(parse(response.content), "a")}
    assert "/accounts/password_reset/" in links
    assert "_auth_user_id" not in response.client.session


# --- One identity, however it is spelled ------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    ["V@EXAMPLE.COM", "  v@example.com", "v@example.com\t", "\tV@Example.Com  ", "v@EXAMPLE.com"],
)
def test_failures_as_typed_lock_every_spelling_of_the_address(spelling):
    UserFactory(email="v@example.com")
    fail(5, "v@example.com")

    assert_locked(attempt(Client(), spelling, PASSWORD))


def test_failures_spread_over_spellings_add_up_to_one_lock():
    UserFactory(email="v@example.com")
    for spelling in ["v@example.com", "V@example.com", " v@EXAMPLE.com", "V@EXAMPLE.COM\t"]:
        assert attempt(Client(), spelling).status_code == 200

    assert_locked(attempt(Client(), "\tv@Example.COM "))
    assert_locked(attempt(Client(), "v@example.com", PASSWORD))
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["v@example.com"]


@pytest.mark.parametrize(
    "look_alike",
    [
        "\u212a@example.com",  # KELVIN SIGN, which lower() turns into "k"
        "\u017f@example.com",  # LATIN SMALL LETTER LONG S, which PostgreSQL's UPPER() makes "S"
        "\u0455@example.com",  # CYRILLIC SMALL LETTER DZE
        "\uff53@example.com",  # FULLWIDTH LATIN SMALL LETTER S
        "s\u200b@example.com",  # a zero-width space
        "s@example.com\x00",
    ],
)
@pytest.mark.parametrize("url", [LOGIN, ADMIN_LOGIN])
def test_unicode_look_alikes_of_an_address_simply_fail_to_log_in(look_alike, url):
    UserFactory(email="s@example.com", is_staff=True)
    UserFactory(email="k@example.com", is_staff=True)

    response = attempt(Client(), look_alike, PASSWORD, url=url)

    assert response.status_code == 200
    assert not logged_in(response)
    assert "valid email address" in text(parse(response.content))


def test_the_customer_and_the_admin_login_share_one_lock():
    StaffUserFactory(email="boss@helpdesk.example.com")
    fail(3, "boss@helpdesk.example.com")
    fail(2, "BOSS@helpdesk.example.com", url=ADMIN_LOGIN)

    assert_locked(attempt(Client(), " Boss@HelpDesk.example.com", PASSWORD, url=ADMIN_LOGIN))
    assert_locked(attempt(Client(), "boss@helpdesk.example.com", PASSWORD))


def test_the_admin_login_locks_every_spelling_too():
    StaffUserFactory(email="boss@helpdesk.example.com")
    fail(5, "boss@helpdesk.example.com", url=ADMIN_LOGIN)

    response = attempt(Client(), "BOSS@HELPDESK.EXAMPLE.COM", PASSWORD, url=ADMIN_LOGIN)

    assert_locked(response)


def test_a_lock_from_one_client_address_does_not_lock_the_owner_elsewhere():
    UserFactory(email="v@example.com")
    fail(5, "v@example.com", ip="203.0.113.66")

    assert logged_in(attempt(Client(), "v@example.com", PASSWORD, ip="198.51.100.7"))


# --- One client address trying many identities ------------------------------------------------


def test_one_client_address_trying_many_accounts_is_paused():
    UserFactory(email="victim@example.com")
    for number in range(19):
        fail(1, f"user{number}@example.com", ip="203.0.113.66")

    assert_locked(attempt(Client(), "user19@example.com", ip="203.0.113.66"))
    assert_locked(attempt(Client(), "victim@example.com", PASSWORD, ip="203.0.113.66"))
    # Another client address is not concerned.
    assert logged_in(attempt(Client(), "victim@example.com", PASSWORD, ip="198.51.100.7"))


def test_an_ipv6_client_is_counted_by_its_64_network():
    UserFactory(email="victim@example.com")
    for number in range(20):
        fail(1, f"user{number}@example.com", ip=f"2001:db8:1:2::{number + 1:x}")

    assert_locked(attempt(Client(), "victim@example.com", PASSWORD, ip="2001:db8:1:2:ffff::1"))
    assert logged_in(attempt(Client(), "victim@example.com", PASSWORD, ip="2001:db8:1:3::1"))


# --- One identity tried from many addresses ---------------------------------------------------


def test_guessing_one_account_from_many_addresses_is_paused_for_new_addresses_only():
    UserFactory(email="v@example.com")
    assert logged_in(attempt(Client(), "v@example.com", PASSWORD, ip="192.0.2.10"))
    for machine in range(5):
        fail(4, "v@example.com", ip=f"203.0.113.{machine + 1}")

    # A sixth machine is paused, even with the right password...
    assert_locked(attempt(Client(), "v@example.com", PASSWORD, ip="203.0.113.99"))
    # ...while the owner, from an address they logged in from before, still gets in.
    assert logged_in(attempt(Client(), "V@example.com", PASSWORD, ip="192.0.2.10"))


def test_attempts_refused_while_locked_do_not_count():
    UserFactory(email="v@example.com")
    fail(5, "v@example.com", ip="203.0.113.1")
    for _ in range(50):
        assert attempt(Client(), "v@example.com", ip="203.0.113.1").status_code == 429

    assert logged_in(attempt(Client(), "v@example.com", PASSWORD, ip="198.51.100.7"))


# --- How a lock ends --------------------------------------------------------------------------


def test_the_lock_ends_after_the_cool_off_and_the_page_says_how_long_is_left():
    UserFactory(email="v@example.com")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        fail(5, "v@example.com")
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        assert_locked(attempt(Client(), "v@example.com", PASSWORD), minutes=5)
    with time_machine.travel(start + timedelta(minutes=15, seconds=1), tick=False):
        assert logged_in(attempt(Client(), "v@example.com", PASSWORD))


def test_a_password_reset_lifts_the_lock_of_that_user_everywhere():
    user = UserFactory(email="v@example.com")
    other = UserFactory(email="other@example.com")
    fail(5, "v@example.com", ip="198.51.100.7")
    fail(5, "other@example.com", ip="198.51.100.7")
    for machine in range(5):
        fail(4, "v@example.com", ip=f"203.0.113.{machine + 1}")
    assert_locked(attempt(Client(), "v@example.com", PASSWORD))

    reset = Client()
    reset.post("/accounts/password_reset/", {"email": "V@example.com"})
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+/)", mail.outbox[-1].body).group(1)
    form_url = reset.get(link, follow=True).redirect_chain[-1][0]
    reset.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert logged_in(attempt(Client(), "v@example.com", NEW_PASSWORD))
    assert logged_in(attempt(Client(), "v@example.com", NEW_PASSWORD, ip="203.0.113.99"))
    # Only that user's lock: the other identity tried from the same address stays locked.
    assert_locked(attempt(Client(), other.email, PASSWORD))


def test_accepting_an_invitation_lifts_the_lock_of_that_address_everywhere(
    client, django_capture_on_commit_callbacks
):
    """The invitation link proves the mailbox, as a password reset does."""
    account, owner = customer(0, email="owner@example.com")
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/users/", {"email": "webmaster@example.com"})
    link = re.search(r"https?://[^/]+(/accounts/invitation/\S+/)", mail.outbox[-1].body).group(1)
    fail(5, "webmaster@example.com", ip="198.51.100.7")
    for machine in range(5):
        fail(4, "webmaster@example.com", ip=f"203.0.113.{machine + 1}")
    assert_locked(attempt(Client(), "webmaster@example.com", NEW_PASSWORD))

    invited = Client()
    form_url = invited.get(link, follow=True).redirect_chain[-1][0]
    invited.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert logged_in(attempt(Client(), "webmaster@example.com", NEW_PASSWORD))
    assert logged_in(attempt(Client(), "webmaster@example.com", NEW_PASSWORD, ip="203.0.113.99"))


# --- Client addresses and malformed input -----------------------------------------------------


def test_a_client_cannot_escape_the_lock_with_a_forged_forwarded_header():
    UserFactory(email="v@example.com")
    for number in range(5):
        response = Client().post(
            LOGIN,
            {"username": "v@example.com", "password": "wrong"},
            REMOTE_ADDR="203.0.113.1",
            HTTP_X_FORWARDED_FOR=f"10.0.0.{number}",
        )
    assert_locked(response)


def test_behind_a_trusted_proxy_the_forwarded_client_address_counts(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    UserFactory(email="v@example.com")
    proxy = "10.0.0.2"
    for _ in range(5):
        Client().post(
            LOGIN,
            {"username": "v@example.com", "password": "wrong"},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.1",
        )

    def login_from(forwarded):
        return Client().post(
            LOGIN,
            {"username": "v@example.com", "password": PASSWORD},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR=forwarded,
        )

    # What the client wrote to the left of the proxy's entry is not trusted.
    assert_locked(login_from("9.9.9.9, 203.0.113.1"))
    assert logged_in(login_from("203.0.113.2"))
    # A malformed header falls back to the proxy's own address, never an error.
    assert login_from("not-an-address").status_code == 302


@pytest.mark.parametrize(
    "data",
    [
        {"username": "a" * 1_000_000 + "@example.com", "password": PASSWORD},
        {"username": "a" * 250 + "@example.com", "password": PASSWORD},
        {"username": "v@example.com", "password": "x" * 1_000_000},
        {"username": "v\x00@example.com", "password": PASSWORD},
        {"username": "v@example.com", "password": "pass\x00word"},
        {"username": '"v\x1b"@example.com', "password": PASSWORD},
    ],
    ids=["huge address", "too long address", "huge password", "NUL", "NUL password", "escape"],
)
@pytest.mark.parametrize("url", [LOGIN, ADMIN_LOGIN])
def test_malformed_logins_are_form_errors_and_count_nothing(data, url):
    UserFactory(email="v@example.com", is_staff=True)

    response = Client().post(url, data)

    assert response.status_code == 200
    assert not logged_in(response)
    assert not AccessAttempt.objects.exists()


@pytest.mark.parametrize("url", [LOGIN, ADMIN_LOGIN])
def test_invalid_utf8_in_a_login_is_a_form_error(url):
    UserFactory(email="v@example.com", is_staff=True)

    response = Client().post(
        url,
        b"username=v%FF%FE@example.com&password=%C0%AF%ED%A0%80",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert not logged_in(response)
