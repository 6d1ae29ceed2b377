from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class InboundStatus(models.TextChoices):
    ACCEPTED = "accepted", _("accepted")
    REJECTED = "rejected", _("rejected")


class InboundSource(models.TextChoices):
    IMAP = "imap", _("IMAP mailbox")
    PIPE = "pipe", _("MTA pipe")
    HTTP = "http", _("inbound endpoint")
    DROP = "drop", _("drop folder")


class InboundEmail(models.Model):
    """One e-mail received, once: what became of it and why (`mail.services.inbound_ingest`).

    `message_key` is its Message-ID, or a digest of its bytes when it has none: the same e-mail
    delivered twice (by IMAP and the pipe, or fetched again after a crash) finds its row.
    """

    message_key = models.CharField(_("Message-ID"), max_length=998, unique=True)
    source = models.CharField(_("received through"), max_length=8, choices=InboundSource.choices)
    received_at = models.DateTimeField(_("received"))
    raw_size = models.PositiveIntegerField(_("size (bytes)"))
    sender = models.CharField(_("from"), max_length=254, blank=True)
    # The address it was routed by: a ticket's reply address or the support address.
    recipient = models.CharField(_("to"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=InboundStatus.choices)
    # A stable code of what happened (reply, new_ticket, bounce, unknown_sender, spoofed…).
    outcome = models.CharField(_("outcome"), max_length=30)
    reason = models.TextField(_("reason"), blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="inbound_emails",
        verbose_name=_("ticket"),
    )
    message = models.ForeignKey(
        "tickets.Message",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("message"),
    )
    # Whether the sender was answered (the unknown-sender answer goes out once a day at most).
    answered = models.BooleanField(_("answered"), default=False)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("inbound e-mail")
        verbose_name_plural = _("inbound e-mails")
        constraints = [
            models.CheckConstraint(
                condition=Q(message__isnull=True) | Q(ticket__isnull=False),
                name="inbound_message_has_ticket",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["accepted", "rejected"]), name="inbound_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["sender", "outcome", "received_at"], name="inbound_sender_idx"),
        ]

    def __str__(self):
        return f"{self.sender} — {self.subject or self.message_key}"
