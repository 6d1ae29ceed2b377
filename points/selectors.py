"""Reads for the Communication center points page and the admin: each a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import connection
from django.db.models import Case, F, OuterRef, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, Least, TruncMonth
from django.utils import timezone

from accounts.models import Account, Membership, MembershipRole
from core.numbers import points_limit
from core.sql import field_value

from .models import (
    BalanceAlert,
    Entry,
    EntryKind,
    Hold,
    HoldStatus,
    Lot,
    Order,
    OrderStatus,
    PointPackage,
)

# What the customer sees as balance modifications: points that came in or went out outside the
# work on a ticket (captures and deductions are listed with their tickets instead).
BALANCE_MODIFICATION_KINDS = [
    EntryKind.PURCHASE,
    EntryKind.GRANT,
    EntryKind.ADJUSTMENT_CREDIT,
    EntryKind.ADJUSTMENT_DEBIT,
    EntryKind.RETURN_LOT,
    EntryKind.RELEASE,
    EntryKind.REFUND,
    EntryKind.EXPIRE,
    EntryKind.ORDER_REFUND,
]


@dataclass(frozen=True)
class PointsSummary:
    available: int
    captured: int
    next_expiry_points: int
    next_expiry_at: datetime | None


# The summary in one statement, written by hand: the ORM's three aggregates cost about 2 ms of
# CPU, mostly compiling them, on every page that shows a balance. `_SPENDABLE` is
# Lot.objects.filter(account=…).spendable(at); tests compare the summary with those querysets.
# PostgreSQL and SQLite both run it.
_SPENDABLE = (
    f"SELECT remaining, expires_at FROM {Lot._meta.db_table}"
    " WHERE account_id = %s AND remaining > 0 AND expires_at > %s"
)
_SUMMARY_SQL = (
    "SELECT"
    f" (SELECT sum(remaining) FROM ({_SPENDABLE}) AS lots),"
    f" (SELECT min(expires_at) FROM ({_SPENDABLE}) AS lots),"
    f" (SELECT sum(remaining) FROM ({_SPENDABLE}) AS lots WHERE expires_at ="
    f"   (SELECT min(expires_at) FROM ({_SPENDABLE}) AS lots)),"
    f" (SELECT sum(amount) FROM {Hold._meta.db_table} WHERE account_id = %s AND status = %s)"
)


def points_summary(*, account: Account, at: datetime | None = None) -> PointsSummary:
    """Available balance, captured total and the next points to expire (one query)."""
    spendable = [account.pk, connection.ops.adapt_datetimefield_value(at or timezone.now())]
    with connection.cursor() as cursor:
        cursor.execute(_SUMMARY_SQL, spendable * 4 + [account.pk, HoldStatus.OPEN.value])
        available, next_at, next_points, captured = cursor.fetchone()
    # PostgreSQL's sum of integers is a numeric (a Decimal here): the figures are ints.
    return PointsSummary(
        available=int(available or 0),
        captured=int(captured or 0),
        next_expiry_points=int(next_points or 0),
        next_expiry_at=field_value(Lot, "expires_at", next_at),
    )


def points_available(*, account: Account, at: datetime | None = None) -> int:
    at = at or timezone.now()
    return (
        Lot.objects.filter(account=account)
        .spendable(at)
        .aggregate(points=Sum("remaining"))["points"]
        or 0
    )


def _dated(entries: QuerySet[Entry]) -> QuerySet[Entry]:
    """`entries` with `dated_at`, when the change happened: an expiry at its lot's expiry instant,
    whenever the expiry job recorded it (its `created_at`); anything else when it was recorded.
    """
    return entries.annotate(
        dated_at=Case(
            When(kind=EntryKind.EXPIRE, then=F("lot__expires_at")), default=F("created_at")
        )
    )


def balance_modifications(*, account: Account) -> QuerySet[Entry]:
    """Journal lines that changed the balance outside ticket work, newest first (by `dated_at`),
    with their lot.
    """
    return (
        _dated(Entry.objects.filter(account=account, kind__in=BALANCE_MODIFICATION_KINDS))
        .select_related("lot", "order", "hold__ticket", "actor")
        .order_by("-dated_at", "-id")
    )


def holds_in_progress(*, account: Account) -> QuerySet[Hold]:
    """Tickets with points captured now (free tickets capture nothing and are not listed)."""
    return (
        Hold.objects.filter(account=account, status=HoldStatus.OPEN, amount__gt=0)
        .select_related("ticket", "ticket__category")
        .order_by("-created_at", "-id")
    )


def holds_deducted(*, account: Account) -> QuerySet[Hold]:
    """Settled holds (and settled holds later refunded, which show 0 deducted)."""
    return (
        Hold.objects.filter(account=account, status__in=[HoldStatus.SETTLED, HoldStatus.REFUNDED])
        .select_related("ticket", "ticket__category")
        .order_by("-settled_at", "-id")
    )


def hold_rows(holds: QuerySet[Hold]):
    """`holds` (`holds_in_progress`, `holds_deducted`) as the points page lists them: flat rows of
    the hold and its ticket, no model instances (their building and the joins' column lists cost
    more than the query)."""
    return holds.values_list(
        "ticket_id",
        "ticket__subject",
        "ticket__category__name",
        "ticket__status",
        "amount",
        "created_at",
        "settled_at",
        "refunded_at",
        named=True,
    )


def entry_rows(entries: QuerySet[Entry]):
    """`entries` (`balance_modifications`) as the points page lists them: flat rows, no model
    instances of the entry, its lot, order, hold and ticket."""
    return entries.values_list(
        "kind",
        "amount",
        "reason",
        "order_id",
        "hold__ticket_id",
        "created_at",
        "dated_at",
        "lot__expires_at",
        named=True,
    )


# This month and the next 24: points bought today expire in the last of them.
FORECAST_MONTHS = 25


def add_months(month: date, count: int) -> date:
    """The first day of the month `count` months after `month`'s."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class ExpiryForecast:
    """Spendable points by the month in which they expire, in the HelpDesk time zone: each of the
    `months` months from this one, then all later ones together (`later`), however far they go.
    """

    first_month: date
    months: int
    by_month: dict[date, int]  # first day of a month → points; months without points left out
    later: int

    @property
    def later_from(self) -> date:
        return add_months(self.first_month, self.months)


def expiry_forecast(
    *, account: Account, at: datetime | None = None, months: int = FORECAST_MONTHS
) -> ExpiryForecast:
    """What expires when, in at most `months` + 1 rows whatever the lots' dates (one query)."""
    at = at or timezone.now()
    zone = timezone.get_default_timezone()
    first_month = timezone.localdate(at, zone).replace(day=1)
    later_from = add_months(first_month, months)
    horizon = datetime.combine(later_from, time.min, tzinfo=zone)
    rows = (
        Lot.objects.filter(account=account)
        .spendable(at)
        # Lots expiring from the horizon on all fall into the horizon's month: the "later" row.
        .annotate(month=TruncMonth(Least("expires_at", Value(horizon)), tzinfo=zone))
        .values("month")
        .annotate(points=Sum("remaining"))
        .order_by("month")
    )
    by_month = {row["month"].date(): row["points"] for row in rows}
    later = by_month.pop(later_from, 0)
    return ExpiryForecast(first_month=first_month, months=months, by_month=by_month, later=later)


def accounts_with_points(accounts: QuerySet[Account], *, at: datetime | None = None):
    """`accounts` annotated with `available`, `captured`, `next_expiry_at` and `owner_email`.

    Correlated subqueries, not joins, so the sums are not multiplied by each other and a page of
    accounts costs one query however long it is.
    """
    at = at or timezone.now()
    spendable = Lot.objects.filter(account=OuterRef("pk")).spendable(at)
    return accounts.annotate(
        available=Coalesce(
            Subquery(
                spendable.values("account").annotate(points=Sum("remaining")).values("points")
            ),
            0,
        ),
        captured=Coalesce(
            Subquery(
                Hold.objects.filter(account=OuterRef("pk"), status=HoldStatus.OPEN)
                .values("account")
                .annotate(points=Sum("amount"))
                .values("points")
            ),
            0,
        ),
        next_expiry_at=Subquery(spendable.order_by("expires_at").values("expires_at")[:1]),
        owner_email=Subquery(
            Membership.objects.filter(account=OuterRef("pk"), role=MembershipRole.OWNER).values(
                "user__email"
            )[:1]
        ),
    )


def orders_for_account(*, account: Account) -> QuerySet[Order]:
    """The account's orders, newest first, with the package and the lot a paid order created."""
    return (
        Order.objects.filter(account=account)
        .select_related("package", "lot", "created_by")
        .order_by("-created_at", "-id")
    )


def packages_on_sale() -> QuerySet[PointPackage]:
    """Active packages; one above the largest single operation (set up before that rule) is not
    sold, as order_create would refuse it."""
    return PointPackage.objects.filter(is_active=True, points__lte=points_limit()).order_by(
        "position", "points", "id"
    )


@dataclass(frozen=True)
class PackageOffer:
    package: PointPackage
    # What one point costs in this package, in its currency: to the cent, or to a hundredth of
    # a cent when points cost less than that shows (e.g. 0.095).
    price_per_point: Decimal


def package_offers() -> list[PackageOffer]:
    """The packages on sale with what a point costs in each (the public price list): 1 query."""
    offers = []
    for package in packages_on_sale():
        exact = package.price / package.points
        cents = exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        fine = exact.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
        offers.append(PackageOffer(package, cents if cents == fine else fine.normalize()))
    return offers


def statement_entries(*, account: Account) -> QuerySet[Entry]:
    """Every journal line of the account, oldest first (by `dated_at`): the whole statement (CSV
    export).
    """
    return (
        _dated(Entry.objects.filter(account=account))
        .select_related("lot", "order", "hold__ticket", "actor")
        .order_by("dated_at", "id")
    )


@dataclass(frozen=True)
class BalanceAlertView:
    threshold: int
    below: bool
    subscribed: bool


def balance_alert_of(*, account: Account, user) -> BalanceAlertView:
    """The account's alert as the points page shows it to `user` (two queries at most)."""
    alert = BalanceAlert.objects.filter(account=account).first()
    if alert is None:
        return BalanceAlertView(settings.HELPDESK_LOW_BALANCE_DEFAULT, False, False)
    threshold = (
        settings.HELPDESK_LOW_BALANCE_DEFAULT if alert.threshold is None else alert.threshold
    )
    subscribed = alert.subscribers.filter(pk=user.pk).exists()
    return BalanceAlertView(threshold, alert.below, subscribed)


def order_refund_entry(*, order: Order) -> Entry | None:
    """The journal entry of a paid order's refund, if it was refunded."""
    if order.status != OrderStatus.PAID:
        return None
    return Entry.objects.filter(order=order, kind=EntryKind.ORDER_REFUND).first()
