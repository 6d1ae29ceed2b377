"""Points entering and leaving an account outside tickets: purchases, grants, manual adjustments;
and the lots' rules every service shares (when a lot expires, drawing the soonest-expiring first).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.locks import lock_account
from accounts.models import Account
from audit.models import AuditKind
from audit.services import audit_record
from core.numbers import BIGINT_MAX
from core.sql import execute_together

from .. import journal, statements
from ..errors import InsufficientPoints, InvalidAmount, LedgerError, PaymentReferenceConflict
from ..models import Entry, Lot, LotKind, Order
from .alerts import balance_alert_check
from .validation import require_reason, validate_grant_expiry, validate_points


def purchase_lot_expiry(acquired_at: datetime) -> datetime:
    """Start of the day two years after the acquisition day, in the HelpDesk time zone.

    29 February is followed two years later by 28 February.
    """
    zone = timezone.get_default_timezone()
    day = timezone.localtime(acquired_at, zone).date()
    try:
        expiry_day = day.replace(year=day.year + 2)
    except ValueError:
        expiry_day = date(day.year + 2, 2, 28)
    return datetime.combine(expiry_day, time.min, tzinfo=zone)


def return_lot_expiry(returned_at: datetime) -> datetime:
    return returned_at + timedelta(days=settings.HELPDESK_RETURN_GRACE_DAYS)


def create_lot(
    *,
    account: Account,
    kind: str,
    points: int,
    at: datetime,
    expires_at: datetime,
    order: Order | None = None,
    payment_reference: str | None = None,
    source_lot: Lot | None = None,
) -> Lot:
    """A new lot of `points` (its journal entry is the caller's to record)."""
    lot = Lot.objects.create(
        account=account,
        kind=kind,
        points=points,
        remaining=points,
        acquired_at=at,
        expires_at=expires_at,
        payment_reference=payment_reference,
        order=order,
        source_lot=source_lot,
    )
    balance_alert_check(account_id=account.pk, at=at)  # re-arms the low-balance alert
    return lot


def plan_take(lots: list[Lot], points: int) -> list[tuple[Lot, int]]:
    """What to take from each of the spendable `lots` (soonest-expiring first) to make `points`:
    (lot, points) pairs, each lot's `remaining` lowered; InsufficientPoints if they hold fewer."""
    available = sum(lot.remaining for lot in lots)
    if available < points:
        raise InsufficientPoints(required=points, available=available)
    taken: list[tuple[Lot, int]] = []
    still_needed = points
    for lot in lots:
        if not still_needed:
            break
        take = min(lot.remaining, still_needed)
        lot.remaining -= take
        still_needed -= take
        taken.append((lot, take))
    return taken


def take_from_lots(*, account_id: int, points: int, at: datetime) -> list[tuple[Lot, int]]:
    """Take `points` from the soonest-expiring spendable lots, or raise InsufficientPoints."""
    (rows,) = execute_together([statements.spendable_lots(account_id=account_id, at=at)])
    taken = plan_take(statements.lots_from_rows(rows), points)
    execute_together(statements.lots_take(taken))
    balance_alert_check(account_id=account_id, at=at)
    return taken


@transaction.atomic
def points_purchase(
    *,
    account: Account,
    points: int,
    payment_reference: str,
    order: Order | None = None,
    actor: AbstractBaseUser | None = None,
    at: datetime | None = None,
) -> Lot:
    """Record paid points as a purchase lot, once per payment reference.

    Replaying the same reference for the same account and points returns the existing lot; the
    same reference with anything else is a PaymentReferenceConflict.
    """
    # Paid points are recorded however many there are (a refusal would lose a payment): packages
    # are bounded when they are sold (order_create), the column here.
    validate_points(points, limit=BIGINT_MAX)
    payment_reference = (payment_reference or "").strip()
    if not payment_reference:
        raise LedgerError(
            _("A payment reference is required for a purchase."),
            code="payment_reference_required",
        )
    account = lock_account(account.pk)
    at = at or timezone.now()
    existing = Lot.objects.filter(payment_reference=payment_reference).first()
    if existing is not None:
        same_order = existing.order_id == (order.pk if order is not None else None)
        if existing.account_id == account.pk and existing.points == points and same_order:
            return existing
        raise PaymentReferenceConflict(
            _(
                "Payment reference %(reference)s was already recorded for %(points)s points; "
                "it cannot be recorded again with different details."
            )
            % {"reference": payment_reference, "points": existing.points}
        )
    try:
        with transaction.atomic():
            lot = create_lot(
                account=account,
                kind=LotKind.PURCHASE,
                points=points,
                at=at,
                expires_at=purchase_lot_expiry(at),
                order=order,
                payment_reference=payment_reference,
            )
    except IntegrityError as error:
        # Another account recorded the same reference at the same instant.
        raise PaymentReferenceConflict(
            _("Payment reference %(reference)s is already recorded.")
            % {"reference": payment_reference}
        ) from error
    journal.record_purchase(lot=lot, actor=actor)
    return lot


@transaction.atomic
def points_grant(
    *,
    account: Account,
    points: int,
    reason: str,
    actor: AbstractBaseUser | None,
    expires_at: datetime | None = None,
    at: datetime | None = None,
) -> Lot:
    """Staff give points; they expire like purchased points unless another expiry is given, which
    must be within HELPDESK_MAX_GRANT_VALIDITY_DAYS.
    """
    validate_points(points)
    reason = require_reason(reason)
    account = lock_account(account.pk)
    at = at or timezone.now()
    if expires_at is None:
        expires_at = purchase_lot_expiry(at)
    else:
        validate_grant_expiry(expires_at, at=at)
    lot = create_lot(
        account=account, kind=LotKind.GRANT, points=points, at=at, expires_at=expires_at
    )
    journal.record_grant(lot=lot, actor=actor, reason=reason)
    audit_record(
        kind=AuditKind.POINTS_GRANTED,
        actor=actor,
        target=lot,
        changes={"points": points, "expires_at": expires_at.isoformat()},
        reason=reason,
    )
    return lot


@transaction.atomic
def points_adjust(
    *,
    account: Account,
    points: int,
    reason: str,
    actor: AbstractBaseUser | None,
    at: datetime | None = None,
) -> list[Entry]:
    """A manual correction: positive adds a lot, negative takes available points (soonest first)."""
    if isinstance(points, bool) or not isinstance(points, int) or points == 0:
        raise InvalidAmount(_("An adjustment must be a non-zero whole number of points."))
    validate_points(abs(points))
    reason = require_reason(reason)
    account = lock_account(account.pk)
    at = at or timezone.now()
    audit_record(
        kind=AuditKind.POINTS_ADJUSTED,
        actor=actor,
        target=account,
        account_id=account.pk,
        changes={"points": points},
        reason=reason,
    )
    if points > 0:
        lot = create_lot(
            account=account,
            kind=LotKind.ADJUSTMENT,
            points=points,
            at=at,
            expires_at=purchase_lot_expiry(at),
        )
        return [journal.record_adjustment_credit(lot=lot, actor=actor, reason=reason)]
    taken = take_from_lots(account_id=account.pk, points=-points, at=at)
    return journal.record_adjustment_debits(
        account_id=account.pk, taken=taken, actor=actor, reason=reason, at=at
    )
