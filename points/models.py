"""The points ledger: lots, holds with their allocations, the append-only journal, and orders.

Points are whole numbers stored as big integers. Every change of points goes through
`points.services`, which locks the account row first and has `points.journal` write one journal
entry per lot touched.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Account

from .payments import NAME_MAX_LENGTH, backend_choices


class PointPackage(models.Model):
    """A bundle of points customers can buy."""

    name = models.CharField(_("name"), max_length=120)
    points = models.BigIntegerField(_("points"))
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="USD")
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("on sale"), default=True)

    class Meta:
        ordering = ["position", "points", "id"]
        verbose_name = _("point package")
        verbose_name_plural = _("point packages")
        constraints = [
            models.CheckConstraint(condition=Q(points__gt=0), name="package_points_positive"),
            models.CheckConstraint(condition=Q(price__gte=0), name="package_price_not_negative"),
        ]

    def __str__(self):
        return self.name


class OrderStatus(models.TextChoices):
    PENDING = "pending", _("awaiting payment")
    PAID = "paid", _("paid")
    CANCELLED = "cancelled", _("cancelled")


class Order(models.Model):
    """An order for points. Its points become spendable only once it is paid (a purchase lot)."""

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="orders", verbose_name=_("account")
    )
    package = models.ForeignKey(
        PointPackage,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("package"),
    )
    points = models.BigIntegerField(_("points"))
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(
        _("status"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.PENDING
    )
    payment_backend = models.CharField(
        _("payment backend"), max_length=NAME_MAX_LENGTH, choices=backend_choices
    )
    payment_reference = models.CharField(
        _("payment reference"), max_length=200, null=True, blank=True, unique=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("ordered by"),
    )
    created_at = models.DateTimeField(_("ordered"), auto_now_add=True)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        permissions = [("mark_order_paid", "Can mark an order paid (manual payments)")]
        constraints = [
            models.CheckConstraint(condition=Q(points__gt=0), name="order_points_positive"),
            models.CheckConstraint(condition=Q(price__gte=0), name="order_price_not_negative"),
            models.CheckConstraint(
                condition=Q(status=OrderStatus.PAID, paid_at__isnull=False)
                | (~Q(status=OrderStatus.PAID) & Q(paid_at__isnull=True)),
                name="order_paid_at_iff_paid",
            ),
        ]

    def __str__(self):
        return _("Order #%(id)s") % {"id": self.pk}


class LotKind(models.TextChoices):
    PURCHASE = "purchase", _("purchase")
    GRANT = "grant", _("grant")
    ADJUSTMENT = "adjustment", _("manual adjustment")
    RETURN = "return", _("return")


class LotQuerySet(models.QuerySet):
    def spendable(self, at):
        """Lots with points left that have not expired at `at` (expiry is a fact of time)."""
        return self.filter(remaining__gt=0, expires_at__gt=at)

    def consumption_order(self):
        """Soonest-expiring first; ties: earlier acquisition, then lower id."""
        return self.order_by("expires_at", "acquired_at", "id")


class Lot(models.Model):
    """Points that entered an account together. Unavailable from the instant `expires_at` passes."""

    # Indexed by lot_spendable_idx, which starts with it.
    account = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        related_name="lots",
        verbose_name=_("account"),
        db_index=False,
    )
    kind = models.CharField(_("kind"), max_length=12, choices=LotKind.choices)
    points = models.BigIntegerField(_("points"))
    remaining = models.BigIntegerField(_("remaining"))
    acquired_at = models.DateTimeField(_("acquired"))
    expires_at = models.DateTimeField(_("expires"))
    # Set by the expiry job when it has recorded the expiry of the unheld remainder.
    expired_at = models.DateTimeField(_("expiry recorded"), null=True, blank=True)
    # When the job e-mailed the expiry reminder for this lot (once per lot).
    reminded_at = models.DateTimeField(_("reminder sent"), null=True, blank=True)
    payment_reference = models.CharField(
        _("payment reference"), max_length=200, null=True, blank=True, unique=True
    )
    order = models.OneToOneField(
        Order,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lot",
        verbose_name=_("order"),
    )
    source_lot = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reissued_lots",
        verbose_name=_("reissued from"),
    )

    objects = LotQuerySet.as_manager()

    class Meta:
        ordering = ["expires_at", "acquired_at", "id"]
        verbose_name = _("lot")
        verbose_name_plural = _("lots")
        # Ledger permissions: they give an account points, so they belong to the ledger's model.
        permissions = [
            ("grant_points", "Can grant points to an account"),
            ("adjust_points", "Can make manual adjustments of an account's points"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(points__gt=0), name="lot_points_positive"),
            models.CheckConstraint(
                condition=Q(remaining__gte=0, remaining__lte=F("points")),
                name="lot_remaining_within_points",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("acquired_at")), name="lot_expires_after_acquired"
            ),
            models.CheckConstraint(
                condition=Q(kind=LotKind.PURCHASE, payment_reference__isnull=False)
                | (~Q(kind=LotKind.PURCHASE) & Q(payment_reference__isnull=True)),
                name="lot_purchase_has_payment_reference",
            ),
            models.CheckConstraint(
                condition=Q(kind=LotKind.RETURN, source_lot__isnull=False)
                | (~Q(kind=LotKind.RETURN) & Q(source_lot__isnull=True)),
                name="lot_return_has_source",
            ),
            models.CheckConstraint(
                condition=Q(order__isnull=True) | Q(kind=LotKind.PURCHASE),
                name="lot_order_only_on_purchase",
            ),
            models.CheckConstraint(
                condition=Q(expired_at__isnull=True) | Q(remaining=0),
                name="lot_expired_has_nothing_left",
            ),
        ]
        indexes = [
            # Not partial on `remaining`: an index that mentions the column makes every capture's
            # update of it a non-HOT update (a new index entry in every index of the table).
            models.Index(
                fields=["account", "expires_at", "acquired_at", "id"], name="lot_spendable_idx"
            ),
            models.Index(
                fields=["expires_at", "id"],
                condition=Q(expired_at__isnull=True),
                name="lot_due_expiry_idx",
            ),
        ]

    def __str__(self):
        return _("Lot #%(id)s (%(kind)s, %(points)s points)") % {
            "id": self.pk,
            "kind": self.get_kind_display(),
            "points": self.points,
        }


class HoldStatus(models.TextChoices):
    OPEN = "open", _("captured")
    SETTLED = "settled", _("deducted")
    RELEASED = "released", _("returned")
    REFUNDED = "refunded", _("returned after deduction")


class Hold(models.Model):
    """The points captured for one ticket. `amount` is what is held (open) or deducted (settled)."""

    # Indexed by hold_account_status_idx, which starts with it.
    account = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        related_name="holds",
        verbose_name=_("account"),
        db_index=False,
    )
    ticket = models.OneToOneField(
        "tickets.Ticket", on_delete=models.PROTECT, related_name="hold", verbose_name=_("ticket")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=HoldStatus.choices, default=HoldStatus.OPEN
    )
    amount = models.BigIntegerField(_("points"))
    created_at = models.DateTimeField(_("captured"))
    settled_at = models.DateTimeField(_("deducted"), null=True, blank=True)
    released_at = models.DateTimeField(_("returned"), null=True, blank=True)
    refunded_at = models.DateTimeField(_("returned after deduction"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("hold")
        verbose_name_plural = _("holds")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="hold_amount_not_negative"),
            # Settled or released once, never both; a refund only follows a settlement.
            models.CheckConstraint(
                condition=Q(
                    status=HoldStatus.OPEN,
                    settled_at__isnull=True,
                    released_at__isnull=True,
                    refunded_at__isnull=True,
                )
                | Q(
                    status=HoldStatus.SETTLED,
                    settled_at__isnull=False,
                    released_at__isnull=True,
                    refunded_at__isnull=True,
                )
                | Q(
                    status=HoldStatus.RELEASED,
                    settled_at__isnull=True,
                    released_at__isnull=False,
                    refunded_at__isnull=True,
                    amount=0,
                )
                | Q(
                    status=HoldStatus.REFUNDED,
                    settled_at__isnull=False,
                    released_at__isnull=True,
                    refunded_at__isnull=False,
                    amount=0,
                ),
                name="hold_status_matches_timestamps",
            ),
        ]
        indexes = [
            models.Index(
                fields=["account", "status", "-created_at"], name="hold_account_status_idx"
            ),
        ]

    def __str__(self):
        return _("Hold for ticket #%(ticket)s") % {"ticket": self.ticket_id}


class HoldAllocation(models.Model):
    """The part of a hold drawn from one lot."""

    # Indexed by the (hold, lot) unique constraint, which starts with it.
    hold = models.ForeignKey(
        Hold,
        on_delete=models.PROTECT,
        related_name="allocations",
        verbose_name=_("hold"),
        db_index=False,
    )
    lot = models.ForeignKey(
        Lot, on_delete=models.PROTECT, related_name="allocations", verbose_name=_("lot")
    )
    amount = models.BigIntegerField(_("points"))

    class Meta:
        verbose_name = _("hold allocation")
        verbose_name_plural = _("hold allocations")
        constraints = [
            models.UniqueConstraint(fields=["hold", "lot"], name="allocation_one_per_hold_and_lot"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="allocation_not_negative"),
        ]

    def __str__(self):
        return f"{self.amount} from lot #{self.lot_id}"


class EntryKind(models.TextChoices):
    """Each kind moves `amount` points of one lot from one bucket to another (see ENTRY_EFFECTS)."""

    PURCHASE = "purchase", _("purchase")
    GRANT = "grant", _("grant")
    ADJUSTMENT_CREDIT = "adjustment_credit", _("manual adjustment (+)")
    ADJUSTMENT_DEBIT = "adjustment_debit", _("manual adjustment (−)")
    RETURN_LOT = "return_lot", _("returned after expiry")
    CAPTURE = "capture", _("captured for a ticket")
    RELEASE = "release", _("returned from a ticket")
    RELEASE_REISSUED = "release_reissued", _("returned from a ticket into a new lot")
    SETTLE = "settle", _("deducted for a ticket")
    REFUND = "refund", _("returned after deduction")
    REFUND_REISSUED = "refund_reissued", _("returned after deduction into a new lot")
    EXPIRE = "expire", _("expired")
    ORDER_REFUND = "order_refund", _("refunded")


# For each entry kind, how its amount changes the lot's buckets: available (the lot's remaining),
# held (captured for tickets), deducted, expired, reissued (returned into a new lot after the lot
# expired), debited (manual negative adjustment) and refunded (unused points of a paid order whose
# money was given back). Lot points = the sum of the buckets.
ENTRY_EFFECTS: dict[str, dict[str, int]] = {
    EntryKind.PURCHASE: {"available": 1},
    EntryKind.GRANT: {"available": 1},
    EntryKind.ADJUSTMENT_CREDIT: {"available": 1},
    EntryKind.RETURN_LOT: {"available": 1},
    EntryKind.ADJUSTMENT_DEBIT: {"available": -1, "debited": 1},
    EntryKind.CAPTURE: {"available": -1, "held": 1},
    EntryKind.RELEASE: {"held": -1, "available": 1},
    EntryKind.RELEASE_REISSUED: {"held": -1, "reissued": 1},
    EntryKind.SETTLE: {"held": -1, "deducted": 1},
    EntryKind.REFUND: {"deducted": -1, "available": 1},
    EntryKind.REFUND_REISSUED: {"deducted": -1, "reissued": 1},
    EntryKind.EXPIRE: {"available": -1, "expired": 1},
    EntryKind.ORDER_REFUND: {"available": -1, "refunded": 1},
}
LOT_CREATING_KINDS = [
    EntryKind.PURCHASE,
    EntryKind.GRANT,
    EntryKind.ADJUSTMENT_CREDIT,
    EntryKind.RETURN_LOT,
]


class JournalIsAppendOnly(Exception):
    """Raised on any attempt to change or delete a journal entry."""


class EntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise JournalIsAppendOnly("Journal entries cannot be changed; add a compensating entry.")

    def delete(self):
        raise JournalIsAppendOnly("Journal entries cannot be deleted; add a compensating entry.")


class Entry(models.Model):
    """One journal line: `amount` points of one lot moved by one operation, with who and why."""

    # Indexed by entry_account_time_idx, which starts with it.
    account = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        related_name="entries",
        verbose_name=_("account"),
        db_index=False,
    )
    kind = models.CharField(_("kind"), max_length=20, choices=EntryKind.choices)
    amount = models.BigIntegerField(_("points"))
    # Indexed by entry_lot_kind_idx, which starts with it.
    lot = models.ForeignKey(
        Lot,
        on_delete=models.PROTECT,
        related_name="entries",
        verbose_name=_("lot"),
        db_index=False,
    )
    hold = models.ForeignKey(
        Hold,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entries",
        verbose_name=_("hold"),
    )
    order = models.ForeignKey(
        Order,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entries",
        verbose_name=_("order"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("when"))

    objects = EntryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="entry_amount_positive"),
            models.CheckConstraint(
                condition=Q(
                    kind__in=[
                        EntryKind.CAPTURE,
                        EntryKind.RELEASE,
                        EntryKind.RELEASE_REISSUED,
                        EntryKind.SETTLE,
                        EntryKind.REFUND,
                        EntryKind.REFUND_REISSUED,
                    ],
                    hold__isnull=False,
                )
                | Q(
                    kind__in=[
                        EntryKind.PURCHASE,
                        EntryKind.GRANT,
                        EntryKind.ADJUSTMENT_CREDIT,
                        EntryKind.ADJUSTMENT_DEBIT,
                        EntryKind.EXPIRE,
                        EntryKind.RETURN_LOT,
                        EntryKind.ORDER_REFUND,
                    ]
                ),
                name="entry_ticket_kinds_have_hold",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "-created_at", "-id"], name="entry_account_time_idx"),
            models.Index(fields=["lot", "kind"], name="entry_lot_kind_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.amount}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise JournalIsAppendOnly("Journal entries cannot be changed; add a compensating one.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise JournalIsAppendOnly("Journal entries cannot be deleted; add a compensating entry.")


def entry_available_change(kind: str, amount: int) -> int:
    """How an entry of this kind changes the account's available points (signed)."""
    return ENTRY_EFFECTS[kind].get("available", 0) * amount


def entry_captured_change(kind: str, amount: int) -> int:
    """How an entry of this kind changes the points captured for tickets (signed)."""
    return ENTRY_EFFECTS[kind].get("held", 0) * amount


class WebhookEvent(models.Model):
    """A payment provider's event, recorded once per provider and id: a replay changes nothing."""

    provider = models.CharField(_("provider"), max_length=NAME_MAX_LENGTH, choices=backend_choices)
    event_id = models.CharField(_("event id"), max_length=200)
    event_type = models.CharField(_("event type"), max_length=100)
    order = models.ForeignKey(
        Order,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="webhook_events",
        verbose_name=_("order"),
    )
    payload = models.JSONField(_("payload"))
    received_at = models.DateTimeField(_("received"))

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("payment provider event")
        verbose_name_plural = _("payment provider events")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "event_id"], name="webhook_event_once_per_provider"
            ),
        ]

    def __str__(self):
        return f"{self.event_type} {self.event_id}"


class BalanceAlert(models.Model):
    """An account's low-balance alert: the threshold its owner set (none: the default setting; 0:
    off), who else opted in, and whether the e-mail went out since available points last stood
    at or above the threshold (so one e-mail per fall)."""

    account = models.OneToOneField(
        Account,
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="balance_alert",
        verbose_name=_("account"),
    )
    threshold = models.BigIntegerField(_("alert below"), null=True, blank=True)
    below = models.BooleanField(_("alert sent"), default=False)
    subscribers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("also e-mailed")
    )

    class Meta:
        verbose_name = _("low-balance alert")
        verbose_name_plural = _("low-balance alerts")
        constraints = [
            models.CheckConstraint(
                condition=Q(threshold__isnull=True) | Q(threshold__gte=0),
                name="balance_alert_threshold_not_negative",
            ),
        ]

    def __str__(self):
        return str(self.account)
