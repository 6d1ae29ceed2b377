"""Receipts and credit notes (documents that never change once issued), the per-year counters
that number them without gaps, and the billing details an account owner keeps for them.

A document copies everything it prints when it is issued (seller, buyer, amounts), so a later
change of settings, package or billing details never alters a document already sent.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from points.models import Order

NUMBER_MAX_LENGTH = 20


class DocumentKind(models.TextChoices):
    RECEIPT = "receipt", _("receipt")
    CREDIT_NOTE = "credit_note", _("credit note")


class DocumentIsImmutable(Exception):
    """Raised on any attempt to change or delete an issued receipt or credit note."""


class ImmutableQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise DocumentIsImmutable("An issued document cannot be changed; issue a credit note.")

    def delete(self):
        raise DocumentIsImmutable("An issued document cannot be deleted; issue a credit note.")


class ImmutableDocument(models.Model):
    """What receipts and credit notes share: their number, the parties and the amounts."""

    number = models.CharField(_("number"), max_length=NUMBER_MAX_LENGTH, unique=True)
    year = models.PositiveSmallIntegerField(_("year"))
    sequence = models.PositiveIntegerField(_("sequence"))
    issued_at = models.DateTimeField(_("issued"))
    seller_name = models.CharField(_("seller"), max_length=200)
    seller_address = models.TextField(_("seller address"), blank=True)
    seller_tax_id = models.CharField(_("seller tax id"), max_length=50, blank=True)
    buyer_name = models.CharField(_("account"), max_length=200)
    buyer_company = models.CharField(_("company"), max_length=200, blank=True)
    buyer_address = models.TextField(_("address"), blank=True)
    buyer_tax_id = models.CharField(_("tax id"), max_length=50, blank=True)
    points = models.BigIntegerField(_("points"))
    net = models.DecimalField(_("net amount"), max_digits=12, decimal_places=2)
    tax = models.DecimalField(_("tax"), max_digits=12, decimal_places=2)
    gross = models.DecimalField(_("total"), max_digits=12, decimal_places=2)
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=4, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-issued_at", "-id"]

    def __str__(self):
        return self.number

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise DocumentIsImmutable("An issued document cannot be changed; issue a credit note.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise DocumentIsImmutable("An issued document cannot be deleted; issue a credit note.")


def _amount_constraints(prefix: str) -> list[models.BaseConstraint]:
    return [
        models.CheckConstraint(
            condition=Q(net__gte=0, tax__gte=0, gross=F("net") + F("tax")),
            name=f"{prefix}_gross_is_net_plus_tax",
        ),
        models.CheckConstraint(
            condition=Q(tax_rate__gte=0, tax_rate__lt=100), name=f"{prefix}_tax_rate_in_range"
        ),
        models.UniqueConstraint(fields=["year", "sequence"], name=f"{prefix}_one_per_number"),
    ]


class Receipt(ImmutableDocument):
    """The document for a paid order (one per order)."""

    order = models.OneToOneField(
        Order, on_delete=models.PROTECT, related_name="receipt", verbose_name=_("order")
    )
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="receipts", verbose_name=_("account")
    )
    package_name = models.CharField(_("package"), max_length=120)
    payment_backend = models.CharField(_("paid through"), max_length=100)
    payment_reference = models.CharField(_("payment reference"), max_length=200)
    paid_at = models.DateTimeField(_("paid"))

    class Meta(ImmutableDocument.Meta):
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        permissions = [("refund_order", "Can refund a paid order (issues a credit note)")]
        constraints = [
            *_amount_constraints("receipt"),
            models.CheckConstraint(condition=Q(points__gt=0), name="receipt_points_positive"),
        ]


class CreditNote(ImmutableDocument):
    """The document for a refund: the points removed and the money returned, against a receipt."""

    receipt = models.OneToOneField(
        Receipt, on_delete=models.PROTECT, related_name="credit_note", verbose_name=_("receipt")
    )
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="credit_notes", verbose_name=_("account")
    )
    reason = models.TextField(_("reason"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("issued by"),
    )

    class Meta(ImmutableDocument.Meta):
        verbose_name = _("credit note")
        verbose_name_plural = _("credit notes")
        constraints = [
            *_amount_constraints("credit_note"),
            models.CheckConstraint(condition=Q(points__gte=0), name="credit_note_points_known"),
            models.CheckConstraint(condition=Q(gross__gt=0), name="credit_note_refunds_money"),
        ]


class DocumentSequence(models.Model):
    """The last number given to a kind of document in a year. Incremented in the transaction that
    issues the document, so numbers are gap-free: a rolled-back issue gives its number back."""

    kind = models.CharField(_("kind"), max_length=12, choices=DocumentKind.choices)
    year = models.PositiveSmallIntegerField(_("year"))
    last = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("document sequence")
        verbose_name_plural = _("document sequences")
        constraints = [
            models.UniqueConstraint(fields=["kind", "year"], name="sequence_one_per_kind_and_year"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.year}: {self.last}"


class BillingDetails(models.Model):
    """Who the account's documents are made out to (edited by the account owner)."""

    account = models.OneToOneField(
        Account, on_delete=models.PROTECT, related_name="billing_details", verbose_name=_("account")
    )
    company = models.CharField(_("company"), max_length=200, blank=True)
    address = models.TextField(_("address"), max_length=1000, blank=True)
    tax_id = models.CharField(_("tax id"), max_length=50, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("billing details")
        verbose_name_plural = _("billing details")

    def __str__(self):
        return self.company or str(self.account)
