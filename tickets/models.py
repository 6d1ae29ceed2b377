from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class TicketStatus(models.TextChoices):
    AWAITING_QUOTE = "awaiting_quote", _("awaiting quote")
    OPEN = "open", _("open")
    IN_PROGRESS = "in_progress", _("in progress")
    WAITING_FOR_CUSTOMER = "waiting_for_customer", _("waiting for customer")
    RESOLVED = "resolved", _("resolved")
    CLOSED = "closed", _("closed")
    CANCELLED = "cancelled", _("cancelled")


class TicketOutcome(models.TextChoices):
    SOLVED = "solved", _("solved")
    SOFTWARE_BUG = "software_bug", _("software bug (points returned)")


class Ticket(models.Model):
    """One incident: a single issue, however much correspondence it takes."""

    account = models.ForeignKey(
        "points.Account", on_delete=models.PROTECT, related_name="tickets", verbose_name=_("account")
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="filed_tickets",
        verbose_name=_("filed by"),
    )
    category = models.ForeignKey(
        "catalog.IssueCategory",
        on_delete=models.PROTECT,
        related_name="tickets",
        verbose_name=_("category"),
    )
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=24, choices=TicketStatus.choices, default=TicketStatus.OPEN
    )
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=TicketOutcome.choices, blank=True
    )
    is_urgent = models.BooleanField(_("urgent"), default=False)
    quote_first = models.BooleanField(_("quote first"), default=False)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tickets",
        verbose_name=_("assignee"),
    )
    created_at = models.DateTimeField(_("filed"))
    last_activity_at = models.DateTimeField(_("last activity"))
    first_response_due_at = models.DateTimeField(_("first response due"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        ordering = ["-last_activity_at", "-id"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome="") | Q(status__in=["resolved", "closed"]),
                name="ticket_outcome_only_when_resolved",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "-last_activity_at"], name="ticket_account_activity_idx"),
            models.Index(fields=["status", "first_response_due_at"], name="ticket_queue_idx"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.subject}"

    def get_absolute_url(self):
        return reverse("tickets:detail", args=[self.pk])
