from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .rendering import stored_html


class TicketStatus(models.TextChoices):
    AWAITING_QUOTE = "awaiting_quote", _("awaiting quote")
    OPEN = "open", _("open")
    IN_PROGRESS = "in_progress", _("in progress")
    WAITING_FOR_CUSTOMER = "waiting_for_customer", _("waiting for customer")
    RESOLVED = "resolved", _("resolved")
    CLOSED = "closed", _("closed")
    CANCELLED = "cancelled", _("cancelled")


# Statuses in which work is going on and points stay captured.
ACTIVE_STATUSES = [
    TicketStatus.AWAITING_QUOTE,
    TicketStatus.OPEN,
    TicketStatus.IN_PROGRESS,
    TicketStatus.WAITING_FOR_CUSTOMER,
]


# Tickets still waiting for their first response: the SLA clock runs.
AWAITING_FIRST_RESPONSE = Q(status__in=ACTIVE_STATUSES, first_response_at__isnull=True)


class TicketOutcome(models.TextChoices):
    SOLVED = "solved", _("solved")
    SOFTWARE_BUG = "software_bug", _("software bug (points returned)")


class TicketQuerySet(models.QuerySet):
    def for_account(self, account):
        return self.filter(account=account)


class Ticket(models.Model):
    """One incident: a single issue, however much correspondence it takes."""

    account = models.ForeignKey(
        "accounts.Account",
        on_delete=models.PROTECT,
        related_name="tickets",
        verbose_name=_("account"),
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
    # When staff asked the customer to buy points for a higher cost; cleared by any status move.
    points_requested_at = models.DateTimeField(_("points asked for"), null=True, blank=True)
    # The e-mails about the ticket, in the outbox (`Notification.objects.filter(ticket=...)`).
    notifications = GenericRelation(
        "notifications.Notification",
        content_type_field="subject_type",
        object_id_field="subject_id",
        related_query_name="ticket",
    )

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-last_activity_at", "-id"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        permissions = [
            (
                "change_ticket_cost",
                "Can change ticket cost: set cost, quote, log time, remove urgency, "
                "decide reconsiderations, resolve, return points for a software bug",
            ),
            ("view_access_details", "Can reveal customers' server access details"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome="")
                | Q(status__in=[TicketStatus.RESOLVED, TicketStatus.CLOSED]),
                name="ticket_outcome_only_when_resolved",
            ),
        ]
        indexes = [
            models.Index(
                fields=["account", "-last_activity_at"], name="ticket_account_activity_idx"
            ),
            models.Index(fields=["status", "first_response_due_at"], name="ticket_queue_idx"),
            # The staff queue's default order (tickets.admin_selectors.QUEUE_ORDERING): without
            # it every queue page sorts all tickets.
            models.Index(
                Case(
                    When(AWAITING_FIRST_RESPONSE, then=Value(0)),
                    default=Value(1),
                    output_field=models.IntegerField(),
                ),
                Case(When(AWAITING_FIRST_RESPONSE, then=F("first_response_due_at"))),
                F("last_activity_at").desc(),
                F("id").desc(),
                name="ticket_staff_queue_order_idx",
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.subject}"

    def get_absolute_url(self):
        return reverse("tickets:detail", args=[self.pk])


class StatusChange(models.Model):
    """Every status move, made by `tickets.services.ticket_move` only."""

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="status_changes")
    from_status = models.CharField(max_length=24, choices=TicketStatus.choices, blank=True)
    to_status = models.CharField(max_length=24, choices=TicketStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")

    def __str__(self):
        return f"{self.from_status or '—'} → {self.to_status}"


class Message(models.Model):
    """One message of a ticket's thread. Internal notes are for staff only."""

    ticket = models.ForeignKey(
        Ticket, on_delete=models.PROTECT, related_name="messages", verbose_name=_("ticket")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="ticket_messages",
        verbose_name=_("author"),
    )
    body = models.TextField(_("message"))
    # The body's Markdown as sanitized HTML, rendered when it is written (tickets.rendering).
    body_html = models.TextField(_("message as HTML"), blank=True, editable=False)
    body_html_version = models.PositiveSmallIntegerField(default=0, editable=False)
    is_internal = models.BooleanField(_("internal note"), default=False)
    is_from_staff = models.BooleanField(_("from staff"), default=False)
    created_at = models.DateTimeField(_("sent"))

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.CheckConstraint(
                condition=Q(is_internal=False) | Q(is_from_staff=True),
                name="message_internal_only_from_staff",
            ),
        ]
        indexes = [models.Index(fields=["ticket", "created_at"], name="message_thread_idx")]

    def __str__(self):
        return _("Message #%(id)s on ticket #%(ticket)s") % {
            "id": self.pk,
            "ticket": self.ticket_id,
        }

    @property
    def rendered_body(self):
        return stored_html(self.body, self.body_html, self.body_html_version)


class Attachment(models.Model):
    """A file sent with a message; served only through a permission-checked view."""

    message = models.ForeignKey(
        Message, on_delete=models.PROTECT, related_name="attachments", verbose_name=_("message")
    )
    file = models.FileField(_("file"), upload_to="attachments/%Y/%m/")
    name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    created_at = models.DateTimeField(_("uploaded"))

    class Meta:
        ordering = ["id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("tickets:attachment", args=[self.message.ticket_id, self.pk])


class CostChangeKind(models.TextChoices):
    CAPTURED = "captured", _("price captured")
    CHANGED = "changed", _("cost changed")
    QUOTE_ACCEPTED = "quote_accepted", _("quote accepted")
    TIME_LOGGED = "time_logged", _("time logged")
    URGENCY_REMOVED = "urgency_removed", _("urgency removed")
    RECONSIDERED = "reconsidered", _("lowered on reconsideration")
    DEDUCTED = "deducted", _("deducted on resolution")
    RETURNED = "returned", _("returned")
    URGENCY_COMPENSATED = "urgency_compensated", _("HotRush surcharge returned")


class CostChange(models.Model):
    """The ticket's cost history, shown to the customer with each reason."""

    ticket = models.ForeignKey(
        Ticket, on_delete=models.PROTECT, related_name="cost_changes", verbose_name=_("ticket")
    )
    kind = models.CharField(_("change"), max_length=20, choices=CostChangeKind.choices)
    old_points = models.BigIntegerField(_("from"), null=True, blank=True)
    new_points = models.BigIntegerField(_("to"))
    reason = models.TextField(_("reason"), blank=True)
    outside_bounds = models.BooleanField(_("outside the category's bounds"), default=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(_("when"))

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("cost change")
        verbose_name_plural = _("cost changes")
        constraints = [
            models.CheckConstraint(
                condition=Q(new_points__gte=0)
                & (Q(old_points__isnull=True) | Q(old_points__gte=0)),
                name="cost_change_not_negative",
            ),
            # A late HotRush first response is compensated once (tickets.services.hotrush).
            models.UniqueConstraint(
                fields=["ticket"],
                condition=Q(kind=CostChangeKind.URGENCY_COMPENSATED),
                name="cost_change_hotrush_compensated_once",
            ),
        ]

    def __str__(self):
        return f"{self.old_points} → {self.new_points}"


class QuoteStatus(models.TextChoices):
    PENDING = "pending", _("waiting for the customer")
    ACCEPTED = "accepted", _("accepted")
    DECLINED = "declined", _("declined")
    SUPERSEDED = "superseded", _("replaced by a newer quote")


class Quote(models.Model):
    ticket = models.ForeignKey(
        Ticket, on_delete=models.PROTECT, related_name="quotes", verbose_name=_("ticket")
    )
    points = models.BigIntegerField(_("points"))
    note = models.TextField(_("what it covers"))
    note_html = models.TextField(_("what it covers, as HTML"), blank=True, editable=False)
    note_html_version = models.PositiveSmallIntegerField(default=0, editable=False)
    status = models.CharField(
        _("status"), max_length=12, choices=QuoteStatus.choices, default=QuoteStatus.PENDING
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    created_at = models.DateTimeField(_("quoted"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        constraints = [
            models.CheckConstraint(condition=Q(points__gte=0), name="quote_points_not_negative"),
            models.UniqueConstraint(
                fields=["ticket"],
                condition=Q(status=QuoteStatus.PENDING),
                name="quote_one_pending_per_ticket",
            ),
        ]

    def __str__(self):
        return _("Quote of %(points)s points") % {"points": self.points}

    @property
    def rendered_note(self):
        return stored_html(self.note, self.note_html, self.note_html_version)


class ReconsiderationStatus(models.TextChoices):
    PENDING = "pending", _("waiting for a decision")
    LOWERED = "lowered", _("cost lowered")
    DECLINED = "declined", _("declined")


class ReconsiderationRequest(models.Model):
    ticket = models.ForeignKey(
        Ticket, on_delete=models.PROTECT, related_name="reconsiderations", verbose_name=_("ticket")
    )
    message = models.TextField(_("why the cost should be reconsidered"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("asked"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ReconsiderationStatus.choices,
        default=ReconsiderationStatus.PENDING,
    )
    decision_reason = models.TextField(_("decision"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("reconsideration request")
        verbose_name_plural = _("reconsideration requests")
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"],
                condition=Q(status=ReconsiderationStatus.PENDING),
                name="reconsideration_one_pending_per_ticket",
            ),
        ]

    def __str__(self):
        return _("Reconsideration of ticket #%(ticket)s") % {"ticket": self.ticket_id}


class TimeLog(models.Model):
    """Work time on an hourly ticket; the cost is the rate × total hours, rounded up."""

    ticket = models.ForeignKey(
        Ticket, on_delete=models.PROTECT, related_name="time_logs", verbose_name=_("ticket")
    )
    minutes = models.PositiveIntegerField(_("minutes"))
    note = models.TextField(_("work done"))
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("logged"))

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("time log")
        verbose_name_plural = _("time logs")
        constraints = [
            models.CheckConstraint(condition=Q(minutes__gt=0), name="time_log_minutes_positive"),
        ]

    def __str__(self):
        return _("%(minutes)s minutes") % {"minutes": self.minutes}


class Rating(models.Model):
    ticket = models.OneToOneField(
        Ticket, on_delete=models.PROTECT, related_name="rating", verbose_name=_("ticket")
    )
    score = models.PositiveSmallIntegerField(_("rating"))
    comment = models.TextField(_("comment"), blank=True)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("rated"))

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=1, score__lte=5), name="rating_score_1_to_5"
            ),
        ]

    def __str__(self):
        return f"{self.score}/5"


class AccessDetails(models.Model):
    """Server access a customer gives staff for one ticket: encrypted, erased after close."""

    ticket = models.OneToOneField(
        Ticket, on_delete=models.PROTECT, related_name="access_details", verbose_name=_("ticket")
    )
    ciphertext = models.BinaryField(_("encrypted details"), null=True, blank=True)
    provided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(_("provided"))
    erased_at = models.DateTimeField(_("erased"), null=True, blank=True)

    class Meta:
        verbose_name = _("access details")
        verbose_name_plural = _("access details")
        constraints = [
            models.CheckConstraint(
                condition=Q(erased_at__isnull=True, ciphertext__isnull=False)
                | Q(erased_at__isnull=False, ciphertext__isnull=True),
                name="access_details_erased_means_empty",
            ),
        ]

    def __str__(self):
        return _("Access details for ticket #%(ticket)s") % {"ticket": self.ticket_id}


class AccessDetailsView(models.Model):
    """Each time a staff member decrypted a ticket's access details."""

    access_details = models.ForeignKey(
        AccessDetails, on_delete=models.PROTECT, related_name="views"
    )
    viewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    viewed_at = models.DateTimeField()

    class Meta:
        ordering = ["-viewed_at", "-id"]
        verbose_name = _("access details view")
        verbose_name_plural = _("access details views")

    def __str__(self):
        return f"{self.viewed_by} at {self.viewed_at:%Y-%m-%d %H:%M}"
