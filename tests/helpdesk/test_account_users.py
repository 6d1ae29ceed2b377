"""Accounts: the owner invites secondary users by e-mail (a one-time link to set a password) and
removes them; everyone of the account shares its tickets and points."""

import re

import pytest
from django.core import mail
from django.test import Client

from helpdesk.models import User
from points.models import Membership, MembershipRole
from tests.factories import PASSWORD, StaffUserFactory, TicketFactory, UserFactory
from tests.html import attr, find, find_all, parse, text
from tests.web import customer, db_state

pytestmark = pytest.mark.django_db

URL = "/accounts/users/"
NEW_PASSWORD = "webmaster passphrase 2027"


@pytest.fixture
def owner(client):
    account, user = customer(0, email="owner@example.com")
    client.force_login(user)
    return account, user


def invite(client, django_capture_on_commit_callbacks, email="webmaster@example.com", **names):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(URL, {"email": email, **names})


def invitation_link() -> str:
    return re.search(r"http://[^/]+(/accounts/invitation/\S+/)", mail.outbox[-1].body).group(1)


def test_signup_creates_a_customer_account_with_its_owner(client):
    client.post(
        "/accounts/signup/",
        {
            "email": "new@example.com",
            "account_name": "New Shop",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )

    membership = Membership.objects.select_related("account").get(user__email="new@example.com")
    assert (membership.role, membership.account.name) == (MembershipRole.OWNER, "New Shop")


def test_the_owner_sees_the_users_and_an_invitation_form(client, owner):
    root = parse(client.get(URL).content)

    members = [text(m) for m in find_all(root, "li", class_="member")]
    assert len(members) == 1 and "owner@example.com" in members[0] and "Owner" in members[0]
    form = find(root, "form", action=URL)
    assert [text(label) for label in find_all(form, "label")] == [
        "E-mail address",
        "First name (optional)",
        "Last name (optional)",
    ]


def test_inviting_creates_a_secondary_user_and_mails_a_one_time_link(
    client, owner, django_capture_on_commit_callbacks
):
    account, _user = owner

    response = invite(client, django_capture_on_commit_callbacks, first_name="Sam")

    assert response.status_code == 302
    invited = User.objects.get(email="webmaster@example.com")
    assert not invited.has_usable_password()
    assert invited.membership.account == account
    assert invited.membership.role == MembershipRole.MEMBER
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["webmaster@example.com"]
    assert account.name in mail.outbox[0].subject
    page = parse(client.get(URL).content)
    assert "Invitation sent" in text(find_all(page, "li", class_="member")[1])


def test_the_invited_user_sets_a_password_once_and_shares_the_accounts_tickets(
    client, owner, django_capture_on_commit_callbacks
):
    account, _user = owner
    ticket = TicketFactory(account=account, subject="Owner's ticket")
    invite(client, django_capture_on_commit_callbacks)
    link = invitation_link()
    client.logout()

    form_page = client.get(link, follow=True)
    assert "You were invited to use the HelpDesk as webmaster@example.com" in text(
        parse(form_page.content)
    )
    set_url = form_page.redirect_chain[-1][0]
    response = client.post(
        set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True
    )

    assert response.redirect_chain[-1][0] == "/tickets/"
    assert "Owner's ticket" in text(parse(response.content))
    assert User.objects.get(email="webmaster@example.com").check_password(NEW_PASSWORD)
    assert client.get(f"/tickets/{ticket.pk}/").status_code == 200
    client.logout()
    used_again = client.get(link, follow=True)
    assert "This invitation link no longer works" in text(parse(used_again.content))


def test_inviting_an_address_already_in_use_is_refused_at_the_field(
    client, owner, django_capture_on_commit_callbacks
):
    UserFactory(email="taken@example.com")
    customer(0, email="other-owner@example.com")
    before = db_state()

    for email in ["taken@example.com", "OTHER-owner@example.com", "owner@example.com"]:
        response = invite(client, django_capture_on_commit_callbacks, email=email)
        field = find(parse(response.content), "div", id="field-email")
        assert "can't be invited" in text(field) or "already a user" in text(field)

    assert db_state() == before
    assert not mail.outbox


def test_inviting_again_resends_the_link_to_a_pending_user(
    client, owner, django_capture_on_commit_callbacks
):
    invite(client, django_capture_on_commit_callbacks)
    invite(client, django_capture_on_commit_callbacks)

    assert User.objects.filter(email="webmaster@example.com").count() == 1
    assert len(mail.outbox) == 2


def test_the_owner_removes_a_user_who_then_cannot_log_in(
    client, owner, django_capture_on_commit_callbacks
):
    account, _user = owner
    member = UserFactory(email="helper@example.com")
    Membership.objects.create(account=account, user=member, role=MembershipRole.MEMBER)
    ticket = TicketFactory(account=account, filed_by=member)

    response = client.post(f"{URL}{member.pk}/remove/", follow=True)

    assert "helper@example.com can no longer use this account" in text(parse(response.content))
    member.refresh_from_db()
    assert not member.is_active
    assert not Membership.objects.filter(user=member).exists()
    assert ticket.filed_by == member  # their tickets stay with the account
    login = Client().post(
        "/accounts/login/", {"username": "helper@example.com", "password": PASSWORD}
    )
    assert login.status_code == 200
    assert "Please enter a correct e-mail address and password" in text(parse(login.content))


def test_a_removed_user_can_be_invited_back(client, owner, django_capture_on_commit_callbacks):
    account, _user = owner
    member = UserFactory(email="helper@example.com")
    Membership.objects.create(account=account, user=member, role=MembershipRole.MEMBER)
    client.post(f"{URL}{member.pk}/remove/")

    invite(client, django_capture_on_commit_callbacks, email="helper@example.com")

    member.refresh_from_db()
    assert member.is_active and not member.has_usable_password()
    assert member.membership.account == account


def test_the_owner_cannot_be_removed(client, owner):
    account, user = owner
    before = db_state()

    response = client.post(f"{URL}{user.pk}/remove/", follow=True)

    assert "can't be removed" in text(find(parse(response.content), "div", class_="messages"))
    assert db_state() == before


def test_a_secondary_user_sees_the_users_but_cannot_invite_or_remove(
    client, django_capture_on_commit_callbacks
):
    account, owner_user = customer(0)
    member = UserFactory()
    Membership.objects.create(account=account, user=member, role=MembershipRole.MEMBER)
    client.force_login(member)
    before = db_state()

    root = parse(client.get(URL).content)
    assert len(find_all(root, "li", class_="member")) == 2
    assert not find_all(root, "form", action=URL)
    assert "Only the account owner" in text(root)
    assert invite(client, django_capture_on_commit_callbacks).status_code == 403
    assert client.post(f"{URL}{owner_user.pk}/remove/").status_code == 302
    assert db_state() == before


def test_users_of_another_account_cannot_be_removed(client, owner):
    _other_account, other_owner = customer(0)
    stranger = UserFactory()
    Membership.objects.create(account=_other_account, user=stranger, role=MembershipRole.MEMBER)
    before = db_state()

    assert client.post(f"{URL}{stranger.pk}/remove/").status_code == 404
    assert client.post(f"{URL}{other_owner.pk}/remove/").status_code == 404
    assert db_state() == before


def test_staff_are_sent_to_the_admin(client):
    client.force_login(StaffUserFactory())

    assert client.get(URL)["Location"] == "/admin/"


def test_the_header_links_the_users_email_to_the_account_users(client, owner):
    nav = find(parse(client.get("/tickets/").content), "nav", class_="site-nav")

    link = find(nav, "a", class_="nav-user")
    assert (attr(link, "href"), text(link)) == (URL, "owner@example.com")
