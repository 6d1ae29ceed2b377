"""Credentials of the REST API and the record of idempotent requests.

Secrets are shown once when made and stored only as their SHA-256 (they are long random strings,
so a fast hash is enough: nothing to guess from it). `prefix` is the public start of the secret,
shown in lists so people can tell their credentials apart.
"""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

NAME_MAX_CHARS = 100
IDEMPOTENCY_KEY_MAX_CHARS = 255


class ApiToken(models.Model):
    """A personal token: it acts as its user, for the user's account only."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(_("name"), max_length=NAME_MAX_CHARS)
    prefix = models.CharField(_("starts with"), max_length=16)
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("personal API token")
        verbose_name_plural = _("personal API tokens")
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="api_token_name_not_empty"),
        ]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"


class IntegrationKey(models.Model):
    """A key of one of the vendor's systems (the shop, the licensing system), with explicit
    permissions. What it does is recorded as done by the staff member who created it."""

    name = models.CharField(_("name"), max_length=NAME_MAX_CHARS)
    prefix = models.CharField(_("starts with"), max_length=16, editable=False)
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    can_read_accounts = models.BooleanField(
        _("read all accounts"), default=False, help_text=_("Statements and tickets of accounts.")
    )
    can_manage_accounts = models.BooleanField(
        _("manage accounts"), default=False, help_text=_("Find or create accounts, add users.")
    )
    can_grant_points = models.BooleanField(
        _("grant points"), default=False, help_text=_("Grants and manual adjustments.")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("integration key")
        verbose_name_plural = _("integration keys")
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="integration_key_name_not_empty"),
        ]

    def __str__(self):
        return self.name


class IdempotencyRecord(models.Model):
    """The first response to a POST sent with an `Idempotency-Key`, replayed for its retries.

    `scope` is the credential that sent it ("token:12", "key:3", "user:7"): one client's keys
    never meet another's. The unique constraint is what makes concurrent retries run once.
    """

    scope = models.CharField(max_length=40)
    key = models.CharField(max_length=IDEMPOTENCY_KEY_MAX_CHARS)
    request_hash = models.CharField(max_length=64)
    # Set in the transaction that inserted the row, so a committed row always has them.
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("idempotent request")
        verbose_name_plural = _("idempotent requests")
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_scope_key_unique"),
        ]

    def __str__(self):
        return f"{self.scope} {self.key}"


class ShopCustomer(models.Model):
    """The shop's own id of a customer, tied to the account made or found for them."""

    external_id = models.CharField(_("shop customer id"), max_length=100, unique=True)
    account = models.OneToOneField(
        "accounts.Account",
        on_delete=models.PROTECT,
        related_name="shop_customer",
        verbose_name=_("account"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("shop customer")
        verbose_name_plural = _("shop customers")
        constraints = [
            models.CheckConstraint(condition=~Q(external_id=""), name="shop_customer_id_not_empty"),
        ]

    def __str__(self):
        return self.external_id


class WebhookEvent(models.TextChoices):
    TICKET_CREATED = "ticket.created", _("ticket created")
    TICKET_REPLIED = "ticket.replied", _("ticket replied")
    TICKET_COST_CHANGED = "ticket.cost_changed", _("ticket cost changed")
    TICKET_RESOLVED = "ticket.resolved", _("ticket resolved")
    TICKET_RETURNED_AS_BUG = "ticket.returned_as_bug", _("ticket returned as a software bug")
    POINTS_PURCHASED = "points.purchased", _("points purchased")
    POINTS_GRANTED = "points.granted", _("points granted")
    POINTS_EXPIRING = "points.expiring_soon", _("points expiring soon")
    POINTS_EXPIRED = "points.expired", _("points expired")
    BALANCE_LOW = "balance.low", _("balance fell below the alert threshold")


class WebhookSubscription(models.Model):
    """A URL of an integration that receives events (of every account), signed with `secret`."""

    integration_key = models.ForeignKey(
        IntegrationKey,
        on_delete=models.PROTECT,
        related_name="webhook_subscriptions",
        verbose_name=_("integration key"),
    )
    url = models.URLField(_("URL"), max_length=500)
    events = models.JSONField(_("events"), default=list, help_text=_("Event types it receives."))
    # Kept readable: every delivery is signed with it (HMAC-SHA256), as the receiver verifies.
    secret = models.CharField(_("signing secret"), max_length=100, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")

    def __str__(self):
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    DELIVERED = "delivered", _("delivered")
    FAILED = "failed", _("failed (gave up)")


class WebhookDelivery(models.Model):
    """One event to one subscription: its signed body, attempts and the last answer."""

    subscription = models.ForeignKey(
        WebhookSubscription,
        on_delete=models.PROTECT,
        related_name="deliveries",
        verbose_name=_("subscription"),
    )
    event_id = models.UUIDField(_("event id"), unique=True)
    event = models.CharField(_("event"), max_length=40, choices=WebhookEvent.choices)
    payload = models.JSONField(_("payload"), encoder=DjangoJSONEncoder)
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(
        _("last HTTP status"), null=True, blank=True
    )
    last_response = models.TextField(_("last response"), blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"))
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            models.Index(
                fields=["subscription", "status", "id"], name="webhook_delivery_queue_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=DeliveryStatus.PENDING) | Q(next_attempt_at__isnull=False),
                name="webhook_delivery_pending_is_scheduled",
            ),
        ]

    def __str__(self):
        return f"{self.event} → {self.subscription}"
