"""Every change of points: plain functions, each atomic, locked per account, journaled.

Locking order (always the same, so concurrent operations never deadlock): the account row first
(`SELECT ... FOR UPDATE`), then the lots, holds and allocations of that account. The expiry job
locks the accounts of a batch in ascending id order before touching their lots.

A refused operation raises a `LedgerError` subclass that says what was wrong, and, being atomic,
leaves nothing behind.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import BooleanField, Count, QuerySet, Sum, Value
from django.db.models.expressions import RawSQL
from django.db.models.fields import BigIntegerField, CharField, DateTimeField
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.locks import lock_account, lock_accounts
from accounts.models import Account
from core.errors import HelpDeskError
from core.numbers import BIGINT_MAX, points_limit
from core.text import REASON_MAX_CHARS, TextRejected, text_check
from tickets.notifications import notify_accounts

from .models import (
    Entry,
    EntryKind,
    Hold,
    HoldAllocation,
    HoldStatus,
    Lot,
    LotKind,
    Order,
    OrderStatus,
    PointPackage,
)

if TYPE_CHECKING:
    from helpdesk.models import User

# --- Errors -----------------------------------------------------------------------------------


class LedgerError(HelpDeskError):
    """A points operation was refused; nothing was changed."""

    code = "ledger_refused"


class InvalidAmount(LedgerError):
    code = "invalid_amount"


class InvalidExpiry(LedgerError):
    code = "invalid_expiry"


class ReasonRequired(LedgerError):
    code = "reason_required"

    def __init__(self):
        super().__init__(_("A reason is required for this change of points."))


class InvalidReason(LedgerError):
    code = "invalid_reason"


class InsufficientPoints(LedgerError):
    code = "insufficient_points"

    def __init__(self, *, required: int, available: int):
        self.required = required
        self.available = available
        self.missing = required - available
        super().__init__(
            _(
                "Not enough support points: %(required)s needed, %(available)s available. "
                "%(missing)s more points are needed."
            )
            % {"required": required, "available": available, "missing": self.missing}
        )


class PaymentReferenceConflict(LedgerError):
    code = "payment_reference_conflict"


class HoldConflict(LedgerError):
    """The hold is not in a state that allows the operation (e.g. settling a returned hold)."""

    code = "hold_conflict"


class OrderNotPayable(LedgerError):
    code = "order_not_payable"


# --- Helpers ----------------------------------------------------------------------------------


def validate_points(points: int, *, allow_zero: bool = False, limit: int | None = None) -> None:
    """Refuse anything but whole points from 1 (or 0) to `limit`: by default the business's largest
    single operation (HELPDESK_MAX_POINTS_PER_OPERATION), whichever channel asks.
    """
    if isinstance(points, bool) or not isinstance(points, int):
        raise InvalidAmount(_("Points must be a whole number."))
    if points < 0 or (points == 0 and not allow_zero):
        raise InvalidAmount(
            _("Points must not be negative.") if allow_zero else _("Points must be positive.")
        )
    limit = points_limit() if limit is None else limit
    if points > limit:
        raise InvalidAmount(
            _("%(points)s points is more than the %(limit)s one operation may move.")
            % {"points": points, "limit": limit}
        )


def _validate_grant_expiry(expires_at: datetime, *, at: datetime) -> None:
    """Granted points expire in the future, within HELPDESK_MAX_GRANT_VALIDITY_DAYS."""
    if not isinstance(expires_at, datetime) or timezone.is_naive(expires_at):
        raise InvalidExpiry(_("The expiry of granted points must be a date and time with a zone."))
    if expires_at <= at:
        raise InvalidExpiry(_("The expiry of granted points must be in the future."))
    days = settings.HELPDESK_MAX_GRANT_VALIDITY_DAYS
    if expires_at > at + timedelta(days=days):
        raise InvalidExpiry(
            _("Granted points can expire at most %(days)s days from now.") % {"days": days}
        )


# A journal reason is what staff typed (REASON_MAX_CHARS) plus the words a ticket puts around it.
JOURNAL_REASON_MAX_CHARS = REASON_MAX_CHARS + 200


def _require_reason(reason: str) -> str:
    try:
        reason = text_check(reason, max_length=JOURNAL_REASON_MAX_CHARS, label=_("The reason"))
    except TextRejected as error:
        raise InvalidReason(str(error)) from error
    if not reason:
        raise ReasonRequired()
    return reason


def _lock_hold(ticket) -> Hold:
    """The ticket's hold, read after its account is locked. Raises HoldConflict if there is none."""
    lock_account(ticket.account_id)
    hold = Hold.objects.filter(ticket_id=ticket.pk).first()
    if hold is None:
        raise HoldConflict(_("No points are captured for this ticket."))
    return hold


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


def _insert_entries_from(rows: QuerySet, columns: str) -> int:
    """INSERT INTO the journal the rows a values_list() query selects, in one statement;
    returns the points journaled.
    """
    select_sql, params = rows.query.sql_with_params()
    table = connection.ops.quote_name(Entry._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({columns}) {select_sql} RETURNING amount", params)
        return sum(amount for (amount,) in cursor.fetchall())


def _credit_lot(
    *,
    account: Account,
    lot_kind: str,
    entry_kind: str,
    points: int,
    at: datetime,
    expires_at: datetime,
    actor: User | None,
    reason: str = "",
    hold: Hold | None = None,
    order: Order | None = None,
    payment_reference: str | None = None,
    source_lot: Lot | None = None,
) -> tuple[Lot, Entry]:
    lot = Lot.objects.create(
        account=account,
        kind=lot_kind,
        points=points,
        remaining=points,
        acquired_at=at,
        expires_at=expires_at,
        payment_reference=payment_reference,
        order=order,
        source_lot=source_lot,
    )
    entry = Entry(
        account=account,
        kind=entry_kind,
        amount=points,
        lot=lot,
        hold=hold,
        order=order,
        actor=actor,
        reason=reason,
        created_at=at,
    )
    return lot, entry


def _spendable_lots(account: Account, at: datetime) -> list[Lot]:
    return list(
        Lot.objects.filter(account=account)
        .spendable(at)
        .consumption_order()
        .select_for_update()
        .only("id", "remaining", "expires_at", "acquired_at")
    )


def _take_from_lots(*, account: Account, points: int, at: datetime) -> list[tuple[Lot, int]]:
    """Take `points` from the soonest-expiring spendable lots, or raise InsufficientPoints."""
    lots = _spendable_lots(account, at)
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
    Lot.objects.bulk_update([lot for lot, _taken in taken], ["remaining"])
    return taken


def _draw_into_hold(
    *, hold: Hold, points: int, at: datetime, actor: User | None, reason: str, new_hold=False
) -> None:
    taken = _take_from_lots(account=hold.account, points=points, at=at)
    existing = (
        {}
        if new_hold
        else {
            a.lot_id: a
            for a in HoldAllocation.objects.filter(
                hold=hold, lot__in=[lot for lot, _taken in taken]
            )
        }
    )
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
    Entry.objects.bulk_create(
        Entry(
            account_id=hold.account_id,
            kind=EntryKind.CAPTURE,
            amount=take,
            lot=lot,
            hold=hold,
            actor=actor,
            reason=reason,
            created_at=at,
        )
        for lot, take in taken
    )


def _return_from_hold(
    *,
    hold: Hold,
    points: int | None,
    at: datetime,
    actor: User | None,
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
    back_to_lot_kind = EntryKind.REFUND if after_settlement else EntryKind.RELEASE
    reissue_kind = EntryKind.REFUND_REISSUED if after_settlement else EntryKind.RELEASE_REISSUED
    entries: list[Entry] = []
    changed_lots: list[Lot] = []
    for allocation in allocations:
        if not to_return:
            break
        give = min(allocation.amount, to_return)
        allocation.amount -= give
        to_return -= give
        lot = allocation.lot
        common = {"account_id": hold.account_id, "actor": actor, "reason": reason, "created_at": at}
        if lot.expires_at > at and lot.expired_at is None:
            lot.remaining += give
            changed_lots.append(lot)
            entries.append(Entry(kind=back_to_lot_kind, amount=give, lot=lot, hold=hold, **common))
        else:
            entries.append(Entry(kind=reissue_kind, amount=give, lot=lot, hold=hold, **common))
            _lot, credit = _credit_lot(
                account=hold.account,
                lot_kind=LotKind.RETURN,
                entry_kind=EntryKind.RETURN_LOT,
                points=give,
                at=at,
                expires_at=return_lot_expiry(at),
                actor=actor,
                reason=reason,
                hold=hold,
                source_lot=lot,
            )
            entries.append(credit)
    if to_return:
        raise HoldConflict(_("The ticket holds fewer points than asked to return."))
    Lot.objects.bulk_update(changed_lots, ["remaining"])
    HoldAllocation.objects.bulk_update(allocations, ["amount"])
    Entry.objects.bulk_create(entries)


# --- Credits: purchases, grants, adjustments --------------------------------------------------


@transaction.atomic
def points_purchase(
    *,
    account: Account,
    points: int,
    payment_reference: str,
    order: Order | None = None,
    actor: User | None = None,
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
        raise LedgerError(_("A payment reference is required for a purchase."))
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
            lot, entry = _credit_lot(
                account=account,
                lot_kind=LotKind.PURCHASE,
                entry_kind=EntryKind.PURCHASE,
                points=points,
                at=at,
                expires_at=purchase_lot_expiry(at),
                actor=actor,
                order=order,
                payment_reference=payment_reference,
            )
    except IntegrityError as error:
        # Another account recorded the same reference at the same instant.
        raise PaymentReferenceConflict(
            _("Payment reference %(reference)s is already recorded.")
            % {"reference": payment_reference}
        ) from error
    entry.save()
    return lot


@transaction.atomic
def points_grant(
    *,
    account: Account,
    points: int,
    reason: str,
    actor: User | None,
    expires_at: datetime | None = None,
    at: datetime | None = None,
) -> Lot:
    """Staff give points; they expire like purchased points unless another expiry is given, which
    must be within HELPDESK_MAX_GRANT_VALIDITY_DAYS.
    """
    validate_points(points)
    reason = _require_reason(reason)
    account = lock_account(account.pk)
    at = at or timezone.now()
    if expires_at is None:
        expires_at = purchase_lot_expiry(at)
    else:
        _validate_grant_expiry(expires_at, at=at)
    lot, entry = _credit_lot(
        account=account,
        lot_kind=LotKind.GRANT,
        entry_kind=EntryKind.GRANT,
        points=points,
        at=at,
        expires_at=expires_at,
        actor=actor,
        reason=reason,
    )
    entry.save()
    return lot


@transaction.atomic
def points_adjust(
    *, account: Account, points: int, reason: str, actor: User | None, at: datetime | None = None
) -> list[Entry]:
    """A manual correction: positive adds a lot, negative takes available points (soonest first)."""
    if isinstance(points, bool) or not isinstance(points, int) or points == 0:
        raise InvalidAmount(_("An adjustment must be a non-zero whole number of points."))
    validate_points(abs(points))
    reason = _require_reason(reason)
    account = lock_account(account.pk)
    at = at or timezone.now()
    if points > 0:
        _lot, entry = _credit_lot(
            account=account,
            lot_kind=LotKind.ADJUSTMENT,
            entry_kind=EntryKind.ADJUSTMENT_CREDIT,
            points=points,
            at=at,
            expires_at=purchase_lot_expiry(at),
            actor=actor,
            reason=reason,
        )
        entry.save()
        return [entry]
    taken = _take_from_lots(account=account, points=-points, at=at)
    return Entry.objects.bulk_create(
        Entry(
            account=account,
            kind=EntryKind.ADJUSTMENT_DEBIT,
            amount=take,
            lot=lot,
            actor=actor,
            reason=reason,
            created_at=at,
        )
        for lot, take in taken
    )


# --- Holds: capture, change, settle, release, refund ------------------------------------------


@transaction.atomic
def hold_capture(
    *, ticket, points: int, actor: User | None = None, reason: str = "", at: datetime | None = None
) -> Hold:
    """Capture the ticket's price from its account. A ticket has at most one hold.

    Capturing again with the same points returns the existing hold (a replay); anything else
    must go through `hold_change`.
    """
    validate_points(points, allow_zero=True)
    account = lock_account(ticket.account_id)
    at = at or timezone.now()
    # Read after the lock: a capture of the same ticket that held the lock is visible now.
    existing = Hold.objects.filter(ticket_id=ticket.pk).first()
    if existing is not None:
        if existing.status == HoldStatus.OPEN and existing.amount == points:
            return existing
        raise HoldConflict(_("Points are already captured for this ticket."))
    hold = Hold.objects.create(account=account, ticket_id=ticket.pk, amount=points, created_at=at)
    if points:
        _draw_into_hold(hold=hold, points=points, at=at, actor=actor, reason=reason, new_hold=True)
    return hold


@transaction.atomic
def hold_change(
    *, ticket, points: int, reason: str, actor: User | None, at: datetime | None = None
) -> Hold:
    """Set the points held for an open ticket, up (drawing more) or down (returning some)."""
    validate_points(points, allow_zero=True)
    reason = _require_reason(reason)
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
    *, ticket, actor: User | None = None, reason: str = "", at: datetime | None = None
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
    allocations = HoldAllocation.objects.filter(hold=hold, amount__gt=0).values_list(
        Value(hold.account_id),
        Value(EntryKind.SETTLE, output_field=CharField()),
        "amount",
        "lot_id",
        "hold_id",
        Value(actor.pk if actor else None, output_field=BigIntegerField()),
        Value(reason, output_field=CharField()),
        Value(at, output_field=DateTimeField()),
    )
    _insert_entries_from(
        allocations, "account_id, kind, amount, lot_id, hold_id, actor_id, reason, created_at"
    )
    hold.status = HoldStatus.SETTLED
    hold.settled_at = at
    hold.save(update_fields=["status", "settled_at"])
    return hold


@transaction.atomic
def hold_release(
    *, ticket, reason: str, actor: User | None = None, at: datetime | None = None
) -> Hold:
    """Return every captured point (cancelled ticket, software bug); twice does nothing."""
    reason = _require_reason(reason)
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
    actor: User | None,
    points: int | None = None,
    at: datetime | None = None,
) -> Hold:
    """Return deducted points after resolution: a compensating return (software bug found later,
    or a cost lowered on reconsideration). All of them when `points` is None.
    """
    reason = _require_reason(reason)
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


# --- Orders -----------------------------------------------------------------------------------


@transaction.atomic
def order_create(*, account: Account, package: PointPackage, backend: str, actor: User) -> Order:
    if not package.is_active:
        raise OrderNotPayable(_("This package is no longer on sale."))
    validate_points(package.points)
    return Order.objects.create(
        account=account,
        package=package,
        points=package.points,
        price=package.price,
        currency=package.currency,
        payment_backend=backend,
        created_by=actor,
    )


@transaction.atomic
def order_mark_paid(
    *,
    order: Order,
    payment_reference: str,
    actor: User | None = None,
    at: datetime | None = None,
) -> Lot:
    """Record the payment of an order: exactly one purchase lot, however often it is confirmed."""
    payment_reference = (payment_reference or "").strip()
    if not payment_reference:
        raise LedgerError(_("A payment reference is required to mark an order paid."))
    lock_account(order.account_id)
    at = at or timezone.now()
    order = Order.objects.get(pk=order.pk)
    if order.status == OrderStatus.PAID:
        if order.payment_reference != payment_reference:
            raise PaymentReferenceConflict(
                _("Order #%(id)s was already paid with reference %(reference)s.")
                % {"id": order.pk, "reference": order.payment_reference}
            )
        return order.lot
    if order.status == OrderStatus.CANCELLED:
        raise OrderNotPayable(_("Order #%(id)s was cancelled.") % {"id": order.pk})
    order.status = OrderStatus.PAID
    order.payment_reference = payment_reference
    order.paid_at = at
    try:
        with transaction.atomic():
            order.save(update_fields=["status", "payment_reference", "paid_at"])
    except IntegrityError as error:
        raise PaymentReferenceConflict(
            _("Payment reference %(reference)s belongs to another order.")
            % {"reference": payment_reference}
        ) from error
    return points_purchase(
        account=order.account,
        points=order.points,
        payment_reference=payment_reference,
        order=order,
        actor=actor,
        at=at,
    )


@transaction.atomic
def order_cancel(*, order: Order) -> Order:
    lock_account(order.account_id)
    order = Order.objects.get(pk=order.pk)
    if order.status == OrderStatus.PAID:
        raise OrderNotPayable(_("A paid order cannot be cancelled."))
    if order.status != OrderStatus.CANCELLED:
        order.status = OrderStatus.CANCELLED
        order.save(update_fields=["status"])
    return order


# --- Expiry -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpiryResult:
    lots: int = 0
    points: int = 0

    def __add__(self, other: ExpiryResult) -> ExpiryResult:
        return ExpiryResult(self.lots + other.lots, self.points + other.points)


def _due_lots(as_of: datetime):
    return Lot.objects.filter(expired_at__isnull=True, expires_at__lte=as_of)


def lots_expire_due(
    *,
    as_of: datetime | None = None,
    batch_size: int | None = None,
    dry_run: bool = False,
    on_batch: Callable[[ExpiryResult], None] | None = None,
) -> ExpiryResult:
    """Record the expiry of every lot whose expiry time has passed, in short batches.

    Each batch is one transaction of set-based statements (no query per lot): lock the batch's
    accounts in id order, journal an `expire` entry for each lot's unheld remainder, zero it and
    mark the lot expired. Lots already marked are skipped, so running twice, or two runs at once,
    expires nothing more, and a run killed mid-way resumes where it stopped.
    """
    now = timezone.now()
    as_of = as_of or now
    if as_of > now and not dry_run:
        raise LedgerError(
            _("Lots can't be expired ahead of time; a dry run shows what a later date expires.")
        )
    batch_size = batch_size or settings.HELPDESK_EXPIRY_BATCH_SIZE
    if dry_run:
        totals = _due_lots(as_of).aggregate(lots=Count("id"), points=Sum("remaining"))
        return ExpiryResult(totals["lots"], totals["points"] or 0)
    total = ExpiryResult()
    after: tuple[datetime, int] | None = None
    while True:
        batch = _due_lots(as_of)
        if after is not None:
            batch = batch.filter(_keyset(">", after))
        last = batch.order_by("expires_at", "id").values_list("expires_at", "id")[
            batch_size - 1 : batch_size
        ]
        upto = last[0] if last else None
        if upto is not None:
            batch = batch.filter(_keyset("<=", upto))
        result = _expire_batch(batch, at=timezone.now())
        total += result
        if on_batch is not None and result.lots:
            on_batch(total)
        if upto is None:
            return total
        after = upto


def _keyset(operator: str, key: tuple[datetime, int]) -> RawSQL:
    """A row-value comparison on (expires_at, id), which the due-lots index can bound."""
    params = (connection.ops.adapt_datetimefield_value(key[0]), key[1])
    return RawSQL(f"(expires_at, id) {operator} (%s, %s)", params, output_field=BooleanField())


@transaction.atomic
def _expire_batch(batch, *, at: datetime) -> ExpiryResult:
    lock_accounts(Account.objects.filter(id__in=batch.values("account_id")))
    rows = batch.filter(remaining__gt=0).values_list(
        "account_id",
        Value(EntryKind.EXPIRE, output_field=CharField()),
        "remaining",
        "id",
        Value("", output_field=CharField()),
        Value(at, output_field=DateTimeField()),
    )
    points = _insert_entries_from(rows, "account_id, kind, amount, lot_id, reason, created_at")
    lots = batch.update(remaining=0, expired_at=at)
    return ExpiryResult(lots, points)


# --- Reminders --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReminderResult:
    lots: int = 0
    emails: int = 0

    def __add__(self, other: ReminderResult) -> ReminderResult:
        return ReminderResult(self.lots + other.lots, self.emails + other.emails)


def lots_remind_expiring(
    *,
    at: datetime | None = None,
    within: timedelta = timedelta(days=30),
    batch_size: int | None = None,
) -> ReminderResult:
    """Queue an e-mail to each account whose points expire within `within`, once per lot.

    In short batches, each one transaction of set-based statements: lock the batch's accounts in
    id order (the ledger's lock order), stamp the lots' `reminded_at` and write one outbox
    notification per account listing its lots, so a lot is stamped exactly when its reminder is
    queued. Stamped lots are skipped: running twice, or two runs at once, reminds nobody twice.
    Points held for tickets don't expire and are not mentioned.
    """
    at = at or timezone.now()
    batch_size = batch_size or settings.HELPDESK_EXPIRY_BATCH_SIZE
    total = ReminderResult()
    while True:
        candidates, result = _remind_batch(at=at, until=at + within, batch_size=batch_size)
        total += result
        if candidates < batch_size:
            return total


@transaction.atomic
def _remind_batch(*, at: datetime, until: datetime, batch_size: int) -> tuple[int, ReminderResult]:
    due = Lot.objects.filter(
        reminded_at__isnull=True,
        expired_at__isnull=True,
        remaining__gt=0,
        expires_at__gt=at,
        expires_at__lte=until,
    )
    candidates = list(due.order_by("account_id", "id").values_list("id", flat=True)[:batch_size])
    if not candidates:
        return 0, ReminderResult()
    batch = due.filter(id__in=candidates)
    lock_accounts(Account.objects.filter(id__in=batch.values("account_id")))
    lots = list(batch.order_by("account_id", "expires_at", "id").only("id", "account_id"))
    Lot.objects.filter(id__in=[lot.id for lot in lots]).update(reminded_at=timezone.now())
    by_account: dict[int, list[Lot]] = defaultdict(list)
    for lot in lots:
        by_account[lot.account_id].append(lot)
    queued = notify_accounts(
        "points_expiring",
        {account_id: {"lots": account_lots} for account_id, account_lots in by_account.items()},
    )
    return len(candidates), ReminderResult(lots=len(lots), emails=len(queued))
