"""The audit trail: one append-only row per staff action.

It stands low in the layers so that every app's services can record what staff did: the account is
a plain id (accounts stand above) and the object acted on a generic reference.
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditKind(models.TextChoices):
    COST_CHANGED = "cost_changed", _("ticket cost changed")
    TIME_LOGGED = "time_logged", _("time logged")
    URGENCY_REMOVED = "urgency_removed", _("HotRush removed")
    QUOTE_SET = "quote_set", _("quote given")
    RECONSIDERATION_DECIDED = "reconsideration_decided", _("reconsideration decided")
    TICKET_RESOLVED = "ticket_resolved", _("ticket resolved")
    SOFTWARE_BUG = "software_bug", _("software bug: points returned")
    POINTS_GRANTED = "points_granted", _("points granted")
    POINTS_ADJUSTED = "points_adjusted", _("points adjusted")
    REFUND = "refund", _("refund")
    ORDER_MARKED_PAID = "order_marked_paid", _("order marked paid")
    ACCESS_DETAILS_VIEWED = "access_details_viewed", _("access details viewed")
    USER_CREATED = "user_created", _("user created")
    USER_CHANGED = "user_changed", _("user changed")
    ACCOUNT_CHANGED = "account_changed", _("customer account or its users changed")
    PERMISSIONS_CHANGED = "permissions_changed", _("permissions changed")
    DEVICE_RESET = "device_reset", _("two-factor device reset")
    ERASURE_APPROVED = "erasure_approved", _("personal data erased")


class AuditEvent(models.Model):
    created_at = models.DateTimeField(_("when"), default=timezone.now, editable=False)
    # Nobody who acted may vanish from the trail: a person's row is anonymized, never deleted.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
        help_text=_("Empty: the HelpDesk itself (a job or a command)."),
    )
    kind = models.CharField(_("what"), max_length=40, choices=AuditKind.choices)
    account_id = models.PositiveBigIntegerField(_("account"), null=True, blank=True)
    content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    changes = models.JSONField(
        _("before and after"),
        default=dict,
        blank=True,
        help_text=_("{field: [before, after]}, or the values the action set."),
    )
    reason = models.TextField(_("reason"), blank=True)
    client_address = models.GenericIPAddressField(_("client address"), null=True, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit trail")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="audit_event_recent_idx"),
            models.Index(fields=["kind", "-created_at"], name="audit_event_kind_idx"),
            models.Index(fields=["actor", "-created_at"], name="audit_event_actor_idx"),
            models.Index(fields=["account_id", "-created_at"], name="audit_event_account_idx"),
            models.Index(fields=["content_type", "object_id"], name="audit_event_object_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(content_type__isnull=True, object_id="")
                | (Q(content_type__isnull=False) & ~Q(object_id="")),
                name="audit_event_object_whole",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=AuditKind.values), name="audit_event_kind_known"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def object_label(self) -> str:
        if self.content_type_id is None:
            return ""
        return f"{self.content_type.name} #{self.object_id}"
