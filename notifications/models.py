from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """An e-mail to send (the transactional outbox): written in the transaction that caused it,
    sent after commit by a Celery task, or by the outbox drain when that task never ran.

    About one row, its subject (a ticket, an account…), or about nothing in particular. `context`
    holds JSON values and references to rows (model label and primary key): the e-mail is
    rendered from what those rows say when it is sent, for the recipients its event names then.
    """

    event = models.CharField(_("event"), max_length=40)
    subject_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    subject_id = models.PositiveBigIntegerField(null=True, blank=True)
    subject = GenericForeignKey("subject_type", "subject_id")
    # What the subject was called when the e-mail was queued, for staff reading the outbox.
    about = models.CharField(_("about"), max_length=250, blank=True)
    context = models.JSONField(_("context"), default=dict, blank=True)
    created_at = models.DateTimeField(_("queued"))
    # The outbox drain leaves a row alone until then: first for a short grace period (the
    # after-commit task normally sends it), then with a growing delay after each failure.
    next_attempt_at = models.DateTimeField(_("next attempt"))
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    # Who it went to, recorded when sent (empty when nobody was to be told).
    recipients = models.JSONField(_("recipients"), default=list, blank=True)
    # Recipients whose mail server reported the e-mail undeliverable (a bounce read by the e-mail
    # channel): [{"address": …, "status": "5.1.1", "at": ISO time}].
    failed_recipients = models.JSONField(_("undeliverable to"), default=list, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("e-mail notification")
        verbose_name_plural = _("e-mail notifications")
        constraints = [
            models.CheckConstraint(
                condition=Q(subject_type__isnull=True, subject_id__isnull=True)
                | Q(subject_type__isnull=False, subject_id__isnull=False),
                name="outbox_subject_whole_or_none",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=Q(sent_at__isnull=True),
                name="outbox_unsent_idx",
            ),
            models.Index(fields=["subject_type", "subject_id"], name="outbox_subject_idx"),
        ]

    def __str__(self):
        return f"{self.event} #{self.pk}"
