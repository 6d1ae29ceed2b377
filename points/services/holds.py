"""The points captured for a ticket: capture, change, settle (deduct), release and refund.

A hold draws from the soonest-expiring lots; giving points back returns the latest-expiring
allocations first, so what stays held is what would expire soonest.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.locks import lock_account_statement
from accounts.models import Account
from core.sql import execute_together

from .. import journal, statements
from ..errors import HoldConflict, InvalidAmount
from ..models import Hold, HoldAllocation, HoldStatus, Lot, LotKind
from .alerts import balance_alert_after_capture, balance_alert_check
from .lots import create_lot, plan_take, return_lot_expiry, take_from_lots
from .validation import require_reason, validate_points


def _lock_hold(ticket) -> Hold:
    """The ticket's hold, read after its account is locked (one round trip). Raises HoldConflict
    if there is none."""
    locked, rows = execute_together(
        [lock_account_statement(ticket.account_id), statements.hold_select(ticket.pk)]
    )
    if not locked:
        raise Account.DoesNotExist(f"No account {ticket.account_id}")
    hold = statements.hold_from_rows(rows)
    if hold is None:
        raise HoldConflict(_("No points are captured for this ticket."))
    return hold


def _draw_into_hold(
    *,
    hold: Hold,
    points: int,
    at: datetime,
    actor: AbstractBaseUser | None,
    reason: str,
) -> None:
    taken = take_from_lots(account_id=hold.account_id, points=points, at=at)
    existing = {
        a.lot_id: a
        for a in HoldAllocation.objects.filter(hold=hold, lot__in=[lot for lot, _taken in taken])
    }
    new_allocations = []
    changed_allocations = []
    for lot, take in taken:
        allocation = existing.get(lot.id)
        if allocation is None:
            new_allocations.append(HoldAllocation(hold=hold, lot=lot, amount=take))
        else:
            allocation.amount += take
            changed_allocations.append(allocation)
    HoldAllocation.objects.bulk_create(new_allocations)
    HoldAllocation.objects.bulk_update(changed_allocations, ["amount"])
    journal.record_captures(hold=hold, taken=taken, actor=actor, reason=reason, at=at)


def _return_from_hold(
    *,
    hold: Hold,
    points: int | None,
    at: datetime,
    actor: AbstractBaseUser | None,
    reason: str,
    after_settlement: bool,
) -> None:
    """Give back `points` (all when None) of the hold, latest-expiring allocations first.

    Points of a lot that has not expired go back to it; points of an expired lot come back as a
    new return lot valid for the grace period.
    """
    allocations = list(
        HoldAllocation.objects.filter(hold=hold, amount__gt=0)
        .select_related("lot")
        .order_by("-lot__expires_at", "-lot__acquired_at", "-lot_id")
    )
    to_return = sum(a.amount for a in allocations) if points is None else points
    returned: list[journal.Returned] = []
    changed_lots: list[Lot] = []
    for allocation in allocations:
        if not to_return:
            break
        give = min(allocation.amount, to_return)
        allocation.amount -= give
        to_return -= give
        lot = allocation.lot
        if lot.expires_at > at and lot.expired_at is None:
            lot.remaining += give
            changed_lots.append(lot)
            returned.append(journal.Returned(lot, give))
        else:
            into = create_lot(
                account=hold.account,
                kind=LotKind.RETURN,
                points=give,
                at=at,
                expires_at=return_lot_expiry(at),
                source_lot=lot,
            )
            returned.append(journal.Returned(lot, give, into=into))
    if to_return:
        raise HoldConflict(_("The ticket holds fewer points than asked to return."))
    Lot.objects.bulk_update(changed_lots, ["remaining"])
    HoldAllocation.objects.bulk_update(allocations, ["amount"])
    balance_alert_check(account_id=hold.account_id, at=at)
    journal.record_returns(
        hold=hold,
        returned=returned,
        after_settlement=after_settlement,
        actor=actor,
        reason=reason,
        at=at,
    )


@transaction.atomic
def hold_capture(
    *,
    ticket,
    points: int,
    actor: AbstractBaseUser | None = None,
    reason: str = "",
    at: datetime | None = None,
) -> Hold:
    """Capture the ticket's price from its account. A ticket has at most one hold.

    Capturing again with the same points returns the existing hold (a replay); anything else
    must go through `hold_change`.
    """
    validate_points(points, allow_zero=True)
    at = at or timezone.now()
    account_id = ticket.account_id
    new_hold = {"account_id": account_id, "ticket_id": ticket.pk, "amount": points, "at": at}
    # One round trip: each statement runs after the one before, so the hold is inserted (or, if
    # the ticket has one, not: a capture of it that held the lock is visible) and the lots read
    # under the account's lock.
    batch = [lock_account_statement(account_id), statements.hold_insert(**new_hold)]
    if points:
        batch.append(statements.balance_alert_select(account_id))
        batch.append(statements.spendable_lots(account_id=account_id, at=at))
    locked, inserted, *alert_and_lot_rows = execute_together(batch)
    if not locked:
        raise Account.DoesNotExist(f"No account {account_id}")
    hold = statements.inserted_hold(inserted, **new_hold)
    if hold is None:
        existing = statements.hold_of_ticket(ticket.pk)
        if existing.status == HoldStatus.OPEN and existing.amount == points:
            return existing
        raise HoldConflict(_("Points are already captured for this ticket."))
    if points:
        alert_rows, lot_rows = alert_and_lot_rows
        lots = statements.lots_from_rows(lot_rows)
        taken = plan_take(lots, points)
        journal.record_captures(
            hold=hold,
            taken=taken,
            actor=actor,
            reason=reason,
            at=at,
            along_with=[
                *statements.lots_take(taken),
                *statements.allocations_insert(hold=hold, taken=taken),
            ],
        )
        balance_alert_after_capture(
            account_id=account_id,
            alert=statements.balance_alert_from_rows(alert_rows),
            # What the spendable lots hold once taken from (plan_take lowered their remaining).
            available=sum(lot.remaining for lot in lots),
        )
    return hold


@transaction.atomic
def hold_change(
    *, ticket, points: int, reason: str, actor: AbstractBaseUser | None, at: datetime | None = None
) -> Hold:
    """Set the points held for an open ticket, up (drawing more) or down (returning some)."""
    validate_points(points, allow_zero=True)
    reason = require_reason(reason)
    hold = _lock_hold(ticket)
    at = at or timezone.now()
    if hold.status != HoldStatus.OPEN:
        raise HoldConflict(
            _("The ticket's points were already %(status)s; its cost can no longer change.")
            % {"status": hold.get_status_display()}
        )
    difference = points - hold.amount
    if difference > 0:
        _draw_into_hold(hold=hold, points=difference, at=at, actor=actor, reason=reason)
    elif difference < 0:
        _return_from_hold(
            hold=hold, points=-difference, at=at, actor=actor, reason=reason, after_settlement=False
        )
    if difference:
        hold.amount = points
        hold.save(update_fields=["amount"])
    return hold


@transaction.atomic
def hold_settle(
    *, ticket, actor: AbstractBaseUser | None = None, reason: str = "", at: datetime | None = None
) -> Hold:
    """Deduct the captured points irrevocably (the ticket is resolved). Settling twice does nothing.

    Points are deducted even if a lot they came from expired while the ticket was in progress.
    """
    hold = _lock_hold(ticket)
    at = at or timezone.now()
    if hold.status in (HoldStatus.SETTLED, HoldStatus.REFUNDED):
        return hold
    if hold.status == HoldStatus.RELEASED:
        raise HoldConflict(_("The ticket's points were already returned; nothing to deduct."))
    journal.record_settlement(
        hold=hold,
        actor=actor,
        reason=reason,
        at=at,
        along_with=[statements.hold_mark_settled(hold, at=at)],
    )
    hold.status = HoldStatus.SETTLED
    hold.settled_at = at
    return hold


@transaction.atomic
def hold_release(
    *, ticket, reason: str, actor: AbstractBaseUser | None = None, at: datetime | None = None
) -> Hold:
    """Return every captured point (cancelled ticket, software bug); twice does nothing."""
    reason = require_reason(reason)
    hold = _lock_hold(ticket)
    at = at or timezone.now()
    if hold.status == HoldStatus.RELEASED:
        return hold
    if hold.status in (HoldStatus.SETTLED, HoldStatus.REFUNDED):
        raise HoldConflict(
            _("The ticket's points were already deducted; return them with a refund.")
        )
    _return_from_hold(
        hold=hold, points=None, at=at, actor=actor, reason=reason, after_settlement=False
    )
    hold.status = HoldStatus.RELEASED
    hold.amount = 0
    hold.released_at = at
    hold.save(update_fields=["status", "amount", "released_at"])
    return hold


@transaction.atomic
def hold_refund(
    *,
    ticket,
    reason: str,
    actor: AbstractBaseUser | None,
    points: int | None = None,
    at: datetime | None = None,
) -> Hold:
    """Return deducted points after resolution: a compensating return (software bug found later,
    or a cost lowered on reconsideration). All of them when `points` is None.
    """
    reason = require_reason(reason)
    hold = _lock_hold(ticket)
    at = at or timezone.now()
    if hold.status == HoldStatus.REFUNDED:
        return hold
    if hold.status != HoldStatus.SETTLED:
        raise HoldConflict(
            _("Only deducted points can be refunded; return captured points instead.")
        )
    if points is not None:
        validate_points(points)
        if points > hold.amount:
            raise InvalidAmount(
                _("Only %(amount)s points were deducted for this ticket.") % {"amount": hold.amount}
            )
    _return_from_hold(
        hold=hold, points=points, at=at, actor=actor, reason=reason, after_settlement=True
    )
    if points is None or points == hold.amount:
        hold.status = HoldStatus.REFUNDED
        hold.amount = 0
        hold.refunded_at = at
        hold.save(update_fields=["status", "amount", "refunded_at"])
    else:
        hold.amount -= points
        hold.save(update_fields=["amount"])
    return hold
