"""Low-balance alerts, checked by the ledger itself after every change of available points (a
capture, an adjustment, an expiry, a refund, and the credits that re-arm it), whatever channel
caused it. The caller holds the account lock, so concurrent changes see each other's flag: one
e-mail per fall below the threshold, none again until available points stood at or above it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from accounts.locks import lock_account
from accounts.models import Account, MembershipRole
from notifications.outbox import notify_many

from ..errors import InvalidAmount, LedgerError
from ..models import BalanceAlert, Lot
from .validation import validate_points


def _threshold(alert: BalanceAlert | None) -> int:
    if alert is None or alert.threshold is None:
        return settings.HELPDESK_LOW_BALANCE_DEFAULT
    return alert.threshold


def balance_alerts_check(*, account_ids: Iterable[int], at: datetime) -> None:
    """Queue the alert of each account (locked by the caller) whose available points just fell
    below its threshold, and re-arm those back at or above it. Three queries whatever the count."""
    account_ids = sorted(set(account_ids))
    alerts = BalanceAlert.objects.in_bulk(account_ids)
    watched = [pk for pk in account_ids if _threshold(alerts.get(pk)) > 0]
    if not watched:
        return
    available = dict(
        Lot.objects.filter(account_id__in=watched)
        .spendable(at)
        .values("account_id")
        .annotate(points=Sum("remaining"))
        .values_list("account_id", "points")
    )
    _alerts_update(alerts, {pk: available.get(pk, 0) for pk in watched})


def balance_alert_after_capture(
    *, account_id: int, alert: BalanceAlert | None, available: int
) -> None:
    """The check of a capture, from what the capture read under the account lock in its own
    round trip (the alert row, the spendable lots): no query unless the alert fires or re-arms."""
    if _threshold(alert) > 0:
        _alerts_update({account_id: alert} if alert else {}, {account_id: available})


def _alerts_update(alerts: dict[int, BalanceAlert], available: dict[int, int]) -> None:
    """Given the watched accounts' available points: flag and e-mail those that fell below their
    threshold, re-arm those back at or above it."""
    fell, rose = [], []
    for pk, points in available.items():
        alert = alerts.get(pk)
        is_below = points < _threshold(alert)
        was_below = alert is not None and alert.below
        if is_below and not was_below:
            fell.append(pk)
        elif was_below and not is_below:
            rose.append(pk)
    if rose:
        BalanceAlert.objects.filter(pk__in=rose).update(below=False)
    if fell:
        BalanceAlert.objects.bulk_create(
            [BalanceAlert(account_id=pk, below=True) for pk in fell],
            update_conflicts=True,
            update_fields=["below"],
            unique_fields=["account"],
        )
        notify_many(
            "points_low",
            [
                (
                    Account(pk=pk),
                    {"available": available[pk], "threshold": _threshold(alerts.get(pk))},
                )
                for pk in fell
            ],
        )


def balance_alert_check(*, account_id: int, at: datetime) -> None:
    balance_alerts_check(account_ids=[account_id], at=at)


@transaction.atomic
def balance_alert_set(
    *, account: Account, actor: AbstractBaseUser, threshold: int, at: datetime
) -> BalanceAlert:
    """The owner sets the threshold (0 turns the alert off). Whether available points are below
    it now is recorded without an e-mail: the owner is looking at the balance."""
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 0:
        raise InvalidAmount(_("The threshold must be a whole number of points, 0 or more."))
    if threshold:
        validate_points(threshold)
    lock_account(account.pk)
    _require_owner(account, actor)
    alert, _created = BalanceAlert.objects.get_or_create(account=account)
    available = (
        Lot.objects.filter(account=account)
        .spendable(at)
        .aggregate(points=Sum("remaining"))["points"]
        or 0
    )
    alert.threshold = threshold
    alert.below = threshold > 0 and available < threshold
    alert.save(update_fields=["threshold", "below"])
    return alert


@transaction.atomic
def balance_alert_subscribe(*, account: Account, user: AbstractBaseUser, subscribed: bool) -> None:
    """A user of the account opts in or out of the alert e-mail (the owner always gets it)."""
    lock_account(account.pk)
    if getattr(getattr(user, "membership", None), "account_id", None) != account.pk:
        raise LedgerError(_("Only the account's users can subscribe."), code="not_account_user")
    alert, _created = BalanceAlert.objects.get_or_create(account=account)
    if subscribed:
        alert.subscribers.add(user)
    else:
        alert.subscribers.remove(user)


def _require_owner(account: Account, actor: AbstractBaseUser) -> None:
    membership = getattr(actor, "membership", None)
    if (
        membership is None
        or membership.account_id != account.pk
        or membership.role != MembershipRole.OWNER
    ):
        raise LedgerError(
            _("Only the account owner can set the low-balance alert."), code="not_account_owner"
        )
