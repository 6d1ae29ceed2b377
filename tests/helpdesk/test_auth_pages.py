"""Log in, log out, password reset and change, and the lockout page, over HTTP (signing up is in
test_signup.py, the lock-out's rules in test_login_lockout.py)."""

import re

import pytest
from django.core import mail

from tests.factories import PASSWORD, UserFactory
from tests.html import attr, find, find_all, parse, text

pytestmark = pytest.mark.django_db

PRICING = "/support/pricing/"
NEW_PASSWORD = "a brand new passphrase 42"
BASE_URL = "https://helpdesk.example.com"


@pytest.fixture(autouse=True)
def base_url(settings):
    settings.HELPDESK_BASE_URL = BASE_URL


def reset_link(message) -> str:
    return re.search(re.escape(BASE_URL) + r"(/accounts/reset/\S+/)", message.body).group(1)


def is_logged_in(client) -> bool:
    """What the visitor sees: the header offers "Log out" only to someone logged in."""
    nav = find(parse(client.get(PRICING).content), "nav", class_="site-nav")
    return "Log out" in text(nav)


def field_block(response, name: str):
    return find(parse(response.content), "div", id=f"field-{name}")


# --- Log in and out -----------------------------------------------------------------------------


def test_login_page_offers_password_reset_and_signup(client):
    root = parse(client.get("/accounts/login/").content)

    links = {attr(a, "href") for a in find_all(find(root, "main"), "a")}
    assert "/accounts/password_reset/" in links
    assert "/accounts/signup/" in links
    assert find(root, "input", name="username", type="email")
    assert find(root, "input", name="password", type="password")


def test_login_by_email_ignores_case(client):
    UserFactory(email="pat@example.com")

    response = client.post(
        "/accounts/login/", {"username": "  PAT@Example.com ", "password": PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == "/tickets/"
    assert is_logged_in(client)


def test_login_goes_back_to_the_page_asked_for(client):
    UserFactory(email="pat@example.com")

    response = client.post(
        "/accounts/login/?next=/support/pricing/",
        {"username": "pat@example.com", "password": PASSWORD, "next": PRICING},
    )

    assert response["Location"] == PRICING


def test_login_with_a_wrong_password_shows_an_error_and_keeps_the_email(client):
    UserFactory(email="pat@example.com")

    response = client.post(
        "/accounts/login/", {"username": "pat@example.com", "password": "wrong password"}
    )

    assert response.status_code == 200
    root = parse(response.content)
    error = find(root, "div", class_="form-errors")
    assert attr(error, "role") == "alert"
    assert "Please enter a correct e-mail address and password." in text(error)
    assert "the password is case-sensitive" in text(error)
    assert attr(find(root, "input", name="username"), "value") == "pat@example.com"
    assert attr(find(root, "input", name="password"), "value") is None
    assert not is_logged_in(client)


def test_repeated_wrong_passwords_lock_the_login_and_explain_what_to_do(client):
    UserFactory(email="pat@example.com")
    wrong = {"username": "pat@example.com", "password": "wrong password"}
    for _ in range(4):
        assert client.post("/accounts/login/", wrong).status_code == 200

    locked = client.post("/accounts/login/", wrong)
    right_too_late = client.post(
        "/accounts/login/", {"username": "pat@example.com", "password": PASSWORD}
    )

    for response in (locked, right_too_late):
        assert response.status_code == 429
        page_text = text(find(parse(response.content), "main"))
        assert "Please wait 15 minutes and try again." in page_text
        links = {attr(a, "href") for a in find_all(parse(response.content), "a")}
        assert "/accounts/password_reset/" in links
    assert not is_logged_in(client)


def test_logout_is_a_post_from_the_header(client):
    client.force_login(UserFactory())
    nav = find(parse(client.get(PRICING).content), "nav", class_="site-nav")
    form = find(nav, "form")
    assert (attr(form, "method"), attr(form, "action")) == ("post", "/accounts/logout/")

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert response["Location"] == PRICING
    assert not is_logged_in(client)


def test_logout_by_get_is_refused(client):
    client.force_login(UserFactory())

    assert client.get("/accounts/logout/").status_code == 405
    assert is_logged_in(client)


def test_header_shows_the_customer_pages_only_when_logged_in(client):
    anonymous_nav = text(find(parse(client.get(PRICING).content), "nav", class_="site-nav"))
    client.force_login(UserFactory())
    customer_nav = text(find(parse(client.get(PRICING).content), "nav", class_="site-nav"))

    assert "Log in" in anonymous_nav and "Sign up" in anonymous_nav
    assert "My tickets" not in anonymous_nav
    for item in ["Pricing", "My tickets", "New ticket", "Support points", "Log out"]:
        assert item in customer_nav
    assert "Sign up" not in customer_nav


# --- Password reset and change ------------------------------------------------------------------


def test_password_reset_mails_a_link_that_sets_a_new_password(client):
    user = UserFactory(email="pat@example.com")

    response = client.post("/accounts/password_reset/", {"email": "Pat@Example.com"})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password_reset/done/"
    assert "Check your e-mail" in text(parse(client.get(response["Location"]).content))
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["pat@example.com"]
    assert message.subject == "Reset your HelpDesk password"
    link = reset_link(message)

    form_page = client.get(link, follow=True)
    assert "Choose a new password" in text(parse(form_page.content))
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert done["Location"] == "/accounts/reset/done/"
    assert "Your password has been changed" in text(parse(client.get(done["Location"]).content))
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    login = client.post("/accounts/login/", {"username": user.email, "password": NEW_PASSWORD})
    assert login.status_code == 302
    assert is_logged_in(client)


def test_password_reset_link_works_only_once(client):
    UserFactory(email="pat@example.com")
    client.post("/accounts/password_reset/", {"email": "pat@example.com"})
    link = reset_link(mail.outbox[0])
    form_url = client.get(link, follow=True).redirect_chain[-1][0]
    client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    response = client.get(link, follow=True)

    assert "This link no longer works" in text(parse(response.content))


def test_password_reset_for_an_unknown_address_sends_nothing_and_reveals_nothing(client):
    response = client.post("/accounts/password_reset/", {"email": "nobody@example.com"})

    assert response["Location"] == "/accounts/password_reset/done/"
    assert mail.outbox == []


def test_password_reset_links_use_the_public_address_whatever_host_the_request_names(
    client, settings
):
    settings.ALLOWED_HOSTS = ["*"]
    UserFactory(email="pat@example.com")

    client.post(
        "/accounts/password_reset/", {"email": "pat@example.com"}, HTTP_HOST="attacker.example"
    )

    assert reset_link(mail.outbox[0]).startswith("/accounts/reset/")
    assert "attacker" not in mail.outbox[0].body


@pytest.mark.parametrize(
    "email",
    ["\u017fam@example.com", "sam@example.com\x00", "s\u0430m@example.com", "a" * 1_000_000],
    ids=["long s", "NUL", "cyrillic a", "huge"],
)
def test_password_reset_for_a_look_alike_or_malformed_address_sends_nothing(client, email):
    UserFactory(email="sam@example.com")

    response = client.post("/accounts/password_reset/", {"email": email})

    assert response.status_code == 200
    assert field_block(response, "email").children
    assert mail.outbox == []


def test_password_reset_with_invalid_utf8_is_a_form_error(client):
    response = client.post(
        "/accounts/password_reset/",
        b"email=sam%FF@example.com",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert mail.outbox == []


def test_a_new_password_is_bounded(client):
    user = UserFactory(email="pat@example.com")
    client.post("/accounts/password_reset/", {"email": "pat@example.com"})
    form_url = client.get(reset_link(mail.outbox[0]), follow=True).redirect_chain[-1][0]
    huge = "correct horse " * 5_000

    response = client.post(form_url, {"new_password1": huge, "new_password2": huge})

    assert "This password is too long" in text(field_block(response, "new_password2"))
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_password_change_keeps_the_form_on_error_and_changes_on_success(client):
    user = UserFactory()
    client.force_login(user)
    assert client.get("/accounts/password_change/").status_code == 200

    refused = client.post(
        "/accounts/password_change/",
        {"old_password": "not it", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert refused.status_code == 200
    assert "Your old password was entered incorrectly" in text(field_block(refused, "old_password"))

    changed = client.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert "Your password has been changed" in text(parse(changed.content))
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
