"""Accounts: the owner invites secondary users by e-mail (a one-time link to set a password) and
removes them; everyone of the account shares its tickets and points."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import Membership, MembershipRole
from helpdesk.models import User
from notifications.models import Notification
from notifications.sending import notification_send
from tests.factories import PASSWORD, StaffUserFactory, TicketFactory, UserFactory
from tests.html import attr, find, find_all, parse, text
from tests.web import count_queries, customer, db_state

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


def signup(client, email: str, account_name: str = "New Shop"):
    """Both steps of signing up: the address, then the e-mailed link."""
    client.post("/accounts/signup/", {"email": email})
    link = re.search(r"http://[^/]+(/accounts/signup/\S+/)", mail.outbox[-1].body).group(1)
    data = {"account_name": account_name, "password1": PASSWORD, "password2": PASSWORD}
    return client.post(link, data)


def test_signup_creates_a_customer_account_with_its_owner(client):
    signup(client, "new@example.com")

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


def test_inviting_an_address_in_use_is_refused_without_saying_whose_it_is(
    client, owner, django_capture_on_commit_callbacks
):
    customer(0, email="other-owner@example.com")
    other_account, _other = customer(0)
    other_member = UserFactory(email="their-webmaster@example.com")
    Membership.objects.create(account=other_account, user=other_member, role=MembershipRole.MEMBER)
    StaffUserFactory(email="agent@helpdesk.example.com")
    before = db_state()
    refusals = set()

    for email in [
        "OTHER-owner@example.com",
        "their-webmaster@example.com",
        "agent@helpdesk.example.com",
    ]:
        response = invite(client, django_capture_on_commit_callbacks, email=email)
        field = text(find(parse(response.content), "div", id="field-email"))
        refusals.add(field.replace(User.objects.normalize_email(email), "ADDRESS"))
    own = invite(client, django_capture_on_commit_callbacks, email="owner@example.com")

    assert refusals == {
        "E-mail address ADDRESS can't be invited to this account. Ask them for another address. "
        "We send a link to this address; it works once, to choose a password."
    }
    own_field = text(find(parse(own.content), "div", id="field-email"))
    assert "already a user of this account" in own_field
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
    TicketFactory(account=account, filed_by=member)
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


# --- An invitation never reserves an address --------------------------------------------------


def test_a_withdrawn_invitation_leaves_no_user_and_the_address_owner_can_sign_up(
    client, owner, django_capture_on_commit_callbacks
):
    invite(client, django_capture_on_commit_callbacks)
    link = invitation_link()
    invited = User.objects.get(email="webmaster@example.com")
    page = parse(client.get(URL).content)
    assert "Withdraw" in text(find_all(page, "li", class_="member")[1])

    response = client.post(f"{URL}{invited.pk}/remove/", follow=True)

    assert "The invitation to webmaster@example.com was withdrawn" in text(parse(response.content))
    assert not User.objects.filter(email="webmaster@example.com").exists()
    stranger = Client()
    assert "no longer works" in text(parse(stranger.get(link, follow=True).content))
    assert signup(stranger, "webmaster@example.com", "Webmaster Ltd").status_code == 302
    assert Membership.objects.get(user__email="webmaster@example.com").role == MembershipRole.OWNER
    stranger.post("/accounts/logout/")
    stranger.post("/accounts/password_reset/", {"email": "webmaster@example.com"})
    assert mail.outbox[-1].subject == "Reset your HelpDesk password"


def test_the_invitee_may_sign_up_for_their_own_account_instead(
    client, owner, django_capture_on_commit_callbacks
):
    account, _user = owner
    invite(client, django_capture_on_commit_callbacks)
    invitation = invitation_link()
    invitee = Client()
    invitee.post("/accounts/signup/", {"email": "WebMaster@example.com"})
    link = re.search(r"http://[^/]+(/accounts/signup/\S+/)", mail.outbox[-1].body).group(1)

    notice = text(find(parse(invitee.get(link).content), "p", class_="callout"))
    data = {"account_name": "Web Agency", "password1": PASSWORD, "password2": PASSWORD}
    response = invitee.post(link, data)

    assert f"You were also invited to use the account of {account.name}" in notice
    assert response.status_code == 302
    user = User.objects.get(email="webmaster@example.com")
    assert user.membership.role == MembershipRole.OWNER
    assert user.membership.account.name == "Web Agency"
    # The invitation was withdrawn: the owner no longer lists it, its link no longer works.
    members = [text(m) for m in find_all(parse(client.get(URL).content), "li", class_="member")]
    assert len(members) == 1 and "webmaster@example.com" not in members[0]
    invitee.post("/accounts/logout/")
    assert "no longer works" in text(parse(invitee.get(invitation, follow=True).content))


def test_the_invitee_may_take_the_invitation_while_a_signup_is_unfinished(
    client, owner, django_capture_on_commit_callbacks
):
    account, _user = owner
    invite(client, django_capture_on_commit_callbacks)
    invitation = invitation_link()
    invitee = Client()
    invitee.post("/accounts/signup/", {"email": "webmaster@example.com"})
    signup_link = re.search(r"http://[^/]+(/accounts/signup/\S+/)", mail.outbox[-1].body)

    form_url = invitee.get(invitation, follow=True).redirect_chain[-1][0]
    invitee.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    invitee.post("/accounts/logout/")

    assert User.objects.get(email="webmaster@example.com").membership.account == account
    page = text(parse(invitee.get(signup_link.group(1)).content))
    assert "This address already has a HelpDesk account" in page


def test_a_removed_user_with_history_can_sign_up_for_their_own_account(client, owner):
    account, _user = owner
    member = UserFactory(email="helper@example.com")
    Membership.objects.create(account=account, user=member, role=MembershipRole.MEMBER)
    ticket = TicketFactory(account=account, filed_by=member, subject="Filed as a helper")
    client.post(f"{URL}{member.pk}/remove/")
    member.refresh_from_db()
    assert not member.is_active

    helper = Client()
    assert signup(helper, "helper@example.com", "Helper's own shop").status_code == 302

    member.refresh_from_db()
    assert member.is_active and member.check_password(PASSWORD)
    assert member.membership.account.name == "Helper's own shop"
    assert member.membership.role == MembershipRole.OWNER
    ticket.refresh_from_db()
    assert ticket.account == account and ticket.filed_by == member
    assert helper.get(f"/tickets/{ticket.pk}/").status_code == 404


def test_removing_a_user_without_history_deletes_them(client, owner):
    account, _user = owner
    member = UserFactory(email="helper@example.com")
    Membership.objects.create(account=account, user=member, role=MembershipRole.MEMBER)

    client.post(f"{URL}{member.pk}/remove/")

    assert not User.objects.filter(email="helper@example.com").exists()
    assert signup(Client(), "helper@example.com").status_code == 302


def test_the_remove_url_reaches_only_this_accounts_users_and_only_once(
    client, owner, django_capture_on_commit_callbacks
):
    other_account, _other_owner = customer(0)
    invited_elsewhere = UserFactory(email="pending@example.com")
    invited_elsewhere.set_unusable_password()
    invited_elsewhere.save()
    Membership.objects.create(
        account=other_account, user=invited_elsewhere, role=MembershipRole.MEMBER
    )
    invite(client, django_capture_on_commit_callbacks)
    mine = User.objects.get(email="webmaster@example.com")
    assert client.post(f"{URL}{mine.pk}/remove/").status_code == 302
    before = db_state()

    for pk in [invited_elsewhere.pk, mine.pk, 0, 2**63 - 1, 10**30]:
        assert client.post(f"{URL}{pk}/remove/").status_code == 404, pk
    assert client.get(f"{URL}{invited_elsewhere.pk}/remove/").status_code == 405
    assert client.post(f"{URL}-1/remove/").status_code == 404
    assert db_state() == before
    assert User.objects.filter(email="pending@example.com").exists()


@pytest.mark.parametrize(
    "data, field",
    [
        ({"email": "a" * 1_000_000 + "@example.com"}, "email"),
        ({"email": "web\x00master@example.com"}, "email"),
        ({"email": '"web\x1bmaster"@example.com'}, "email"),
        ({"email": "\u212aate@example.com"}, "email"),
        ({"email": "webmaster@example.com", "first_name": "Sam\x00"}, "first_name"),
        ({"email": "webmaster@example.com", "first_name": "Sam\x07"}, "first_name"),
        ({"email": "webmaster@example.com", "last_name": "x" * 1_000_000}, "last_name"),
    ],
    ids=["huge", "NUL", "escape", "kelvin", "NUL name", "bell name", "huge name"],
)
def test_bad_invitation_input_is_an_error_next_to_its_field(
    client, owner, django_capture_on_commit_callbacks, data, field
):
    before = db_state()

    response = invite(client, django_capture_on_commit_callbacks, **data)

    assert response.status_code == 200
    assert find(parse(response.content), "div", id=f"field-{field}").children
    assert db_state() == before
    assert not mail.outbox


def test_invalid_utf8_in_an_invitation_is_a_form_error(client, owner):
    before = db_state()

    response = client.post(
        URL,
        b"email=web%FFmaster@example.com&first_name=%C0%AF",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert db_state() == before


def test_the_users_page_makes_as_many_queries_for_ten_users_as_for_one(client, owner):
    account, _user = owner
    one = count_queries(client, URL)
    for number in range(9):
        member = UserFactory(email=f"member{number}@example.com")
        if number % 2:
            member.set_unusable_password()
            member.save()
        Membership.objects.create(account=account, user=member, role=MembershipRole.MEMBER)

    assert count_queries(client, URL) == one


def test_an_expired_invitation_link_sets_nothing(
    client, owner, django_capture_on_commit_callbacks, settings
):
    invite(client, django_capture_on_commit_callbacks)
    link = invitation_link()
    client.logout()

    with time_machine.travel(
        timezone.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)
    ):
        response = client.get(link, follow=True)

    assert "This invitation link no longer works" in text(parse(response.content))
    assert not User.objects.get(email="webmaster@example.com").has_usable_password()


def test_the_invitation_goes_through_the_outbox_written_with_the_membership(
    client, owner, django_capture_on_commit_callbacks
):
    account, _user = owner

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(URL, {"email": "webmaster@example.com"})

    notification = Notification.objects.get(event="account_invitation")
    membership = Membership.objects.get(user__email="webmaster@example.com")
    assert notification.subject == membership
    assert notification.sent_at is None and mail.outbox == []
    assert "/accounts/invitation/" not in str(notification.context)
    for callback in callbacks:
        callback()
    notification.refresh_from_db()
    assert notification.recipients == ["webmaster@example.com"]
    assert invitation_link() in mail.outbox[0].body


def test_an_invitation_withdrawn_before_it_went_out_is_not_sent(
    client, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        client.post(URL, {"email": "webmaster@example.com"})
    invited = User.objects.get(email="webmaster@example.com")
    client.post(f"{URL}{invited.pk}/remove/")
    notification = Notification.objects.get(event="account_invitation")

    assert notification_send(notification_id=notification.pk) is True

    notification.refresh_from_db()
    assert notification.recipients == []
    assert mail.outbox == []
