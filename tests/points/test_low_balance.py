"""Low-balance alerts: one e-mail when available points fall below the threshold, whichever way
they left, and none again until the balance stood at or above it."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, MembershipRole
from notifications.models import Notification
from notifications.sending import notifications_send_due
from points.models import BalanceAlert
from points.services import (
    LedgerError,
    balance_alert_set,
    balance_alert_subscribe,
    hold_capture,
    hold_release,
    lots_expire_due,
    points_adjust,
    points_grant,
)
from tests.factories import AccountFactory, TicketFactory, UserFactory, account_owner

pytestmark = pytest.mark.django_db


def alerts():
    return Notification.objects.filter(event="points_low").count()


def set_threshold(account, threshold):
    return balance_alert_set(
        account=account, actor=account_owner(account), threshold=threshold, at=timezone.now()
    )


def capture(account, points):
    ticket = TicketFactory(account=account)
    hold_capture(ticket=ticket, points=points)
    return ticket


@pytest.fixture
def funded(account):
    points_grant(account=account, points=100, reason="welcome", actor=None)
    set_threshold(account, 50)
    return account


def test_one_e_mail_when_falling_below_and_none_while_below(funded):
    capture(funded, 50)  # 50 left: not below
    assert alerts() == 0
    capture(funded, 1)  # 49: below
    assert alerts() == 1
    capture(funded, 10)
    points_adjust(account=funded, points=-5, reason="correction", actor=None)
    assert alerts() == 1


def test_a_rise_to_the_threshold_re_arms_it(funded):
    ticket = capture(funded, 60)
    assert alerts() == 1
    hold_release(ticket=ticket, reason="cancelled")  # back to 100
    assert not BalanceAlert.objects.get(account=funded).below
    capture(funded, 60)
    assert alerts() == 2


def test_a_rise_that_stays_below_does_not_re_arm(funded):
    capture(funded, 90)
    points_grant(account=funded, points=20, reason="goodwill", actor=None)  # 30: still below
    capture(funded, 5)
    assert alerts() == 1


def test_the_expiry_job_triggers_it(account):
    lot = points_grant(
        account=account,
        points=100,
        reason="short",
        actor=None,
        expires_at=timezone.now() + timedelta(days=1),
    )
    set_threshold(account, 10)
    later = lot.expires_at + timedelta(minutes=1)
    with time_machine.travel(later, tick=False):
        lots_expire_due(as_of=later)
    assert alerts() == 1


def test_the_default_threshold_comes_from_the_setting_and_0_is_off(account, settings):
    settings.HELPDESK_LOW_BALANCE_DEFAULT = 30
    points_grant(account=account, points=40, reason="welcome", actor=None)
    capture(account, 20)
    assert alerts() == 1

    other = AccountFactory()
    points_grant(account=other, points=40, reason="welcome", actor=None)
    set_threshold(other, 0)
    capture(other, 39)
    assert alerts() == 1


def test_setting_a_threshold_above_the_balance_sends_nothing(account):
    points_grant(account=account, points=10, reason="welcome", actor=None)
    set_threshold(account, 50)
    assert BalanceAlert.objects.get(account=account).below
    capture(account, 1)
    assert alerts() == 0


def test_the_owner_and_the_users_who_opted_in_get_the_e_mail(funded):
    opted_in, other = UserFactory(), UserFactory()
    for user in (opted_in, other):
        Membership.objects.create(account=funded, user=user, role=MembershipRole.MEMBER)
    balance_alert_subscribe(account=funded, user=opted_in, subscribed=True)
    capture(funded, 60)
    mail.outbox.clear()
    notifications_send_due(at=timezone.now() + timedelta(minutes=5))
    # One copy for each of them (each e-mail names its recipient), and none for the other user.
    assert sorted(address for message in mail.outbox for address in message.to) == sorted(
        [account_owner(funded).email, opted_in.email]
    )
    assert all(len(message.to) == 1 and "40" in message.subject for message in mail.outbox)


def test_only_the_owner_sets_the_threshold_and_only_users_subscribe(account):
    member = UserFactory()
    Membership.objects.create(account=account, user=member, role=MembershipRole.MEMBER)
    with pytest.raises(LedgerError):
        balance_alert_set(account=account, actor=member, threshold=5, at=timezone.now())
    with pytest.raises(LedgerError):
        balance_alert_subscribe(
            account=account, user=account_owner(AccountFactory()), subscribed=True
        )
    for bad in (-1, 10**12, True, "5"):
        with pytest.raises(LedgerError):
            set_threshold(account, bad)


# --- The points page --------------------------------------------------------------------------

URL = reverse("points:balance_alert")


def test_the_owner_sets_the_threshold_on_the_points_page(client, account):
    client.force_login(account_owner(account))
    response = client.post(URL, {"threshold": "25"})
    assert response["Location"].endswith("#low-balance")
    assert BalanceAlert.objects.get(account=account).threshold == 25
    page = client.get(reverse("points:overview")).content.decode()
    assert 'name="threshold"' in page and 'value="25"' in page


@pytest.mark.parametrize("value", ["", "-1", "abc", "9" * 40, "1e3", "99999999999"])
def test_malformed_thresholds_are_refused(client, account, value):
    client.force_login(account_owner(account))
    response = client.post(URL, {"threshold": value}, follow=True)
    assert response.status_code == 200
    assert not BalanceAlert.objects.filter(account=account, threshold__isnull=False).exists()


def test_a_secondary_user_opts_in_but_cannot_set_the_threshold(client, account):
    member = UserFactory()
    Membership.objects.create(account=account, user=member, role=MembershipRole.MEMBER)
    client.force_login(member)
    client.post(URL, {"threshold": "0", "subscribed": "on"})
    alert = BalanceAlert.objects.get(account=account)
    assert alert.threshold is None
    assert list(alert.subscribers.all()) == [member]
    assert 'name="threshold"' not in client.get(reverse("points:overview")).content.decode()
    client.post(URL, {})
    assert not alert.subscribers.exists()


# --- A storm of concurrent captures -----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_storm_of_concurrent_captures_sends_exactly_one_e_mail():
    # Imported here: a module-level import would collect that module's tests twice.
    from tests.points.test_concurrency import run_together

    account = AccountFactory()
    points_grant(account=account, points=200, reason="welcome", actor=None)
    set_threshold(account, 150)
    tickets = [TicketFactory(account=account) for _ in range(16)]
    outcomes = run_together(
        *[lambda ticket=ticket: hold_capture(ticket=ticket, points=10) for ticket in tickets]
    )
    assert all(outcome.ok for outcome in outcomes)
    assert alerts() == 1
    assert Notification.objects.get(event="points_low").context["available"] == 140
