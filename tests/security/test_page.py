"""The account security page: two-factor on and off, e-mail change confirmed from the new mailbox,
the signed-in sessions and "sign out everywhere else"."""

from __future__ import annotations

import re

import pytest
from django.core import mail, signing
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from helpdesk.models import User
from security.models import UserSession
from tests.factories import PASSWORD, StaffUserFactory, UserFactory
from tests.second_factor import authenticator, current_code

pytestmark = pytest.mark.django_db

PAGE = "/accounts/security/"


def signed_in(user, agent="Firefox on Linux") -> Client:
    client = Client(HTTP_USER_AGENT=agent)
    client.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    return client


def test_the_page_lists_every_signed_in_session_with_its_device(django_assert_max_num_queries):
    user = UserFactory()
    laptop = signed_in(user, "Firefox on Linux")
    signed_in(user, "Safari on iPhone")

    with django_assert_max_num_queries(12):
        page = laptop.get(PAGE)

    text = page.content.decode()
    assert "Firefox on Linux" in text and "Safari on iPhone" in text
    assert text.count("this one") == 1


def test_sign_out_everywhere_else_ends_the_other_sessions_only():
    user = UserFactory()
    laptop, phone = signed_in(user, "Laptop"), signed_in(user, "Phone")
    stranger = signed_in(UserFactory(), "Other person")

    laptop.post(reverse("sessions_end_others"))

    assert laptop.get(PAGE).status_code == 200
    assert phone.get(PAGE)["Location"].startswith("/accounts/login/")
    assert stranger.get(PAGE).status_code == 200
    assert list(UserSession.objects.filter(user=user).values_list("user_agent", flat=True)) == [
        "Laptop"
    ]


def test_a_session_is_written_at_most_once_a_minute(django_assert_num_queries):
    user = UserFactory()
    client = signed_in(user)
    client.get("/tickets/")
    seen = UserSession.objects.get().last_seen_at
    client.get("/tickets/")
    assert UserSession.objects.get().last_seen_at == seen


def test_logging_out_removes_the_session_from_the_list():
    user = UserFactory()
    client = signed_in(user)
    client.post("/accounts/logout/")
    assert not UserSession.objects.exists()


def test_change_of_address_needs_the_link_sent_to_the_new_one_and_tells_the_old():
    user = UserFactory(email="pat@old.example.com")
    client = signed_in(user)

    response = client.post(
        reverse("email_change"), {"new_email": "Pat@New.example.com", "password": PASSWORD}
    )

    assert response.status_code == 302
    assert User.objects.get(pk=user.pk).email == "pat@old.example.com"
    confirm, notice = mail.outbox
    assert confirm.to == ["pat@new.example.com"] and notice.to == ["pat@old.example.com"]
    assert "/accounts/security/email/" not in notice.body
    link = re.search(r"http://\S+/accounts/security/email/\S+/", confirm.body).group(0)
    client.get(link.split("8000", 1)[1] if "8000" in link else link)
    assert User.objects.get(pk=user.pk).email == "pat@new.example.com"
    # The link works once: the old address it names is gone.
    client.get(link.split("8000", 1)[1] if "8000" in link else link)
    assert User.objects.get(pk=user.pk).email == "pat@new.example.com"


def test_change_of_address_refuses_a_wrong_password_and_sends_nothing():
    client = signed_in(UserFactory())
    response = client.post(
        reverse("email_change"), {"new_email": "x@example.com", "password": "guess"}
    )
    assert response.status_code == 400 and mail.outbox == []


@pytest.mark.parametrize(
    "token",
    [
        "x" * 5000,
        "not-a-token",
        signing.dumps([1, "a@example.com", "b@example.com"], salt="other-salt"),
    ],
)
def test_forged_or_malformed_links_change_nothing(token):
    user = UserFactory(email="pat@example.com")
    client = signed_in(user)
    response = client.get(f"/accounts/security/email/{token}/")
    assert response.status_code == 302
    assert User.objects.get(pk=user.pk).email == "pat@example.com"


def test_a_link_made_for_another_user_changes_nothing():
    victim, attacker = UserFactory(email="victim@example.com"), UserFactory()
    token = signing.dumps(
        [victim.pk, victim.email, "attacker@example.com"], salt="helpdesk.email-change"
    )
    signed_in(attacker).get(f"/accounts/security/email/{token}/")
    assert User.objects.get(pk=victim.pk).email == "victim@example.com"
    assert User.objects.get(pk=attacker.pk).email != "attacker@example.com"


def test_a_customer_turns_two_factor_on_from_the_page_and_off_with_the_password():
    user = UserFactory()
    client = signed_in(user)
    assert b"Turn on two-factor sign-in" in client.get(PAGE).content
    client.get(reverse("two_factor_setup"))
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    codes = client.post(reverse("two_factor_setup"), {"token": current_code(device)})
    assert codes.content.count(b"<code>") == 10
    assert b"10 recovery codes left" in client.get(PAGE).content

    wrong = client.post(reverse("two_factor_off"), {"password": "guess"})
    assert wrong.status_code == 400 and TOTPDevice.objects.filter(user=user).exists()
    client.post(reverse("two_factor_off"), {"password": PASSWORD})
    assert not TOTPDevice.objects.filter(user=user).exists()


def test_staff_cannot_turn_it_off():
    staff = StaffUserFactory()
    client = Client()
    client.force_login(staff)
    client.post(reverse("two_factor_off"), {"password": PASSWORD})
    assert TOTPDevice.objects.filter(user=staff).exists()


def test_new_recovery_codes_need_a_verified_session():
    user = UserFactory()
    authenticator(user)
    client = signed_in(user)
    response = client.post(reverse("two_factor_recovery_codes"))
    assert response.status_code == 302 and "two-factor" in response["Location"]
