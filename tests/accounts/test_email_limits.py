"""Account e-mails anyone can ask for (sign-up links, password resets, invitations) are limited per
recipient address and per client address; the pages that must not reveal anything answer the same
when the limit holds an e-mail back, and an owner re-sending an invitation is told when they can."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from tests.factories import AccountFactory, UserFactory
from tests.html import find, parse, text
from tests.web import customer, db_state

pytestmark = pytest.mark.django_db

SIGNUP = "/accounts/signup/"
RESET = "/accounts/password_reset/"


@pytest.fixture(autouse=True)
def limits(settings):
    settings.ACCOUNT_EMAIL_LIMIT_PER_ADDRESS = 5
    settings.ACCOUNT_EMAIL_LIMIT_PER_IP = 20
    settings.ACCOUNT_EMAIL_LIMIT_MINUTES = 60
    # Mid-window: the counts start afresh every hour on the hour.
    with time_machine.travel(datetime(2027, 3, 1, 10, 20, tzinfo=UTC), tick=False):
        yield


def answer(response) -> tuple:
    """What the visitor sees of a request that must not reveal anything."""
    follow = response.client.get(response["Location"])
    return response.status_code, response["Location"], text(find(parse(follow.content), "main"))


def mails_to(address: str) -> int:
    return sum(address in message.to for message in mail.outbox)


@pytest.mark.parametrize("url", [SIGNUP, RESET])
def test_one_address_gets_a_few_emails_an_hour_whoever_asks(url):
    AccountFactory(owner=UserFactory(email="pat@example.com"))
    answers = {
        answer(Client().post(url, {"email": "Pat@example.com"}, REMOTE_ADDR=f"203.0.113.{n}"))
        for n in range(1, 11)
    }

    assert len(answers) == 1
    assert mails_to("pat@example.com") == 5

    with time_machine.travel(timezone.now() + timedelta(minutes=61)):
        Client().post(url, {"email": "pat@example.com"}, REMOTE_ADDR="203.0.113.99")
    assert mails_to("pat@example.com") == 6


@pytest.mark.parametrize("url", [SIGNUP, RESET])
def test_one_client_address_gets_a_few_emails_sent_an_hour(url):
    for number in range(25):
        AccountFactory(owner=UserFactory(email=f"user{number}@example.com"))
    answers = {
        answer(Client().post(url, {"email": f"user{n}@example.com"}, REMOTE_ADDR="203.0.113.5"))
        for n in range(25)
    }

    assert len(mail.outbox) == 20
    assert len({a[:2] for a in answers}) == 1
    # Another client is not held back.
    Client().post(url, {"email": "user24@example.com"}, REMOTE_ADDR="198.51.100.7")
    assert len(mail.outbox) == 21


def test_every_kind_of_account_email_counts_against_one_address():
    AccountFactory(owner=UserFactory(email="pat@example.com"))
    for number in range(3):
        Client().post(SIGNUP, {"email": "pat@example.com"}, REMOTE_ADDR=f"203.0.113.{number}")
    for number in range(3):
        Client().post(RESET, {"email": "pat@example.com"}, REMOTE_ADDR=f"198.51.100.{number}")

    assert mails_to("pat@example.com") == 5


def test_an_owner_re_sending_an_invitation_is_told_when_they_can_send_again(
    client, django_capture_on_commit_callbacks
):
    _account, owner = customer(0)
    client.force_login(owner)
    for _ in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post("/accounts/users/", {"email": "sam@example.com"}).status_code == 302
    before = db_state()

    with django_capture_on_commit_callbacks(execute=True):
        refused = client.post("/accounts/users/", {"email": "Sam@example.com"})

    field = text(find(parse(refused.content), "div", id="field-email"))
    assert re.search(r"You can send the invitation again in (\d+) minutes", field)
    assert int(re.search(r"again in (\d+) minutes", field).group(1)) <= 60
    assert mails_to("sam@example.com") == 5
    assert db_state() == before
    with time_machine.travel(timezone.now() + timedelta(minutes=61)):
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post("/accounts/users/", {"email": "sam@example.com"}).status_code == 302
    assert mails_to("sam@example.com") == 6


@pytest.mark.parametrize("url", [SIGNUP, RESET])
def test_with_the_cache_down_the_email_still_goes(url, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    AccountFactory(owner=UserFactory(email="pat@example.com"))

    response = Client().post(url, {"email": "pat@example.com"})

    assert response.status_code == 302
    assert mails_to("pat@example.com") == 1
