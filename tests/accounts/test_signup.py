"""Signing up in two steps: the address gets a link, the link finishes the account and logs in. The
answer never tells whether an address is registered; nothing but a finished account holds one."""

import re
import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail, signing
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from accounts.models import Account, Membership, MembershipRole
from accounts.services import AccountError, account_sign_up
from helpdesk.models import User
from tests.factories import PASSWORD, AccountFactory, StaffUserFactory, UserFactory
from tests.html import attr, find, find_all, parse, text
from tests.web import count_queries, db_state

pytestmark = pytest.mark.django_db

SIGNUP = "/accounts/signup/"
BASE_URL = "https://helpdesk.example.com"


@pytest.fixture(autouse=True)
def base_url(settings):
    settings.HELPDESK_BASE_URL = BASE_URL


def finish_data(**overrides):
    return {
        "first_name": "Pat",
        "last_name": "Jones",
        "account_name": "Jones Hardware Ltd",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **overrides,
    }


def start(client, email, **extra):
    return client.post(SIGNUP, {"email": email}, **extra)


def link_in(message) -> str:
    return re.search(re.escape(BASE_URL) + r"(/accounts/signup/\S+/)", message.body).group(1)


def signup_link(email) -> str:
    start(Client(), email)
    return link_in(mail.outbox[-1])


def is_logged_in(client) -> bool:
    nav = find(parse(client.get("/support/pricing/").content), "nav", class_="site-nav")
    return "Log out" in text(nav)


def main_text(response) -> str:
    return text(find(parse(response.content), "main"))


# --- The two steps ----------------------------------------------------------------------------


def test_signup_asks_for_the_address_first(client):
    root = parse(client.get(SIGNUP).content)

    labels = [text(label) for label in find_all(find(root, "form"), "label")]
    assert labels == ["E-mail address"]
    assert find(root, "input", name="email", type="email")


def test_the_address_gets_a_link_that_finishes_the_account_and_logs_in(client):
    response = start(client, "  Pat.Jones@Example.com ")

    assert response.status_code == 302
    sent = client.get(response["Location"])
    assert "Check your inbox" in main_text(sent)
    assert "We sent an e-mail to pat.jones@example.com" in main_text(sent)
    assert not User.objects.exists()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["pat.jones@example.com"]
    assert message.subject == "Finish creating your HelpDesk account"
    assert "The link works for 24 hours." in message.body
    link = link_in(message)
    assert link in message.alternatives[0][0]

    form_page = client.get(link)
    root = parse(form_page.content)
    assert "Your account's login is pat.jones@example.com" in main_text(form_page)
    labels = [text(label) for label in find_all(find(root, "form"), "label")]
    assert labels == [
        "First name (optional)",
        "Last name (optional)",
        "Company or your name",
        "Password",
        "Password confirmation",
    ]
    done = client.post(link, finish_data())

    assert done.status_code == 302
    assert done["Location"] == "/communication-center/support-points/"
    user = User.objects.get(email="pat.jones@example.com")
    assert (user.first_name, user.last_name) == ("Pat", "Jones")
    assert user.check_password(PASSWORD)
    membership = Membership.objects.select_related("account").get(user=user)
    assert membership.role == MembershipRole.OWNER
    assert membership.account.name == "Jones Hardware Ltd"
    welcome = find(parse(client.get("/support/pricing/").content), "div", class_="message")
    assert "Your HelpDesk account is ready" in text(welcome)
    assert is_logged_in(client)


def test_the_finish_form_shows_errors_at_the_fields_and_keeps_what_was_typed(client):
    link = signup_link("pat@example.com")

    response = client.post(link, finish_data(password2="something else 99"))

    assert response.status_code == 200
    assert "didn’t match" in text(find(parse(response.content), "div", id="field-password2"))
    account_input = find(parse(response.content), "input", name="account_name")
    assert attr(account_input, "value") == "Jones Hardware Ltd"
    assert not User.objects.exists()

    similar = client.post(
        link, finish_data(password1="pat@example.com", password2="pat@example.com")
    )
    assert "too similar" in text(find(parse(similar.content), "div", id="field-password2"))
    assert not User.objects.exists()


def test_a_logged_in_customer_is_not_offered_signup_again(client):
    client.force_login(UserFactory())
    link = signup_link("new@example.com")

    assert client.get(SIGNUP).status_code == 302
    assert client.get(link).status_code == 302


# --- Registered or not: the same answer -------------------------------------------------------


def test_signup_answers_the_same_for_a_registered_address_and_tells_its_owner():
    AccountFactory(owner=UserFactory(email="pat@example.com"))
    StaffUserFactory(email="agent@helpdesk.example.com")
    before = db_state()
    answers = {}
    for email in ["new@example.com", "PAT@example.com ", "agent@helpdesk.example.com"]:
        client = Client()
        response = start(client, email)
        sent = client.get(response["Location"])
        shown = User.objects.normalize_email(email)
        answers[email] = (response.status_code, response["Location"], sent.status_code)
        answers[email] += (main_text(sent).replace(shown, "ADDRESS"),)

    assert len(set(answers.values())) == 1
    assert db_state() == before
    new, registered, staff = mail.outbox
    assert new.subject == "Finish creating your HelpDesk account"
    for message, address in [
        (registered, "pat@example.com"),
        (staff, "agent@helpdesk.example.com"),
    ]:
        assert message.to == [address]
        assert message.subject == "Someone tried to sign up with your address"
        assert f"{BASE_URL}/accounts/login/" in message.body
        assert f"{BASE_URL}/accounts/password_reset/" in message.body
        assert "/accounts/signup/" not in message.body + message.alternatives[0][0]


def test_a_link_for_an_address_registered_meanwhile_says_so_and_changes_nothing(client):
    link = signup_link("pat@example.com")
    AccountFactory(owner=UserFactory(email="pat@example.com"))
    before = db_state()

    for response in (client.get(link), client.post(link, finish_data())):
        assert response.status_code == 200
        assert "This address already has a HelpDesk account" in main_text(response)
    assert db_state() == before
    assert not is_logged_in(client)


# --- Links: once, in time, as sent ------------------------------------------------------------


def test_a_link_works_once(client):
    link = signup_link("pat@example.com")
    assert client.post(link, finish_data()).status_code == 302
    client.post("/accounts/logout/")
    before = db_state()

    replayed = client.post(link, finish_data(account_name="Second account"))

    assert "This address already has a HelpDesk account" in main_text(replayed)
    assert db_state() == before
    assert not is_logged_in(client)


def test_an_expired_link_asks_to_sign_up_again(client):
    link = signup_link("pat@example.com")

    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1)):
        page = client.get(link)
        posted = client.post(link, finish_data())

    for response in (page, posted):
        assert "this one has expired" in main_text(response)
        links = {attr(a, "href") for a in find_all(find(parse(response.content), "main"), "a")}
        assert SIGNUP in links
    assert not User.objects.exists()


@pytest.mark.parametrize(
    "token",
    [
        "forged",
        signing.dumps("pat@example.com", salt="another purpose"),
        signing.dumps("pat@example.com", salt="helpdesk.signup-link")[:-3] + "abc",
        signing.dumps(["pat@example.com"], salt="helpdesk.signup-link"),
        "x" * 100_000,
        "%00%ff",
    ],
    ids=["garbage", "other salt", "bad signature", "not an address", "huge", "encoded bytes"],
)
def test_forged_or_malformed_links_finish_nothing(client, token):
    for response in (
        client.get(f"{SIGNUP}{token}/"),
        client.post(f"{SIGNUP}{token}/", finish_data()),
    ):
        assert response.status_code in (200, 404)
        if response.status_code == 200:
            assert "This link no longer works" in main_text(response)
    assert not User.objects.exists()


def test_an_unfinished_signup_reserves_nothing(client, django_capture_on_commit_callbacks):
    first_link = signup_link("pat@example.com")
    second_link = signup_link("Pat@Example.com")

    assert client.post(second_link, finish_data()).status_code == 302

    assert "already has a HelpDesk account" in main_text(Client().get(first_link))
    assert User.objects.filter(email="pat@example.com").count() == 1


# --- Bounded input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email",
    [
        "a" * 1_000_000 + "@example.com",
        "a" * 250 + "@example.com",
        "pat\x00@example.com",
        '"pat\x07"@example.com',
        "pat\n@example.com",
        "\u212a@example.com",
        "not an address",
        "",
    ],
    ids=["huge", "too long", "NUL", "bell", "newline", "kelvin", "malformed", "empty"],
)
def test_a_bad_address_is_a_form_error_and_sends_nothing(client, email):
    response = start(client, email)

    assert response.status_code == 200
    assert find(parse(response.content), "div", id="field-email").children
    assert attr(find(parse(response.content), "input", name="email"), "aria-invalid") == "true"
    assert not mail.outbox


def test_invalid_utf8_is_a_form_error(client):
    response = client.post(
        SIGNUP, b"email=pat%FF%FE@example.com", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert not mail.outbox

    link = signup_link("pat@example.com")
    finished = client.post(
        link,
        b"account_name=%C0%AF%ED%A0%80&password1=a%FFb&password2=a%FFb",
        content_type="application/x-www-form-urlencoded",
    )
    assert finished.status_code in (200, 302)


@pytest.mark.parametrize(
    "field, value, error",
    [
        ("account_name", "x" * 1_000_000, "at most 200 characters"),
        ("first_name", "x" * 151, "at most 150 characters"),
        ("last_name", "Jo\x00nes", "Null characters are not allowed"),
        ("account_name", "Jones\x1b[31m Ltd", "control characters"),
        ("first_name", "Pat\r\nBcc: x@example.com", "control characters"),
        ("account_name", "   ", "This field is required"),
        ("password2", "p" * 1025, "too long"),
    ],
)
def test_bad_finish_input_is_an_error_next_to_its_field(client, field, value, error):
    link = signup_link("pat@example.com")
    data = finish_data(**{field: value})
    if field == "password2":
        data["password1"] = value

    response = client.post(link, data)

    assert response.status_code == 200
    assert error in text(find(parse(response.content), "div", id=f"field-{field}"))
    assert not User.objects.exists()


# --- Concurrency ------------------------------------------------------------------------------


def run_in_threads(*targets):
    """Run each target in its own thread (and database connection), started together."""
    barrier = threading.Barrier(len(targets))

    def run(target):
        try:
            barrier.wait()
            target()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.mark.parametrize("invited", [False, True], ids=["new address", "invited address"])
@pytest.mark.django_db(transaction=True)
def test_concurrent_signups_of_one_address_make_exactly_one_user(invited):
    if invited:
        account = AccountFactory()
        invitee = UserFactory(email="pat@example.com")
        invitee.set_unusable_password()
        invitee.save()
        Membership.objects.create(account=account, user=invitee, role=MembershipRole.MEMBER)
    links = [signup_link("pat@example.com"), signup_link("PAT@example.com")]
    statuses = []

    def finish(link, name):
        return lambda: statuses.append(Client().post(link, finish_data(account_name=name)))

    run_in_threads(*(finish(link, f"Shop {number}") for number, link in enumerate(links)))

    assert sorted(response.status_code for response in statuses) == [200, 302]
    refused = next(response for response in statuses if response.status_code == 200)
    assert "This address already has a HelpDesk account" in main_text(refused)
    assert User.objects.filter(email="pat@example.com").count() == 1
    owner = Membership.objects.get(user__email="pat@example.com")
    assert owner.role == MembershipRole.OWNER
    assert owner.account.name in {"Shop 0", "Shop 1"}
    assert Account.objects.filter(name__startswith="Shop").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_signup_waiting_on_an_uncommitted_one_is_refused_cleanly():
    inserted, release = threading.Event(), threading.Event()
    outcome = {}

    def first():
        with transaction.atomic():
            account_sign_up(email="pat@example.com", password=PASSWORD, account_name="First")
            inserted.set()
            release.wait(10)

    def second():
        inserted.wait(10)
        timer = threading.Timer(0.5, release.set)  # while this one waits on the first's row
        timer.start()
        try:
            account_sign_up(email="Pat@example.com", password=PASSWORD, account_name="Second")
        except AccountError as error:
            outcome["error"] = str(error)
        timer.join()

    run_in_threads(first, second)

    assert outcome == {"error": "An account with this e-mail address already exists."}
    assert list(Account.objects.values_list("name", flat=True)) == ["First"]


def test_the_signup_pages_make_a_few_queries_whatever_the_data(client):
    for number in range(10):
        AccountFactory(owner=UserFactory(email=f"owner{number}@example.com"))
    link = signup_link("pat@example.com")

    assert count_queries(client, SIGNUP) <= 2
    assert count_queries(client, link) <= 6


def test_the_check_your_inbox_page_without_a_signup_leads_back_to_it(client):
    assert client.get("/accounts/signup/sent/")["Location"] == SIGNUP
