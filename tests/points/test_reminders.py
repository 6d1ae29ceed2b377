"""Customers whose points expire within 30 days get one e-mail per account, once per lot."""

import io
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Membership, MembershipRole
from notifications.models import Notification
from notifications.sending import notification_send
from points.models import Lot
from points.services import hold_capture, lots_remind_expiring, points_grant
from tests.factories import AccountFactory, TicketFactory, UserFactory, account_owner

pytestmark = pytest.mark.django_db


def grant(account, points, *, expires_in: timedelta, acquired_ago=timedelta(days=300)) -> Lot:
    now = timezone.now()
    return points_grant(
        account=account,
        points=points,
        reason="goodwill",
        actor=None,
        at=now - acquired_ago,
        expires_at=now + expires_in,
    )


@pytest.fixture
def account():
    return AccountFactory()


@pytest.fixture
def other_account():
    return AccountFactory()


def new_ticket(account):
    return TicketFactory(account=account)


def test_one_email_per_account_lists_its_lots_expiring_within_30_days(
    account, other_account, django_capture_on_commit_callbacks
):
    soon = grant(account, 150, expires_in=timedelta(days=12))
    sooner = grant(account, 20, expires_in=timedelta(days=3))
    later = grant(account, 500, expires_in=timedelta(days=45))
    others = grant(other_account, 70, expires_in=timedelta(days=29))

    with django_capture_on_commit_callbacks(execute=True):
        result = lots_remind_expiring()

    assert (result.lots, result.emails) == (3, 2)
    emails = {tuple(email.to): email for email in mail.outbox}
    assert set(emails) == {(account_owner(account).email,), (account_owner(other_account).email,)}
    email = emails[(account_owner(account).email,)]
    assert email.subject == "170 support points expire soon"
    # Soonest first, with the day each lot expires.
    assert email.body.index("20 points expire on") < email.body.index("150 points expire on")
    assert "500 points" not in email.body
    assert "/communication-center/support-points/" in email.body
    assert "70 points expire on" in emails[(account_owner(other_account).email,)].body
    stamped = set(Lot.objects.filter(reminded_at__isnull=False).values_list("id", flat=True))
    assert stamped == {soon.id, sooner.id, others.id}
    assert later.id not in stamped


def test_a_lot_is_reminded_once(account, django_capture_on_commit_callbacks):
    grant(account, 150, expires_in=timedelta(days=12))
    with django_capture_on_commit_callbacks(execute=True):
        lots_remind_expiring()
        again = lots_remind_expiring()
        grant(account, 30, expires_in=timedelta(days=20))
        new_lot_only = lots_remind_expiring()

    assert (again.lots, again.emails) == (0, 0)
    assert new_lot_only.lots == 1
    assert len(mail.outbox) == 2
    assert "30 points expire on" in mail.outbox[1].body
    assert "150 points" not in mail.outbox[1].body


def test_expired_spent_and_held_points_are_not_reminded(
    account, django_capture_on_commit_callbacks
):
    expired = grant(account, 40, expires_in=timedelta(seconds=-1))
    spent = grant(account, 25, expires_in=timedelta(days=5))
    hold_capture(ticket=new_ticket(account), points=25)

    with django_capture_on_commit_callbacks(execute=True):
        result = lots_remind_expiring()

    assert result.lots == 0
    assert mail.outbox == []
    assert not Lot.objects.filter(id__in=[expired.id, spent.id], reminded_at__isnull=False).exists()


def test_every_active_user_of_the_account_is_told(account, django_capture_on_commit_callbacks):
    webmaster = UserFactory()
    Membership.objects.create(account=account, user=webmaster, role=MembershipRole.MEMBER)
    removed = UserFactory(is_active=False)
    Membership.objects.create(account=account, user=removed, role=MembershipRole.MEMBER)
    grant(account, 10, expires_in=timedelta(days=1))

    with django_capture_on_commit_callbacks(execute=True):
        lots_remind_expiring()

    # One copy per recipient (each has its own Message-ID, see notifications.envelope).
    assert [email.to for email in mail.outbox] == [
        [address] for address in sorted([account_owner(account).email, webmaster.email])
    ]


def test_points_spent_before_the_email_goes_out_are_not_mentioned(
    account, django_capture_on_commit_callbacks
):
    grant(account, 30, expires_in=timedelta(days=10))
    with django_capture_on_commit_callbacks(execute=False):
        lots_remind_expiring()
    hold_capture(ticket=new_ticket(account), points=30)

    notification = Notification.objects.get(event="points_expiring")

    assert notification_send(notification_id=notification.pk) is True
    assert mail.outbox == []
    notification.refresh_from_db()
    assert notification.sent_at is not None
    assert notification.recipients == []


def test_in_small_batches_every_lot_is_reminded_exactly_once(
    account, other_account, django_capture_on_commit_callbacks
):
    lots = [grant(account, 10 + n, expires_in=timedelta(days=n + 1)) for n in range(5)]
    lots += [grant(other_account, 20 + n, expires_in=timedelta(days=n + 1)) for n in range(3)]

    with django_capture_on_commit_callbacks(execute=True):
        result = lots_remind_expiring(batch_size=3)

    assert result.lots == 8
    assert Lot.objects.filter(reminded_at__isnull=False).count() == 8
    mentioned = "".join(email.body for email in mail.outbox)
    for lot in lots:
        assert mentioned.count(f"\n- {lot.points} points expire on") == 1


def test_the_command_runs_the_same_job(account, django_capture_on_commit_callbacks):
    grant(account, 15, expires_in=timedelta(days=7))
    grant(account, 15, expires_in=timedelta(days=40))
    out = io.StringIO()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("remind_expiring_points", stdout=out)

    assert out.getvalue().strip() == "Queued 1 reminders about 1 expiring lots."
    assert len(mail.outbox) == 1
